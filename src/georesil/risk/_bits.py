"""Packed trial bits: 64 trials per ``uint64`` word, bit ``j`` of word ``w`` is trial ``64w + j``.

The few operations every part of the snapshot engine needs on such arrays: masks of valid
trials, population counts, packing (row, trial) pairs and unpacking words into booleans.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from georesil.risk._jit import compiled

__all__ = ["ALL_ONES", "bits_at", "census", "pack_groups", "pack_pairs", "popcount", "rows_at",
           "unpack", "valid_mask"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_ONE = np.uint64(1)


def valid_mask(n_valid: int, n_words: int) -> U64:
    """Words whose first ``n_valid`` trials are set and the rest clear."""
    mask = np.zeros(n_words, dtype=np.uint64)
    full, rest = divmod(n_valid, 64)
    mask[:full] = ALL_ONES
    if rest:
        mask[full] = np.uint64((1 << rest) - 1)
    return mask


def popcount(words: U64, mask: U64 | np.uint64) -> I64:
    """Set bits of each row of ``words`` under ``mask`` (one word per column, or one word for
    all): counts along the last axis.

    A compiled loop: no temporaries the size of ``words`` (which can be 80 MB).
    """
    shape = words.shape[:-1]
    flat = np.ascontiguousarray(words).reshape(math.prod(shape), words.shape[-1])
    counts = np.zeros(len(flat), dtype=np.int64)
    mask = np.ascontiguousarray(np.broadcast_to(mask, words.shape[-1:]), dtype=np.uint64)
    compiled(_popcount, _bit_count)(flat, mask, counts)
    return counts.reshape(shape)


def census(words: U64, n: int) -> tuple[I64, U64, U64]:
    """Over the first ``n`` trials of ``words`` (rows × W): each row's set bits, and per trial
    whether at least one and at least two rows have its bit set (``⌈n/64⌉`` words each).

    One compiled pass over the first ``⌈n/64⌉`` words of every row.
    """
    mask = valid_mask(n, (n + 63) // 64)
    counts = np.zeros(words.shape[0], dtype=np.int64)
    one = np.zeros(len(mask), dtype=np.uint64)
    two = np.zeros(len(mask), dtype=np.uint64)
    compiled(_census, _bit_count)(np.ascontiguousarray(words), mask, counts, one, two)
    return counts, one, two


def _bit_count(x: np.uint64) -> np.uint64:
    """Set bits of a word (SWAR; LLVM emits popcnt for it)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555_5555_5555_5555))
    x = (x & np.uint64(0x3333_3333_3333_3333)) + ((x >> np.uint64(2))
                                                 & np.uint64(0x3333_3333_3333_3333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F_0F0F_0F0F_0F0F)
    x += x >> np.uint64(8)
    x += x >> np.uint64(16)
    x += x >> np.uint64(32)
    return x & np.uint64(127)


def _popcount(words: U64, mask: U64, counts: I64) -> None:
    for r in range(words.shape[0]):
        total = np.uint64(0)
        for i in range(words.shape[1]):
            total += _bit_count(words[r, i] & mask[i])
        counts[r] = total


def _census(words: U64, mask: U64, counts: I64, one: U64, two: U64) -> None:
    for r in range(words.shape[0]):
        total = np.uint64(0)
        for w in range(mask.shape[0]):
            x = words[r, w] & mask[w]
            total += _bit_count(x)
            two[w] |= one[w] & x
            one[w] |= x
        counts[r] = total


def pack_pairs(rows: I64, trials: I64, n_rows: int, n_words: int, out: U64 | None = None
               ) -> U64:
    """``uint64 (n_rows, n_words)`` with the bit of every (row, trial) pair set (in ``out``
    when given).

    O(pairs + n_rows·n_words). Large inputs go through a compiled loop (``np.bitwise_or.at``
    costs about as much as evaluating the trials).
    """
    if out is None:
        out = np.zeros((n_rows, n_words), dtype=np.uint64)
    if len(rows) > _COMPILED_FROM:
        compiled(_or_pairs)(out, np.ascontiguousarray(rows, np.int64),
                       np.ascontiguousarray(trials, np.int64))
    elif len(rows):
        np.bitwise_or.at(out, (rows, trials >> 6), _ONE << (trials & 63).astype(np.uint64))
    return out


#: Pairs above which :func:`pack_pairs` uses the compiled loop.
_COMPILED_FROM = 4096


def _or_pairs(out: U64, rows: I64, trials: I64) -> None:
    for i in range(rows.shape[0]):
        t = trials[i]
        out[rows[i], t >> 6] |= np.uint64(1) << np.uint64(t & 63)



def pack_groups(ptr: I64, rows: I64, tags: I64, col_group: I64, col_skip: I64, n_rows: int
                ) -> U64:
    """``uint64 (n_rows, ⌈columns/64⌉)``: column c holds the rows of group ``col_group[c]``
    (``rows[ptr[g]:ptr[g + 1]]``) whose tag differs from ``col_skip[c]``.

    O(columns × group size) in a compiled loop, without materialising the pairs.
    """
    out = np.zeros((n_rows, max(1, (len(col_group) + 63) // 64)), dtype=np.uint64)
    if len(col_group):
        compiled(_or_groups)(out, ptr, rows, tags, np.ascontiguousarray(col_group, np.int64),
                             np.ascontiguousarray(col_skip, np.int64))
    return out


def _or_groups(out: U64, ptr: I64, rows: I64, tags: I64, col_group: I64, col_skip: I64
               ) -> None:
    for c in range(col_group.shape[0]):
        g = col_group[c]
        bit = np.uint64(1) << np.uint64(c & 63)
        w = c >> 6
        for k in range(ptr[g], ptr[g + 1]):
            if tags[k] != col_skip[c]:
                out[rows[k], w] |= bit


def unpack(words: U64, n: int) -> npt.NDArray[np.bool_]:
    """Booleans ``(..., n)`` of the first ``n`` trials of packed ``words``."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=-1,
                         bitorder="little")
    return bits[..., :n].astype(bool)


def bits_at(words: U64, trials: I64) -> npt.NDArray[np.bool_]:
    """``(rows, len(trials))``: the bits of some trials in every row of ``words``."""
    out = np.empty((words.shape[0], len(trials)), dtype=bool)
    if out.size:
        compiled(_bits_at)(np.ascontiguousarray(words),
                           np.ascontiguousarray(trials, dtype=np.int64), out)
    return out


def _bits_at(words: U64, trials: I64, out: npt.NDArray[np.bool_]) -> None:
    for r in range(words.shape[0]):
        for j in range(trials.shape[0]):
            t = trials[j]
            out[r, j] = (words[r, t >> 6] >> np.uint64(t & 63)) & np.uint64(1) != 0


def rows_at(words: U64, trials: I64) -> tuple[I64, I64]:
    """The rows of ``words`` with the bit of each of ``trials`` set, grouped by trial: the
    rows of ``trials[j]`` are ``rows[ptr[j]:ptr[j + 1]]``, ascending. Returns ``(ptr, rows)``.
    """
    hit = np.empty((len(trials), words.shape[0]), dtype=bool)  # trial-major
    if hit.size:
        compiled(_bits_at_by_trial)(np.ascontiguousarray(words),
                                    np.ascontiguousarray(trials, dtype=np.int64), hit)
    j, rows = np.nonzero(hit)
    ptr = np.zeros(len(trials) + 1, dtype=np.int64)
    np.cumsum(np.bincount(j, minlength=len(trials)), out=ptr[1:])
    return ptr, rows


def _bits_at_by_trial(words: U64, trials: I64, out: npt.NDArray[np.bool_]) -> None:
    for r in range(words.shape[0]):  # row by row: each row's words are contiguous
        for j in range(trials.shape[0]):
            t = trials[j]
            out[j, r] = (words[r, t >> 6] >> np.uint64(t & 63)) & np.uint64(1) != 0
