"""The compiled packed-bit helpers agree with plain numpy on random words."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from georesil.risk._bits import (
    ALL_ONES,
    bits_at,
    census,
    pack_groups,
    pack_pairs,
    popcount,
    rows_at,
)

words64 = st.integers(0, 2**64 - 1)


@st.composite
def word_arrays(draw: st.DrawFn) -> np.ndarray:
    shape = draw(st.sampled_from([(3,), (2, 5), (2, 3, 4), (0, 4), (4, 1)]))
    values = draw(st.lists(words64, min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))
    return np.array(values, dtype=np.uint64).reshape(shape)


@settings(max_examples=60, deadline=None)
@given(words=word_arrays(), seed=st.integers(0, 2**32))
def test_popcount_matches_numpy(words: np.ndarray, seed: int) -> None:
    """Counts under a mask (an array or one word) equal numpy's bit count."""
    rng = np.random.default_rng(seed)
    mask = rng.integers(0, 2**64, size=words.shape[-1], dtype=np.uint64)
    want = np.bitwise_count(words & mask).sum(axis=-1, dtype=np.int64)
    assert np.array_equal(popcount(words, mask), want)
    assert np.array_equal(popcount(words, ALL_ONES),
                          np.bitwise_count(words).sum(axis=-1, dtype=np.int64))


@settings(max_examples=60, deadline=None)
@given(words=word_arrays().filter(lambda w: w.ndim == 2 and w.size > 0),
       picks=st.lists(st.integers(0, 10**6), max_size=20))
def test_bits_at_matches_unpacked(words: np.ndarray, picks: list[int]) -> None:
    """The bits read at some trials are those of the unpacked words."""
    trials = np.array(picks, dtype=np.int64) % (64 * words.shape[1])
    unpacked = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)
    assert np.array_equal(bits_at(words, trials), unpacked[:, trials])


@settings(max_examples=60, deadline=None)
@given(groups=st.lists(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)),
                                max_size=6), min_size=1, max_size=5),
       cols=st.lists(st.tuples(st.integers(0, 100), st.integers(-1, 3)), max_size=150))
def test_pack_groups_matches_pairs(groups: list[list[tuple[int, int]]],
                                   cols: list[tuple[int, int]]) -> None:
    """A column holds its group's rows whose tag is not skipped: as packing the pairs."""
    ptr = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
    rows = np.array([r for g in groups for r, _ in g], dtype=np.int64)
    tags = np.array([t for g in groups for _, t in g], dtype=np.int64)
    col_group = np.array([g % len(groups) for g, _ in cols], dtype=np.int64)
    col_skip = np.array([s for _, s in cols], dtype=np.int64)
    pair_rows, pair_cols = [], []
    for c, (g, skip) in enumerate(zip(col_group.tolist(), col_skip.tolist(), strict=True)):
        for r, t in groups[g]:
            if t != skip:
                pair_rows.append(r)
                pair_cols.append(c)
    n_words = max(1, (len(cols) + 63) // 64)
    want = pack_pairs(np.array(pair_rows, np.int64), np.array(pair_cols, np.int64), 7, n_words)
    assert np.array_equal(pack_groups(ptr, rows, tags, col_group, col_skip, 7), want)


@settings(max_examples=60, deadline=None)
@given(words=word_arrays().filter(lambda w: w.ndim == 2), n=st.integers(0, 400))
def test_census_matches_unpacked(words: np.ndarray, n: int) -> None:
    """Row counts and the at-least-one / at-least-two trials of the first n trials."""
    n = min(n, 64 * words.shape[1])
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)
    bits = bits[:, :n]
    counts, one, two = census(words, n)
    unpacked = np.unpackbits(np.vstack([one, two]).view(np.uint8), axis=1,
                             bitorder="little").astype(bool)
    assert counts.tolist() == bits.sum(axis=1).tolist()
    assert unpacked.shape[1] == 64 * ((n + 63) // 64) and not unpacked[:, n:].any()
    assert unpacked[0, :n].tolist() == (bits.sum(axis=0) >= 1).tolist()
    assert unpacked[1, :n].tolist() == (bits.sum(axis=0) >= 2).tolist()


@settings(max_examples=60, deadline=None)
@given(words=word_arrays().filter(lambda w: w.ndim == 2 and w.size > 0),
       picks=st.lists(st.integers(0, 10**6), max_size=20, unique=True))
def test_rows_at_groups_set_rows_by_trial(words: np.ndarray, picks: list[int]) -> None:
    """Each trial's rows with its bit set, ascending, grouped in the trials' order."""
    trials = np.array(picks, dtype=np.int64) % (64 * words.shape[1])
    unpacked = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little").astype(bool)
    ptr, rows = rows_at(words, trials)
    got = [rows[ptr[j]:ptr[j + 1]].tolist() for j in range(len(trials))]
    assert got == [np.flatnonzero(unpacked[:, t]).tolist() for t in trials.tolist()]
