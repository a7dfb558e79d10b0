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

**Scattering** (0 < p < 1/32). The number of failures among the n = 64·W trials is drawn
as K ~ Binomial(n, p), then K distinct positions uniformly at random (32-bit draws, uniform by
rejection, a position already taken drawn again). Given K every K-subset is equally likely,
so the bits are exactly independent Bernoulli(p). Cost proportional to the expected number of
failures p·n — a few draws per chunk for the 10^−4…10^−3 unavailabilities of real elements;
the positions are kept (the sparse path) or set straight into words (the dense path).

p = 0 draws nothing; p = 1 gives all ones. The output depends only on the generator's state
and on p, so equal seeds give equal bits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from georesil.risk._jit import compiled

__all__ = [
    "SCATTER_BELOW",
    "AtomAccess",
    "PRECISION_BITS",
    "PackedDraw",
    "bernoulli_draw",
    "bernoulli_words",
    "hashed_bits",
    "realised_probability",
]

#: Binary digits of p kept by bit-slicing: the realised probability is within 2^-33 of p.
PRECISION_BITS = 32
#: Below this probability, scattering is used instead of bit-slicing.
SCATTER_BELOW = 1.0 / 32.0

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
_ONE = np.uint64(1)


def realised_probability(p: float) -> float:
    """The probability the sampler realises for ``p`` (p itself below ``SCATTER_BELOW``)."""
    if p <= 0 or p >= 1 or p < SCATTER_BELOW:
        return min(max(float(p), 0.0), 1.0)
    scale = float(1 << PRECISION_BITS)
    return round(p * scale) / scale


@dataclass(frozen=True)
class PackedDraw:
    """Bernoulli bits as drawn: dense words for some rows, failure positions for the others.

    Attributes:
        n_rows, n_words: Shape of the full packed array.
        dense_rows: Rows held as words (p ≥ ``SCATTER_BELOW``, or p = 1).
        dense: ``uint64 (len(dense_rows), n_words)``.
        sparse_rows: Rows held as positions (0 < p < ``SCATTER_BELOW``).
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
    lazy: npt.ArrayLike | None = None, packed: bool = False, out: U64 | None = None,
) -> PackedDraw:
    """Independent Bernoulli(p[i]) bits for ``64 * n_words`` trials, as drawn.

    Rows with p ≥ 1/32 are bit-sliced into words, rows with smaller p are scattered
    into positions (or, when ``packed``, straight into words: the same bits); rows flagged in
    ``lazy`` get a hash key instead and are evaluated only where asked
    (:func:`hashed_bits`). :meth:`PackedDraw.words` gives the packed array.

    ``out`` (``uint64``, at least ``len(p)`` rows of ``n_words``, any content) holds the
    words instead of a new array: reused from one chunk to the next, it spares the page
    faults of a fresh array (80 MB for 10,000 elements). The draw's ``dense`` is then a view
    of it, valid until ``out`` is drawn into again.
    """
    probs = np.asarray(p, dtype=np.float64).reshape(-1)
    flag = np.zeros(len(probs), bool) if lazy is None else np.asarray(lazy, bool).reshape(-1)
    live = ~flag | (probs <= 0.0) | (probs >= 1.0)
    ones = np.flatnonzero(probs >= 1.0)
    sliced = np.flatnonzero(live & (probs >= SCATTER_BELOW) & (probs < 1.0))
    skipped = np.flatnonzero(live & (probs > 0.0) & (probs < SCATTER_BELOW))
    n_dense = len(ones) + len(sliced)
    shape = (n_dense + (len(skipped) if packed else 0), n_words)
    if out is None:
        dense = np.zeros(shape, dtype=np.uint64)
    else:  # every row is written below: ones, sliced, and scattered rows cleared first
        dense = out[:shape[0]]
        if dense.shape != shape:
            raise ValueError(f"out must have at least {shape[0]} rows of {n_words} words; "
                             f"got {out.shape}")
    dense[: len(ones)] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    if len(sliced):
        dense[len(ones):n_dense] = _bit_sliced(rng, probs[sliced], n_words)
    positions = owners = np.zeros(0, dtype=np.int64)
    dense_rows = np.concatenate([ones, sliced])
    if len(skipped):
        positions, owners = _scattered(rng, probs[skipped], n_words,
                                       dense[n_dense:] if packed else None)
        if packed:
            dense_rows = np.concatenate([dense_rows, skipped])
            skipped = np.zeros(0, dtype=np.int64)
    lazy_rows = np.flatnonzero(~live)
    keys = rng.bit_generator.random_raw(len(lazy_rows)).astype(np.uint64)
    return PackedDraw(len(probs), n_words, dense_rows, dense, skipped,
                      positions, owners, lazy_rows, keys, probs[lazy_rows])


class AtomAccess:
    """Per-atom access to a draw: positions of set bits, and membership tests."""

    def __init__(self, draw: PackedDraw) -> None:
        self.draw = draw
        self.lazy_of = {int(r): i for i, r in enumerate(draw.lazy_rows)}

    @functools.cached_property
    def dense_of(self) -> dict[int, int]:
        return {int(r): i for i, r in enumerate(self.draw.dense_rows)}

    def positions(self, atom: int) -> I64:
        """Trials (ascending) in which ``atom`` is set."""
        if atom in self.lazy_of:
            return np.flatnonzero(self.has(atom, np.arange(64 * self.draw.n_words)))
        if atom in self.dense_of:
            row = self.draw.dense[self.dense_of[atom]]
            return np.flatnonzero(_unpack_row(row)).astype(np.int64)
        i = int(np.searchsorted(self.draw.sparse_rows, atom))
        if i < len(self.draw.sparse_rows) and self.draw.sparse_rows[i] == atom:
            lo, hi = np.searchsorted(self.draw.owners, [i, i + 1])
            return self.draw.positions[lo:hi]
        return np.zeros(0, dtype=np.int64)

    def has(self, atom: int, trials: I64) -> B:
        """Whether ``atom`` is set in each of ``trials``."""
        if atom in self.lazy_of:
            i = self.lazy_of[atom]
            return hashed_bits(self.draw.lazy_keys[i], float(self.draw.lazy_p[i]), trials)
        if atom in self.dense_of:
            words = self.draw.dense[self.dense_of[atom]]
            bits: B = ((words[trials >> 6] >> (trials & 63).astype(np.uint64)) & _ONE) > 0
            return bits
        return np.isin(trials, self.positions(atom), assume_unique=True)


def _unpack_row(words: U64) -> npt.NDArray[np.bool_]:
    return np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)


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


def _scattered(
    rng: np.random.Generator, p: npt.NDArray[np.float64], n_words: int, out: U64 | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Failure positions below ``64 * n_words`` of each row, grouped by row (ascending), and
    their rows — or, given ``out`` (one row per p, any content: each row is cleared first),
    the bits set there instead (the positions and owners returned are then empty).

    Row i gets K_i ~ Binomial(n, p_i) failures at a uniformly random K_i-subset of the n
    trials: distinct positions drawn one by one, uniform by rejection from 32-bit halves of
    the generator's raw words, a position already taken being drawn again. Given K_i the
    subset is uniform, so the bits are exactly independent Bernoulli(p_i). If the block of
    raw words runs out (rare) it is extended and the rows are drawn again from the start —
    the same bits, since the sequence only grew.
    """
    n_trials = 64 * n_words
    counts = rng.binomial(n_trials, p).astype(np.int64)
    total = int(counts.sum())
    need = total // 2 + total // 8 + 64
    raw = rng.bit_generator.random_raw(need)
    packed = out is not None
    while True:
        positions = np.zeros(0 if packed else total, dtype=np.int64)
        owners = np.zeros(len(positions), dtype=np.int64)
        words = np.zeros((1, n_words), dtype=np.uint64) if out is None else out  # 1: scratch
        if compiled(_fill)(counts, raw, n_trials, positions, owners, words, packed):
            return positions, owners
        raw = np.concatenate([raw, rng.bit_generator.random_raw(need)])
        words[:] = 0


def _fill(counts: npt.NDArray[np.int64], raw: U64, n_trials: int,
          positions: npt.NDArray[np.int64], owners: npt.NDArray[np.int64], words: U64,
          packed: bool) -> bool:
    """Place each row's failures at distinct uniform positions; False if ``raw`` ran out."""
    limit = (np.uint64(1) << np.uint64(32)) // np.uint64(n_trials) * np.uint64(n_trials)
    low = np.uint64(n_trials - 1)
    power_of_two = (n_trials & (n_trials - 1)) == 0  # then v & (n - 1) is uniform: no division
    k = 0  # 32-bit halves used
    n = 0
    for i in range(counts.shape[0]):
        start = n
        placed = 0
        r = i if packed else 0
        if packed:
            for w in range(words.shape[1]):
                words[r, w] = np.uint64(0)
        while placed < counts[i]:
            if k >= 2 * raw.shape[0]:
                return False
            v = (raw[k >> 1] >> np.uint64(32 * (k & 1))) & np.uint64(0xFFFF_FFFF)
            k += 1
            if power_of_two:
                pos = np.int64(v & low)
            elif v >= limit:
                continue
            else:
                pos = np.int64(v % np.uint64(n_trials))
            bit = np.uint64(1) << np.uint64(pos & 63)
            if words[r, pos >> 6] & bit:
                continue
            words[r, pos >> 6] |= bit
            placed += 1
            if not packed:
                positions[n] = pos
                owners[n] = i
                n += 1
        if not packed:
            positions[start:n] = np.sort(positions[start:n])
            for j in range(start, n):  # clear the scratch row for the next row
                words[0, positions[j] >> 6] = np.uint64(0)
    return True
