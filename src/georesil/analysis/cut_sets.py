"""Minimal cut sets: the smallest combinations of sites and links that take a service down.

A cut set of a service is a set of base elements whose joint failure makes it down; it is
minimal when no proper subset does. "Down" is monotone (failing more never brings a service
back: reachability only shrinks and dependencies only fail), so a set is minimal iff it is down
and none of its subsets one element smaller is down.
"""

from __future__ import annotations

import numpy as np

from georesil.analysis._sweep import Sweep, colex_rank, sweep
from georesil.model import Topology

__all__ = ["minimal_cut_sets", "minimal_masks"]


def minimal_masks(result: Sweep) -> list[np.ndarray]:
    """Per level k, ``bool (n_services, m_k)``: the set is a minimal cut set of the service."""
    masks = [result.levels[0].down.copy()]
    for level in result.levels[1:]:
        previous = result.levels[level.order - 1]
        # Look the (k-1)-subsets up by colexicographic rank.
        by_rank = np.empty_like(previous.down)
        by_rank[:, colex_rank(previous.combos)] = previous.down
        subset_down = np.zeros_like(level.down)
        for drop in range(level.order):
            subset = np.delete(level.combos, drop, axis=1)
            subset_down |= by_rank[:, colex_rank(subset)]
        masks.append(level.down & ~subset_down)
    return masks


def minimal_cut_sets(topology: Topology, max_order: int = 2,
                     result: Sweep | None = None) -> dict[str, list[list[str]]]:
    """For each service, every minimal set of at most ``max_order`` sites and links taking it down.

    Args:
        topology: The model.
        max_order: Largest set size K.
        result: A sweep of at least ``max_order`` already computed (e.g. by ``analyze``).

    Returns:
        Service id (file order) to its minimal cut sets: each set sorted, the list sorted. A
        service that is down with nothing failed has the single cut set ``[]``.

    Notes:
        Exhaustive: all sum_{k<=K} C(n, k) sets are evaluated by the bit-parallel kernel, then
        minimality costs k colex-rank lookups per set, O(K·sum_k C(n, k)·N) in total.
    """
    result = result or sweep(topology, max_order)
    cuts: dict[str, list[list[str]]] = {sid: [] for sid in result.service_ids}
    for level, mask in zip(result.levels[: max_order + 1], minimal_masks(result), strict=False):
        for s, t in zip(*np.nonzero(mask), strict=True):
            cuts[result.service_ids[s]].append(result.refs(level.combos[t]))
    return {sid: sorted(sets) for sid, sets in cuts.items()}
