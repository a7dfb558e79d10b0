"""Bernoulli failure bits drawn directly in packed form, 64 trials per ``uint64`` word.

Never one uniform per element per trial. Two exact methods, chosen per probability p:

**Bit-slicing** (p ≥ 1/32). Round p to k = 32 binary digits, p̂ = m / 2^k with
m = round(p·2^k), so |p̂ − p| ≤ 2^−(k+1) ≈ 1.2·10^−10. With the digits d_k … d_1 of m from
least to most significant and k independent uniformly random words U_i, set r = 0 and then,
for each digit in that order, r = r | U_i when the digit is 1, r = r & U_i when it is 0. Each
bit of r is then 1 with probability exactly Σ d_i 2^{i−k−1} = p̂, independently across bits:
an OR with a fair bit maps probability q to (1 + q)/2, an AND to q/2. Digits below m's lowest
set bit are skipped (r stays 0), so p = 1/2 costs one word. Cost: at most k random words per
output word, for all 64 trials at once.

**Geometric skipping** (0 < p < 1/32). The gaps between successive failures in a Bernoulli
sequence are geometric; trial positions are the cumulative sums of geometric(p) draws, drawn
until they pass the end of the chunk, and the bits are set by scatter. Exact in p (to float64),
cost proportional to the expected number of failures p·64·W — a few draws per chunk for the
10^−4…10^−3 unavailabilities of real elements.

p = 0 draws nothing; p = 1 gives all ones. The output depends only on the generator's state
and on p, so equal seeds give equal bits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "GEOMETRIC_BELOW",
    "PRECISION_BITS",
    "PackedDraw",
    "bernoulli_draw",
    "bernoulli_words",
    "hashed_bits",
    "realised_probability",
]

#: Binary digits of p kept by bit-slicing: the realised probability is within 2^-33 of p.
PRECISION_BITS = 32
#: Below this probability, geometric skipping is used instead of bit-slicing.
GEOMETRIC_BELOW = 1.0 / 32.0

U64 = npt.NDArray[np.uint64]
_ONE = np.uint64(1)


def realised_probability(p: float) -> float:
    """The probability the sampler realises for ``p`` (p itself below ``GEOMETRIC_BELOW``)."""
    if p <= 0 or p >= 1 or p < GEOMETRIC_BELOW:
        return min(max(p, 0.0), 1.0)
    return round(p * 2**PRECISION_BITS) / 2**PRECISION_BITS


@dataclass(frozen=True)
class PackedDraw:
    """Bernoulli bits as drawn: dense words for some rows, failure positions for the others.

    Attributes:
        n_rows, n_words: Shape of the full packed array.
        dense_rows: Rows held as words (p ≥ ``GEOMETRIC_BELOW``, or p = 1).
        dense: ``uint64 (len(dense_rows), n_words)``.
        sparse_rows: Rows held as positions (0 < p < ``GEOMETRIC_BELOW``).
        positions: Set trial positions, grouped by row (ascending within a row).
        owners: For each position, its index into ``sparse_rows``.
        lazy_rows: Rows drawn by hashing (see :func:`hashed_bits`), evaluated on demand.
        lazy_keys: The hash key of each lazy row.
        lazy_p: The probability of each lazy row.
    """

    n_rows: int
    n_words: int
    dense_rows: npt.NDArray[np.intp]
    dense: U64
    sparse_rows: npt.NDArray[np.intp]
    positions: npt.NDArray[np.int64]
    owners: npt.NDArray[np.int64]
    lazy_rows: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    lazy_keys: U64 = field(default_factory=lambda: np.zeros(0, np.uint64))
    lazy_p: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    def words(self) -> U64:
        """The full packed array, ``uint64 (n_rows, n_words)``."""
        out = np.zeros((self.n_rows, self.n_words), dtype=np.uint64)
        out[self.dense_rows] = self.dense
        trials = np.arange(64 * self.n_words, dtype=np.int64)
        for row, key, p in zip(self.lazy_rows, self.lazy_keys, self.lazy_p, strict=True):
            bits = np.packbits(hashed_bits(key, p, trials), bitorder="little")
            out[row] = bits.view(np.uint64)
        bits = _ONE << (self.positions & 63).astype(np.uint64)
        np.bitwise_or.at(out, (self.sparse_rows[self.owners], self.positions >> 6), bits)
        return out


def bernoulli_draw(
    rng: np.random.Generator, p: npt.ArrayLike, n_words: int,
    lazy: npt.ArrayLike | None = None,
) -> PackedDraw:
    """Independent Bernoulli(p[i]) bits for ``64 * n_words`` trials, as drawn.

    Rows with p ≥ 1/32 are bit-sliced into words, rows with smaller p are geometric-skipped
    into positions; rows flagged in ``lazy`` get a hash key instead and are evaluated only
    where asked (:func:`hashed_bits`). :meth:`PackedDraw.words` gives the packed array.
    """
    probs = np.asarray(p, dtype=np.float64).reshape(-1)
    flag = np.zeros(len(probs), bool) if lazy is None else np.asarray(lazy, bool).reshape(-1)
    live = ~flag | (probs <= 0.0) | (probs >= 1.0)
    ones = np.flatnonzero(probs >= 1.0)
    sliced = np.flatnonzero(live & (probs >= GEOMETRIC_BELOW) & (probs < 1.0))
    dense = np.zeros((len(ones) + len(sliced), n_words), dtype=np.uint64)
    dense[: len(ones)] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    if len(sliced):
        dense[len(ones):] = _bit_sliced(rng, probs[sliced], n_words)
    skipped = np.flatnonzero(live & (probs > 0.0) & (probs < GEOMETRIC_BELOW))
    positions = owners = np.zeros(0, dtype=np.int64)
    if len(skipped):
        positions, owners = _geometric(rng, probs[skipped], n_words)
    lazy_rows = np.flatnonzero(~live)
    keys = rng.bit_generator.random_raw(len(lazy_rows)).astype(np.uint64)
    return PackedDraw(len(probs), n_words, np.concatenate([ones, sliced]), dense, skipped,
                      positions, owners, lazy_rows, keys, probs[lazy_rows])


_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def hashed_bits(key: np.uint64, p: float, trials: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Bernoulli(p) bits of the given trials of a lazy row, by random access.

    Trial t's bit is ``splitmix64(key + (t + 1)·γ) < p·2^64`` — the (t+1)-th output of a
    SplitMix64 generator (Steele, Lea & Flood 2014) started at ``key``, compared with p to
    2^-53 relative precision. Any trial can be asked for without drawing the others, so rare
    conditions (a zone's backup levels, needed only while the zone is out) cost nothing in
    the trials where they do not matter.
    """
    with np.errstate(over="ignore"):
        z = np.uint64(key) + (trials.astype(np.uint64) + np.uint64(1)) * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    if p >= 1.0:
        return np.ones(len(trials), dtype=bool)
    return z < np.uint64(int(p * 2.0**64))


def bernoulli_words(rng: np.random.Generator, p: npt.ArrayLike, n_words: int) -> U64:
    """Packed independent Bernoulli(p[i]) bits: row ``i`` has ``64 * n_words`` trials.

    Args:
        rng: The generator to draw from (consumed deterministically).
        p: Probabilities in [0, 1], one per row.
        n_words: Words per row.

    Returns:
        ``uint64 (len(p), n_words)``; bit ``j`` of word ``w`` is trial ``64 * w + j``.
    """
    return bernoulli_draw(rng, p, n_words).words()


def _bit_sliced(rng: np.random.Generator, p: npt.NDArray[np.float64], n_words: int) -> U64:
    m = np.rint(p * 2.0**PRECISION_BITS).astype(np.uint64)
    lowest = min(_lowest_set_bit(int(x)) for x in m)
    r = np.zeros((len(p), n_words), dtype=np.uint64)
    for digit in range(lowest, PRECISION_BITS):
        u = rng.bit_generator.random_raw(len(p) * n_words).reshape(len(p), n_words)
        ones = ((m >> np.uint64(digit)) & _ONE).astype(bool)
        r = np.where(ones[:, None], r | u, r & u)
    r[m >= np.uint64(2**PRECISION_BITS)] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)  # rounded up to 1
    return r


def _lowest_set_bit(x: int) -> int:
    return (x & -x).bit_length() - 1 if x else PRECISION_BITS


def _geometric(
    rng: np.random.Generator, p: npt.NDArray[np.float64], n_words: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Failure positions below ``64 * n_words`` of each row, grouped by row, and their rows."""
    n_trials = 64 * n_words
    mean = p * n_trials
    count = np.ceil(mean + 3.0 * np.sqrt(mean) + 3.0).astype(np.int64)
    positions, owners, last = _positions(rng, p, count)
    parts_pos, parts_own = [positions], [owners]
    short = np.flatnonzero(last < n_trials)
    while len(short):  # rare top-up: the draws did not yet pass the end of the chunk
        more, who, more_last = _positions(rng, p[short], count[short])
        base = last[short]
        more += base[who] + 1
        last[short] = more_last + base + 1
        parts_pos.append(more)
        parts_own.append(short[who])
        short = short[last[short] < n_trials]
    positions, owners = np.concatenate(parts_pos), np.concatenate(parts_own)
    keep = positions < n_trials
    positions, owners = positions[keep], owners[keep]
    order = np.argsort(owners, kind="stable")
    return positions[order], owners[order]


def _positions(
    rng: np.random.Generator, p: npt.NDArray[np.float64], count: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Positions (0-based) from ``count[i]`` geometric gaps per row, their rows, each row's last."""
    owners = np.repeat(np.arange(len(p)), count)
    gaps = rng.geometric(np.repeat(p, count)).astype(np.int64)
    cum = np.cumsum(gaps)
    ends = np.cumsum(count)
    before = np.concatenate([[0], cum[ends[:-1] - 1]])
    positions = cum - np.repeat(before, count) - 1
    return positions, owners, positions[ends - 1]
