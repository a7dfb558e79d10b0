"""Minimal cut sets: the smallest combinations of sites and links that take a service down.

A cut set of a service is a set of base elements whose joint failure makes it down; it is
minimal when no proper subset does. "Down" is monotone (failing more never brings a service
back: reachability only shrinks and dependencies only fail), so a set is minimal iff it is down
and none of its subsets one element smaller is down.
"""

from __future__ import annotations

import itertools

import numpy as np

from georesil.analysis._class_sweep import ClassSweep, class_sweep
from georesil.analysis._sweep import Sweep, colex_rank, sweep
from georesil.model import Topology

__all__ = ["minimal_cut_sets", "minimal_cut_sets_exhaustive", "minimal_masks"]


def minimal_cut_sets(topology: Topology, max_order: int = 2,
                     result: ClassSweep | None = None) -> dict[str, list[list[str]]]:
    """For each service, every minimal set of at most ``max_order`` sites and links taking it down.

    Args:
        topology: The model.
        max_order: Largest set size K.
        result: A class sweep of at least ``max_order`` already computed (e.g. by ``analyze``).

    Returns:
        Service id (file order) to its minimal cut sets: each set sorted, the list sorted. A
        service that is down with nothing failed has the single cut set ``[]``.

    Notes:
        A minimal cut set never holds an element that cannot change an outcome, nor two
        elements of one chain of pass-through sites (dropping either leaves the effect as it
        was), so the minimal cut sets are exactly one element from each class of the
        minimal cut sets over failure classes (:mod:`georesil.analysis._class_sweep`:
        sum_{k<=K} C(c, k) sets of c classes, minimality by bit-table lookups), expanded.
        :func:`minimal_cut_sets_exhaustive` is the plain sweep of every set of elements.
    """
    if result is None or result.max_order < max_order:
        result = class_sweep(topology, max_order)
    elements, members = topology.elements, result.classes.members
    cuts: dict[str, list[list[str]]] = {sid: [] for sid in result.service_ids}
    for services, sets in result.cuts[: max_order + 1]:
        for s, row in zip(services.tolist(), sets.tolist(), strict=True):
            found = cuts[result.service_ids[s]]
            for combo in itertools.product(*(members[c] for c in row)):
                found.append(sorted(elements[i] for i in combo))
    return {sid: sorted(sets) for sid, sets in cuts.items()}


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


def minimal_cut_sets_exhaustive(topology: Topology, max_order: int = 2,
                                result: Sweep | None = None) -> dict[str, list[list[str]]]:
    """:func:`minimal_cut_sets` from an exhaustive sweep of every set of sites and links.

    The reference the tests compare the class sweep with.

    Notes:
        All sum_{k<=K} C(n, k) sets are evaluated by the bit-parallel kernel, then
        minimality costs k colex-rank lookups per set, O(K·sum_k C(n, k)·N) in total.
    """
    result = result or sweep(topology, max_order)
    cuts: dict[str, list[list[str]]] = {sid: [] for sid in result.service_ids}
    for level, mask in zip(result.levels[: max_order + 1], minimal_masks(result), strict=False):
        for s, t in zip(*np.nonzero(mask), strict=True):
            cuts[result.service_ids[s]].append(result.refs(level.combos[t]))
    return {sid: sorted(sets) for sid, sets in cuts.items()}
