"""Packed trial bits: 64 trials per ``uint64`` word, bit ``j`` of word ``w`` is trial ``64w + j``.

The few operations every part of the snapshot engine needs on such arrays: masks of valid
trials, population counts, packing (row, trial) pairs and unpacking words into booleans.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["ALL_ONES", "pack_pairs", "popcount", "unpack", "valid_mask"]

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


def popcount(words: U64, mask: U64) -> I64:
    """Set bits of each row of ``words`` under ``mask`` (counts along the last axis)."""
    return np.bitwise_count(words & mask).sum(axis=-1, dtype=np.int64)


def pack_pairs(rows: I64, trials: I64, n_rows: int, n_words: int) -> U64:
    """``uint64 (n_rows, n_words)`` with the bit of every (row, trial) pair set.

    O(pairs + n_rows·n_words) (``np.bitwise_or.at``, fast since numpy 2).
    """
    out = np.zeros((n_rows, n_words), dtype=np.uint64)
    if len(rows):
        np.bitwise_or.at(out, (rows, trials >> 6), _ONE << (trials & 63).astype(np.uint64))
    return out


def unpack(words: U64, n: int) -> npt.NDArray[np.bool_]:
    """Booleans ``(..., n)`` of the first ``n`` trials of packed ``words``."""
    bits = np.unpackbits(np.ascontiguousarray(words).view(np.uint8), axis=-1,
                         bitorder="little")
    return bits[..., :n].astype(bool)
