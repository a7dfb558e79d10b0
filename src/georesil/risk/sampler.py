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

import numpy as np
import numpy.typing as npt

__all__ = ["GEOMETRIC_BELOW", "PRECISION_BITS", "bernoulli_words", "realised_probability"]

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


def bernoulli_words(rng: np.random.Generator, p: npt.ArrayLike, n_words: int) -> U64:
    """Packed independent Bernoulli(p[i]) bits: row ``i`` has ``64 * n_words`` trials.

    Args:
        rng: The generator to draw from (consumed deterministically).
        p: Probabilities in [0, 1], one per row.
        n_words: Words per row.

    Returns:
        ``uint64 (len(p), n_words)``; bit ``j`` of word ``w`` is trial ``64 * w + j``.
    """
    probs = np.asarray(p, dtype=np.float64).reshape(-1)
    out = np.zeros((len(probs), n_words), dtype=np.uint64)
    out[probs >= 1.0] = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    sliced = np.flatnonzero((probs >= GEOMETRIC_BELOW) & (probs < 1.0))
    if len(sliced):
        out[sliced] = _bit_sliced(rng, probs[sliced], n_words)
    skipped = np.flatnonzero((probs > 0.0) & (probs < GEOMETRIC_BELOW))
    if len(skipped):
        _geometric(rng, probs[skipped], skipped, n_words, out)
    return out


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
    rng: np.random.Generator, p: npt.NDArray[np.float64], rows: npt.NDArray[np.intp],
    n_words: int, out: U64,
) -> None:
    n_trials = 64 * n_words
    mean = p * n_trials
    count = np.ceil(mean + 6.0 * np.sqrt(mean) + 8.0).astype(np.int64)
    positions, owners = _positions(rng, p, count)
    last = np.full(len(p), -1, dtype=np.int64)
    np.maximum.at(last, owners, positions)
    while True:  # rare top-up: the draws did not yet pass the end of the chunk
        short = np.flatnonzero(last < n_trials)
        if not len(short):
            break
        more, who = _positions(rng, p[short], count[short])
        more += last[short][who] + 1
        who = short[who]
        positions, owners = np.concatenate([positions, more]), np.concatenate([owners, who])
        np.maximum.at(last, who, more)
    keep = positions < n_trials
    positions, owners = positions[keep], owners[keep]
    bits = _ONE << (positions & 63).astype(np.uint64)
    np.bitwise_or.at(out, (rows[owners], positions >> 6), bits)


def _positions(
    rng: np.random.Generator, p: npt.NDArray[np.float64], count: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Failure positions (0-based) from ``count[i]`` geometric gaps per row, and their rows."""
    owners = np.repeat(np.arange(len(p)), count)
    gaps = rng.geometric(np.repeat(p, count)).astype(np.int64)
    cum = np.cumsum(gaps)
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    offset = np.repeat(np.concatenate([[0], cum])[starts], count)
    return cum - offset - 1, owners
