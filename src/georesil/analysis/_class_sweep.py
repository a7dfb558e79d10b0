"""The exact sweep: every set of at most K failure classes, streamed through the kernel.

A set of sites and links has the effect of the set of classes it touches
(:mod:`georesil.analysis._classes`), so sweeping the sets of at most K classes of the reduced
topology answers every question about the sets of at most K sites and links. Each level k is
evaluated in words of 64 sets sharing their first k - 1 classes (a *prefix*, in lexicographic
order) and differing in the last, taken from one aligned block of 64 class indices, so that

* the words are built by plain assignments (the prefix's classes fail in every set of the
  word, class ``64j + i`` in set ``i`` only);
* a set is a **minimal cut** of a service when it is down and none of its subsets one class
  smaller is: the prefix (one lookup in the previous level) and, for each class x of the
  prefix, the prefix without x plus the last class, which for the 64 sets of a word is one
  machine word of a bit table built from the previous level;
* the last level's outcomes are never kept: only the down bits of the level below it (for
  those lookups), the minimal cuts, and the best ``top`` sets by score, whose running
  threshold lets most words be skipped on an upper bound of their score (the weight of every
  service any of their sets takes down, half for breaching).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np

from georesil.analysis._classes import FailureClasses, sweep_classes
from georesil.analysis._sweep import Progress, colex_rank, count_sets
from georesil.analysis.kernel import (
    CompiledTopology,
    PackedOutcome,
    compile_topology,
    evaluate_packed,
    pack_rows,
    unpack,
)
from georesil.errors import InvalidInput
from georesil.model import Topology

__all__ = ["MAX_SETS", "ClassSweep", "Progress", "class_sweep"]

#: Default largest number of class sets one sweep evaluates (``--max-sets``), 10 s or less of
#: work at under 0.1 µs a set. Memory does not grow with it: the last level is streamed.
MAX_SETS = 100_000_000
_WORD_BUFFER_BYTES = 32 << 20  # the packed failure words of one chunk
_MAX_WORDS = 4096  # words per chunk: 262,144 sets
_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))
_BELOW = np.array([(1 << i) - 1 for i in range(65)], dtype=np.uint64)  # i low bits set


@dataclass(frozen=True, eq=False)  # arrays do not compare with ==
class ClassSweep:
    """What the sweep of every set of at most ``max_order`` failure classes found.

    Attributes:
        classes: The failure classes; class ``i`` is element ``i`` of ``ct``.
        ct: The reduced topology, compiled.
        max_order: K.
        top: How many class sets ``best`` keeps at most.
        sets: Class sets evaluated.
        base_down, base_bad: ``bool (n_services,)``: down, and down or breaching, with
            nothing failed.
        cuts: Per size k = 0..K, ``(services, sets)``: ``int64 (m,)`` service indices and
            ``int64 (m, k)`` class sets (ascending) that are minimal cut sets of them.
        best: ``int64 (t, K)``: the ``top`` class sets with the best key (highest score,
            then fewest classes, then the smallest elements, one per class, first in element
            order), ascending and padded with -1, best first; ``best_scores`` their scores.
    """

    classes: FailureClasses
    ct: CompiledTopology
    max_order: int
    top: int
    sets: int
    base_down: np.ndarray
    base_bad: np.ndarray
    cuts: tuple[tuple[np.ndarray, np.ndarray], ...]
    best: np.ndarray
    best_scores: np.ndarray

    @property
    def service_ids(self) -> tuple[str, ...]:
        return self.ct.service_ids

    def effects(self, sets: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """``(down, breach)``, each ``bool (n_services, len(sets))``, of class sets, less
        what already holds with nothing failed (as N-k and SPOFs count them)."""
        width = max((len(s) for s in sets), default=0)
        rows = np.full((max(len(sets), 1), max(width, 1)), -1, dtype=np.int64)
        for t, s in enumerate(sets):
            rows[t, : len(s)] = s
        out = _evaluate(self.ct, pack_rows(rows, len(self.classes)))
        down, breach = unpack(out.down, len(sets)), unpack(out.breach, len(sets))
        return down & ~self.base_down[:, None], breach & ~self.base_bad[:, None]


def class_sweep(topology: Topology, max_order: int, *, top: int = 0,
                weights: np.ndarray | None = None, progress: Progress | None = None,
                max_sets: int = MAX_SETS, classes: FailureClasses | None = None,
                chunk: int = _MAX_WORDS) -> ClassSweep:
    """Evaluate every set of at most ``max_order`` failure classes, keeping what matters.

    Args:
        topology: The model.
        max_order: Largest set size K.
        top: How many class sets to keep by score (for the N-k ranking).
        weights: ``float (n_services,)``: what each service going down adds to a score
            (a breach adds half); required when ``top`` > 0.
        progress: Called with (sets done, sets) after each chunk of sets.
        max_sets: The most class sets to evaluate (a work budget).
        classes: The classes to sweep, if already built; by default
            :func:`~georesil.analysis._classes.sweep_classes`.
        chunk: Most words of 64 sets evaluated at a time (the tests make it small, so that
            small topologies stream through many chunks too).

    Raises:
        InvalidInput: more than ``max_sets`` class sets (``--max-sets`` lifts the limit).

    Notes:
        sum_{k<=K} C(c, k) class sets for c classes, each a bit in a kernel word; minimality
        and the score bound cost O(N·K) word operations per 64 sets. Memory: the down bits
        of the C(c, K-1) sets of level K-1 and an N·C(c, K-2)·c-bit table, not the last level.
    """
    classes = classes if classes is not None else sweep_classes(topology, max_order)
    n = len(classes)
    total = count_sets(n, max_order)
    if total > max_sets:
        raise InvalidInput(
            f"--max-order {max_order}: {total:,} failure sets of up to {max_order} of {n:,} "
            f"failure classes (the {len(topology.elements):,} sites and links, less those "
            "that cannot change an outcome, a chain of pass-through sites counting once) is "
            f"more than --max-sets {max_sets:,} allows (under 0.1 µs each); raise "
            "--max-sets, lower --max-order, or estimate deeper combinations with "
            "'georesil simulate'", field="max_sets", value=total)
    if top and weights is None:
        raise ValueError("weights are required to keep the best sets (top > 0)")
    ct = compile_topology(classes.topology)
    empty = np.zeros((n, 1), dtype=np.uint64)
    base = _evaluate(ct, empty)
    base_down = unpack(base.down, 1)[:, 0]
    base_bad = base_down | unpack(base.breach, 1)[:, 0]
    ranking = _Ranking(top, max_order, classes.first_member,
                       np.zeros(ct.n_services) if weights is None else weights)
    sweeper = _Sweeper(ct, n, ranking, ~_mask(base_down), ~_mask(base_bad), progress, total,
                       chunk)
    cuts = [(np.nonzero(base_down)[0], np.zeros((int(base_down.sum()), 0), dtype=np.int64))]
    prefixes, prefix_down = np.zeros((1, 0), dtype=np.int64), base_down[:, None]
    for k in range(1, max_order + 1):
        found, down = sweeper.level(prefixes, prefix_down, keep=k < max_order)
        cuts.append(found)
        if k < max_order:
            prefixes, prefix_down = _next_prefixes(prefixes, n), down
    return ClassSweep(classes, ct, max_order, top, total, base_down, base_bad, tuple(cuts),
                      *ranking.result())


def _evaluate(ct: CompiledTopology, packed: np.ndarray) -> PackedOutcome:
    """The kernel on packed class words: sites first, then links."""
    return evaluate_packed(ct, packed[: ct.n_sites], packed[ct.n_sites : ct.n_sites + ct.n_links])


def _mask(flags: np.ndarray) -> np.ndarray:
    """``bool (m,)`` to ``uint64 (m,)``: all ones where set."""
    return np.where(flags, _ALL, np.uint64(0))


def _next_prefixes(prefixes: np.ndarray, n: int) -> np.ndarray:
    """The sets one class larger, in lexicographic order (each prefix extended by every
    class after its last): the order in which :meth:`_Sweeper.level` yields a level."""
    last = prefixes[:, -1] if prefixes.shape[1] else np.full(len(prefixes), -1, dtype=np.int64)
    counts = n - 1 - last
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    nxt = np.repeat(last, counts) + 1 + (np.arange(int(counts.sum()), dtype=np.int64) - starts)
    return np.column_stack([np.repeat(prefixes, counts, axis=0), nxt])


@dataclass(frozen=True)
class _Words:
    """The words of one level: each is a prefix and an aligned block of 64 last classes.

    ``prefix`` (index into the prefixes), ``block`` (last class ``64·block + bit``),
    ``valid`` (the bits that are sets: last class after the prefix's last and < n) and
    ``count`` (how many), per word, prefixes in order and blocks ascending within each.
    """

    prefix: np.ndarray
    block: np.ndarray
    valid: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, prefixes: np.ndarray, n: int) -> _Words:
        blocks = (n + 63) // 64
        last = prefixes[:, -1] if prefixes.shape[1] else np.full(len(prefixes), -1,
                                                                   dtype=np.int64)
        first = (last + 1) // 64
        per = np.where(last + 1 < n, blocks - first, 0)
        prefix = np.repeat(np.arange(len(prefixes), dtype=np.int64), per)
        offset = np.arange(int(per.sum()), dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
        block = np.repeat(first, per) + offset
        lo = np.clip(np.repeat(last + 1, per) - 64 * block, 0, 64)
        hi = np.clip(n - 64 * block, 0, 64)
        return cls(prefix, block, _BELOW[hi] & ~_BELOW[lo], hi - lo)

    def __len__(self) -> int:
        return len(self.prefix)


class _Sweeper:
    """Evaluates the levels, one chunk of words at a time, and reads each chunk."""

    def __init__(self, ct: CompiledTopology, n: int, ranking: _Ranking, not_base_down: np.ndarray,
                 not_base_bad: np.ndarray, progress: Progress | None, total: int, chunk: int
                 ) -> None:
        self.ct, self.n, self.ranking, self.progress, self.total = ct, n, ranking, progress, total
        self.not_base_down, self.not_base_bad = not_base_down[:, None], not_base_bad[:, None]
        self.rows = 64 * ((n + 63) // 64)
        self.chunk = max(1, min(chunk, _WORD_BUFFER_BYTES // (8 * max(self.rows, 1))))
        self.buffer = np.empty((self.rows, 0), dtype=np.uint64)  # reused while chunks fit
        self.done = 1

    def level(self, prefixes: np.ndarray, prefix_down: np.ndarray, keep: bool
              ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """Minimal cuts of the sets extending ``prefixes`` by one class, offered to the ranking;
        with ``keep``, also their down bits in lexicographic order."""
        words = _Words.of(prefixes, self.n)
        subsets = _SubsetTable(prefixes, prefix_down, self.n)
        services, sets, kept = [np.zeros(0, np.int64)], [np.zeros((0, prefixes.shape[1] + 1),
                                                                  np.int64)], []
        for start in range(0, len(words), self.chunk):
            part = slice(start, min(start + self.chunk, len(words)))
            (s, c), down = self._chunk(prefixes[words.prefix[part]], words.prefix[part],
                                       words.block[part], words.valid[part], subsets, keep)
            services.append(s)
            sets.append(c)
            kept.append(down)
            self.done += int(words.count[part].sum())
            if self.progress is not None:
                self.progress(self.done, self.total)
        down = np.concatenate(kept, axis=1) if kept else \
            np.zeros((self.ct.n_services, 0), dtype=bool)
        return (np.concatenate(services), np.concatenate(sets)), down

    def _chunk(self, prefix_rows: np.ndarray, prefix: np.ndarray, block: np.ndarray,
               valid: np.ndarray, subsets: _SubsetTable, keep: bool
               ) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """Evaluate one chunk of words: its minimal cuts, offered to the ranking, and (with
        ``keep``) the down bits of its sets, in order."""
        if self.buffer.shape[1] != len(block):
            self.buffer = np.empty((self.rows, len(block)), dtype=np.uint64)
        out = self._evaluate(self.buffer, prefix_rows, block, valid)
        minimal = out.down & ~subsets.down(prefix, block) & valid
        self.ranking.offer(out.down & self.not_base_down & valid,
                           out.breach & self.not_base_bad & valid, prefix_rows, block)
        m = 64 * len(block)
        down = unpack(out.down, m)[:, unpack(valid[None, :], m)[0]] if keep else \
            np.zeros((self.ct.n_services, 0), dtype=bool)
        return self._cuts(minimal, prefix_rows, block), down

    def _evaluate(self, buffer: np.ndarray, prefix_rows: np.ndarray, block: np.ndarray,
                  valid: np.ndarray) -> PackedOutcome:
        """Fill the words and evaluate them: the prefix's classes fail in every valid set of
        a word, class 64·block + i in set i only.

        Every row of the buffer is written (the block's bits where a word's block is j, zeros
        elsewhere), so nothing from the previous chunk survives and nothing needs clearing.
        """
        per_block = np.where(block == np.arange(self.rows // 64)[:, None], valid, np.uint64(0))
        np.bitwise_and(_BITS[None, :, None], per_block[:, None, :],
                       out=buffer.reshape(self.rows // 64, 64, buffer.shape[1]))
        w = np.arange(len(block))
        for column in prefix_rows.T:  # after the last class's bit, which is never theirs
            buffer[column, w] = valid
        return _evaluate(self.ct, buffer)

    @staticmethod
    def _cuts(minimal: np.ndarray, prefix_rows: np.ndarray, block: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """The (service, class set) of every set bit of ``minimal`` (``(n_services, W)``)."""
        s, w = np.nonzero(minimal)
        hit, bit = np.nonzero(unpack(minimal[s, w][:, None], 64) if len(s) else
                              np.zeros((0, 64), dtype=bool))
        last = 64 * block[w[hit]] + bit
        return s[hit], np.column_stack([prefix_rows[w[hit]], last]).astype(np.int64)


class _SubsetTable:
    """For the sets of one level: is some subset one class smaller down, 64 sets at a time.

    The subsets of prefix + {c} are the prefix itself and, for each class x of the prefix,
    (prefix - x) + {c}. ``table[s, r, j]`` holds, for the (k-2)-set R of colexicographic rank
    r, bit i of word j: the previous level's set R + {64j + i} takes service s down.
    """

    def __init__(self, prefixes: np.ndarray, prefix_down: np.ndarray, n: int) -> None:
        self.prefix_down = prefix_down
        k1 = prefixes.shape[1]  # the previous level's size
        self.drops = [colex_rank(np.delete(prefixes, t, axis=1)) for t in range(k1)]
        if k1 == 0:
            self.table = np.zeros((prefix_down.shape[0], 1, 1), dtype=np.uint64)
            return
        dense = np.zeros((prefix_down.shape[0], comb(n, k1 - 1), 64 * ((n + 63) // 64)),
                         dtype=bool)
        dense[:, colex_rank(prefixes[:, :-1]), prefixes[:, -1]] = prefix_down
        packed = np.packbits(dense, axis=-1, bitorder="little")
        self.table = packed.view(np.dtype("<u8")).astype(np.uint64)

    def down(self, prefix: np.ndarray, block: np.ndarray) -> np.ndarray:
        """``uint64 (n_services, W)``: the sets of each word with a subset down."""
        out = _mask(self.prefix_down[:, prefix])
        for ranks in self.drops:
            out |= self.table[:, ranks[prefix], block]
        return out


class _Ranking:
    """The ``top`` class sets by (score descending, size, smallest elements), kept as the
    sweep goes; words whose score bound is below the current last are skipped."""

    def __init__(self, top: int, width: int, first_member: np.ndarray, weights: np.ndarray
                 ) -> None:
        self.top, self.width, self.first_member = top, width, first_member
        self.weights = np.asarray(weights, dtype=np.float64)
        self.rows = np.zeros((0, width), dtype=np.int64)
        self.scores = np.zeros(0)

    def threshold(self) -> float:
        """The score a set needs to enter (0 is never enough)."""
        return float(self.scores[-1]) if len(self.scores) >= self.top else 0.0

    def offer(self, down: np.ndarray, breach: np.ndarray, prefix_rows: np.ndarray,
              block: np.ndarray) -> None:
        """Consider the sets of words whose new ``down`` and ``breach`` bits are given."""
        if not self.top:
            return
        bound = self.weights @ (down != 0) + 0.5 * (self.weights @ (breach != 0))
        floor = self.threshold()
        words = np.nonzero((bound >= floor) & (bound > 0))[0]
        if not len(words):
            return
        m = 64 * len(words)
        score = self.weights @ unpack(down[:, words], m) + \
            0.5 * (self.weights @ unpack(breach[:, words], m))
        sets = np.nonzero((score >= floor) & (score > 0))[0]
        word = words[sets // 64]
        rows = np.column_stack([prefix_rows[word], 64 * block[word] + sets % 64])
        self._merge(rows, score[sets])

    def _merge(self, rows: np.ndarray, scores: np.ndarray) -> None:
        rows = np.column_stack([rows, np.full((len(rows), self.width - rows.shape[1]), -1)])
        rows, scores = np.concatenate([self.rows, rows]), np.concatenate([self.scores, scores])
        if len(scores) > self.top:  # only ties at the top-th score need the finer keys
            keep = scores >= np.partition(scores, len(scores) - self.top)[len(scores) - self.top]
            rows, scores = rows[keep], scores[keep]
        size = (rows >= 0).sum(axis=1)
        firsts = np.where(rows >= 0, self.first_member[np.maximum(rows, 0)], -1)
        firsts = np.sort(np.where(rows >= 0, firsts, np.iinfo(np.int64).max), axis=1)
        order = np.lexsort((*firsts.T[::-1], size, -scores))[: self.top]
        self.rows, self.scores = rows[order], scores[order]

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        return self.rows, self.scores
