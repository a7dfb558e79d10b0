"""Packed Bernoulli sampling: frequencies, independence, exactness, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from georesil.risk.sampler import (
    PRECISION_BITS,
    bernoulli_draw,
    bernoulli_words,
    realised_probability,
)

PROBS = [0.5, 0.3, 0.1, 1 / 32, 0.02, 1e-3, 1e-4, 0.999]
W = 1 << 16  # 4,194,304 trials per row


@pytest.fixture(scope="module")
def draws() -> np.ndarray:
    return bernoulli_words(np.random.default_rng(20261128), PROBS, W)


def _bits(words: np.ndarray) -> np.ndarray:
    return np.unpackbits(words.view(np.uint8), bitorder="little").astype(bool)


@pytest.mark.parametrize("row", range(len(PROBS)))
def test_bit_frequency_matches_p(draws: np.ndarray, row: int) -> None:
    """Each row's share of set bits is within 4.5 standard errors of p."""
    p, n = PROBS[row], 64 * W
    k = int(np.bitwise_count(draws[row]).sum())
    assert abs(k - n * p) < 4.5 * math.sqrt(n * p * (1 - p))


def test_rows_independent(draws: np.ndarray) -> None:
    """Two rows' bits co-occur at the product of their probabilities."""
    both = _bits(draws[1] & draws[2]).mean()
    assert both == pytest.approx(0.3 * 0.1, abs=4.5 * math.sqrt(0.03 / (64 * W)))


def test_neighbouring_trials_independent(draws: np.ndarray) -> None:
    """Bits of consecutive trials (within and across words) are independent."""
    bits = _bits(draws[3])
    pairs = (bits[:-1] & bits[1:]).mean()
    p = 1 / 32
    assert pairs == pytest.approx(p * p, abs=4.5 * math.sqrt(p * p / len(bits)))


def test_same_generator_state_same_bits() -> None:
    """Equal seeds give equal bits."""
    a = bernoulli_words(np.random.default_rng(5), [0.2, 1e-3], 64)
    b = bernoulli_words(np.random.default_rng(5), [0.2, 1e-3], 64)
    assert np.array_equal(a, b)


def test_packed_draw_into_reused_memory() -> None:
    """Drawing packed into used memory gives the bits of a fresh draw, the same as unpacked."""
    probs = [0.0, 1.0, 0.3, 0.02, 1e-3, 0.02, 0.5]
    buffer = np.full((len(probs) + 2, 64), np.uint64(0xDEAD_BEEF_F00D_CAFE))
    for seed in (3, 4):
        want = bernoulli_draw(np.random.default_rng(seed), probs, 64).words()
        fresh = bernoulli_draw(np.random.default_rng(seed), probs, 64, packed=True).words()
        reused = bernoulli_draw(np.random.default_rng(seed), probs, 64, packed=True,
                                out=buffer).words()
        assert np.array_equal(fresh, want) and np.array_equal(reused, want)


def test_zero_and_one() -> None:
    """p = 0 sets no bit, p = 1 sets every bit."""
    out = bernoulli_words(np.random.default_rng(1), [0.0, 1.0], 8)
    assert not out[0].any() and (out[1] == np.uint64(2**64 - 1)).all()


def test_bit_slicing_precision() -> None:
    """Bit-slicing realises p to within 2^-(k+1) with k = 32 digits."""
    p = 0.123456789012345
    assert abs(realised_probability(p) - p) <= 2.0 ** -(PRECISION_BITS + 1)


def test_dyadic_probability_is_exact() -> None:
    """p = 1/2 uses one random word: the bits are those of the generator's first raw word."""
    rng = np.random.default_rng(9)
    out = bernoulli_words(rng, [0.5], 1)
    assert out[0, 0] == np.random.default_rng(9).bit_generator.random_raw()


def test_hashed_bits_frequency() -> None:
    """Hashed (lazy) rows are Bernoulli(p): frequency within 4.5 standard errors."""
    from georesil.risk.sampler import hashed_bits

    n, p = 1 << 22, 0.37
    k = int(hashed_bits(np.uint64(0x1234_5678_9ABC_DEF0), p, np.arange(n)).sum())
    assert abs(k - n * p) < 4.5 * math.sqrt(n * p * (1 - p))


def test_hashed_bits_random_access() -> None:
    """A lazy row's bit of trial t is the same whether asked alone or with all others."""
    from georesil.risk.sampler import hashed_bits

    key, trials = np.uint64(99), np.arange(5000)
    everything = hashed_bits(key, 0.5, trials)
    assert np.array_equal(hashed_bits(key, 0.5, trials[4000:4100]), everything[4000:4100])


def test_lazy_rows_in_words() -> None:
    """A draw's packed words hold its lazy rows' hashed bits."""
    from georesil.risk.sampler import bernoulli_draw, hashed_bits

    draw = bernoulli_draw(np.random.default_rng(3), [0.01, 0.6], 16, lazy=[False, True])
    words = draw.words()
    bits = np.unpackbits(words[1].view(np.uint8), bitorder="little").astype(bool)
    assert np.array_equal(bits, hashed_bits(draw.lazy_keys[0], 0.6, np.arange(1024)))
