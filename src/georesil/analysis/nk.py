"""N-k ranking: every set of at most K sites and links, scored by what it takes down.

Score of a failure set: the sum over services of a tier weight (tier 1: 100, tier 2: 10,
tier 3 and 4: 1) for each service it makes down, and half that weight for each service it
makes breach. Services already down (or, for breach, already down or breaching) with nothing
failed are not counted: they are a finding about the topology, not about the failure.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from georesil.analysis._class_sweep import ClassSweep, class_sweep
from georesil.analysis._classes import FailureClasses
from georesil.analysis._sweep import Sweep, colex_rank, sweep
from georesil.analysis.impact import json_number
from georesil.model import Topology

__all__ = ["NkEntry", "new_effects", "rank", "rank_exhaustive", "score_weights", "tier_weight"]


def tier_weight(tier: int) -> int:
    """Weight of a down service of this tier: 100, 10, then 1."""
    return {1: 100, 2: 10}.get(tier, 1)


def score_weights(topology: Topology) -> np.ndarray:
    """``float (n_services,)``: the tier weight of each service, file order."""
    return np.array([tier_weight(s.tier) for s in topology.services.values()], dtype=np.float64)


@dataclass(frozen=True)
class NkEntry:
    """One ranked failure set: its elements (sorted), the services down and breaching, score.

    ``same_as`` names a subset one element smaller with exactly the same effect (the extra
    element adds nothing), or is ``None``; it is for people reading the ranking and is not
    part of the JSON.
    """

    elements: tuple[str, ...]
    down: tuple[str, ...]
    breach: tuple[str, ...]
    score: float
    same_as: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"elements": list(self.elements), "down": list(self.down),
                "breach": list(self.breach), "score": json_number(self.score)}


def new_effects(result: Sweep, order: int) -> tuple[np.ndarray, np.ndarray]:
    """``(down, breach)`` of the sets of size ``order``, minus what already holds at baseline."""
    base = result.levels[0]
    level = result.levels[order]
    base_down = base.down[:, :1]
    base_bad = base_down | base.breach[:, :1]
    return level.down & ~base_down, level.breach & ~base_bad


def rank(topology: Topology, max_order: int = 2, top: int = 20,
         result: ClassSweep | None = None) -> list[NkEntry]:
    """The ``top`` highest-scoring failure sets of 1..max_order sites and links.

    Sets scoring 0 are left out. Ties go to the smaller set, then to the set whose elements
    come first in file order (sites before links).

    Args:
        topology: The model.
        max_order: Largest set size K.
        top: How many sets to keep.
        result: A class sweep of this ``max_order`` keeping at least ``top`` sets (e.g. by
            ``analyze``).

    Notes:
        A set of elements has the effect, hence the score, of the set of failure classes it
        touches (:mod:`georesil.analysis._classes`). The best set mapping to a class set Q
        has |Q| elements, the first of each class; so the ``top`` best sets of elements map
        to the ``top`` class sets best by (score, size, first elements), which the class
        sweep keeps as it goes (sum_{k<=K} C(c, k) class sets). Each of those is expanded
        lazily into its sets of elements — one or more of each class, plus elements that
        change nothing, at most K in all — in (size, element order) order, and the
        expansions are merged: O(top·K·n) beyond the sweep.
        :func:`rank_exhaustive` is the plain sweep of every set of elements.
    """
    if result is None or result.max_order != max_order or result.top < top:
        result = class_sweep(topology, max_order, top=top, weights=score_weights(topology))
    chosen = _best_element_sets(result, top)
    classes = result.classes
    needed = sorted({_classes_of(classes, sub) for elements in chosen
                     for sub in [elements, *_one_smaller(elements)]})
    down, breach = result.effects(needed)
    effect = {q: (down[:, i], breach[:, i]) for i, q in enumerate(needed)}
    weights = score_weights(topology)
    entries = []
    for elements in chosen:
        d, b = effect[_classes_of(classes, elements)]
        same = next((sub for sub in _one_smaller(elements)
                     if all(np.array_equal(x, y) for x, y in
                            zip(effect[_classes_of(classes, sub)], (d, b), strict=True))), None)
        entries.append(NkEntry(
            elements=_refs(topology, elements),
            down=tuple(sid for i, sid in enumerate(result.service_ids) if d[i]),
            breach=tuple(sid for i, sid in enumerate(result.service_ids) if b[i]),
            score=float(weights @ d + 0.5 * (weights @ b)),
            same_as=None if same is None else _refs(topology, same),
        ))
    return entries


def _best_element_sets(result: ClassSweep, top: int) -> list[tuple[int, ...]]:
    """The ``top`` best sets of elements (indices ascending), best first: the expansions of
    the class sets the sweep kept, merged by (score descending, size, element order)."""
    streams = [_expansions(result.classes, tuple(int(c) for c in row if c >= 0), float(score),
                           result.max_order)
               for row, score in zip(result.best, result.best_scores, strict=True)]
    return [elements for _, _, elements in itertools.islice(heapq.merge(*streams), top)]


def _refs(topology: Topology, elements: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(sorted(topology.elements[i] for i in elements))


def _classes_of(classes: FailureClasses, elements: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sorted({int(classes.of_element[i]) for i in elements} - {-1}))


def _one_smaller(elements: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The subsets one element smaller, dropping the first element first (none below 2)."""
    if len(elements) < 2:
        return []
    return [elements[:i] + elements[i + 1 :] for i in range(len(elements))]


def _expansions(classes: FailureClasses, q: tuple[int, ...], score: float, max_order: int
                ) -> Iterator[tuple[float, int, tuple[int, ...]]]:
    """``(-score, size, elements)`` of every set of at most ``max_order`` elements whose
    classes are exactly ``q``: sizes ascending, each size in lexicographic order."""
    owner = {x: i for i, c in enumerate(q) for x in classes.members[c]}
    universe = sorted([*owner, *classes.irrelevant])
    last = [classes.members[c][-1] for c in q]
    for size in range(len(q), max_order + 1):
        for elements in _extend((), 0, 0, size, universe, owner, last):
            yield -score, size, elements


def _extend(chosen: tuple[int, ...], start: int, hit: int, size: int, universe: list[int],
            owner: dict[int, int], last: list[int]) -> Iterator[tuple[int, ...]]:
    """Ascending completions of ``chosen`` from ``universe[start:]`` to ``size`` elements
    that hit every class (bit i of ``hit``: class i has an element), in lexicographic order.

    Only feasible branches are entered: each class still missing keeps a member (its last is
    ``last[i]``) after the element picked, and enough elements remain.
    """
    if len(chosen) == size:
        yield chosen
        return
    after = size - len(chosen) - 1  # elements still to pick after this one
    missing = [i for i in range(len(last)) if not hit >> i & 1]
    for pos in range(start, len(universe) - after):
        x = universe[pos]
        if any(last[i] < x for i in missing):
            return
        now = hit | (1 << owner[x]) if x in owner else hit
        if sum(1 for i in missing if not now >> i & 1) <= after:
            yield from _extend((*chosen, x), pos + 1, now, size, universe, owner, last)
        if any(last[i] == x for i in missing):  # x was the last chance of its class
            return


def rank_exhaustive(topology: Topology, max_order: int = 2, top: int = 20,
                    result: Sweep | None = None) -> list[NkEntry]:
    """:func:`rank` from an exhaustive sweep of every set of sites and links.

    The reference the tests compare the class sweep with.

    Notes:
        One exhaustive kernel sweep (sum_k C(n, k) sets), then a matrix-vector product for the
        scores and a sort: O(sum_k C(n, k)·(N + log)).
    """
    result = result or sweep(topology, max_order)
    weights = score_weights(topology)
    effects = {k: new_effects(result, k) for k in range(1, max_order + 1)}
    scores, sizes, positions = [], [], []
    for k, (down, breach) in effects.items():
        score = weights @ down + 0.5 * (weights @ breach)
        hit = np.nonzero(score > 0)[0]
        scores.append(score[hit])
        sizes.append(np.full(len(hit), k))
        positions.append(hit)
    if not scores:
        return []
    score, size, position = (np.concatenate(x) for x in (scores, sizes, positions))
    best = np.lexsort((position, size, -score))[:top]
    return [_entry(result, effects, int(size[i]), int(position[i]), float(score[i]))
            for i in best]


def _entry(result: Sweep, effects: dict[int, tuple[np.ndarray, np.ndarray]], k: int, t: int,
           score: float) -> NkEntry:
    down, breach = effects[k]
    return NkEntry(
        elements=tuple(result.refs(result.levels[k].combos[t])),
        down=tuple(s for i, s in enumerate(result.service_ids) if down[i, t]),
        breach=tuple(s for i, s in enumerate(result.service_ids) if breach[i, t]),
        score=score,
        same_as=_same_subset(result, effects, k, t),
    )


def _same_subset(result: Sweep, effects: dict[int, tuple[np.ndarray, np.ndarray]], k: int,
                 t: int) -> tuple[str, ...] | None:
    """A (k-1)-subset of set ``t`` of level ``k`` with the same effect, if any."""
    if k < 2:
        return None
    down, breach = effects[k]
    prev_down, prev_breach = effects[k - 1]
    combos = result.levels[k - 1].combos
    position = np.empty(len(combos), dtype=np.int64)
    position[colex_rank(combos)] = np.arange(len(combos))
    row = result.levels[k].combos[t]
    for drop in range(k):
        subset = np.delete(row, drop)
        p = position[colex_rank(subset[None, :])[0]]
        if (prev_down[:, p] == down[:, t]).all() and (prev_breach[:, p] == breach[:, t]).all():
            return tuple(result.refs(subset))
    return None
