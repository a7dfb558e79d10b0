"""N-k ranking: every set of at most K sites and links, scored by what it takes down.

Score of a failure set: the sum over services of a tier weight (tier 1: 100, tier 2: 10,
tier 3 and 4: 1) for each service it makes down, and half that weight for each service it
makes breach. Services already down (or, for breach, already down or breaching) with nothing
failed are not counted: they are a finding about the topology, not about the failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from georesil.analysis._sweep import Sweep, colex_rank, sweep
from georesil.analysis.impact import json_number
from georesil.model import Topology

__all__ = ["NkEntry", "new_effects", "rank", "tier_weight"]


def tier_weight(tier: int) -> int:
    """Weight of a down service of this tier: 100, 10, then 1."""
    return {1: 100, 2: 10}.get(tier, 1)


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
         result: Sweep | None = None) -> list[NkEntry]:
    """The ``top`` highest-scoring failure sets of 1..max_order sites and links.

    Sets scoring 0 are left out. Ties go to the smaller set, then to the set whose elements
    come first in file order (sites before links).

    Notes:
        One exhaustive kernel sweep (sum_k C(n, k) sets), then a matrix-vector product for the
        scores and a sort: O(sum_k C(n, k)·(N + log)).
    """
    result = result or sweep(topology, max_order)
    weights = np.array([tier_weight(topology.service(s).tier) for s in result.service_ids],
                       dtype=np.float64)
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
