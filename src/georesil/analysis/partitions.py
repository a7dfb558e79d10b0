"""Region cuts: how few links, or how few SRLGs, separate two regions.

Only links fail here (sites stay up); paths may pass through sites of any region. A region
pair with no path at all needs 0 links and 0 SRLGs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import networkx as nx
import structlog

from georesil.errors import AnalysisError
from georesil.model import Topology

__all__ = ["RegionCut", "SearchGaveUp", "min_link_cut", "min_srlg_cut", "region_cuts"]

log = structlog.get_logger(__name__)

#: Path searches the exact SRLG search may run before giving up (about 10 s on 200 sites).
MAX_SEARCH_STEPS = 20_000


class SearchGaveUp(AnalysisError):
    """The exact SRLG search ran out of its step budget."""


@dataclass(frozen=True)
class RegionCut:
    """The fewest links and the fewest SRLG groups whose failure separates two regions.

    Attributes:
        from_region, to_region: The two region labels (in order of first appearance).
        links: Size of a minimum link cut.
        srlgs: Fewest SRLG groups (a link without an SRLG is a group of its own), or ``None``
            when the exact search gave up (see :data:`MAX_SEARCH_STEPS`).
        link_cut: One minimum link cut, sorted link ids.
        srlg_cut: One minimum group cut: ``srlg:ID`` or ``link:ID`` references, sorted.
    """

    from_region: str
    to_region: str
    links: int
    srlgs: int | None
    link_cut: tuple[str, ...]
    srlg_cut: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_region, "to": self.to_region, "links": self.links,
                "srlgs": self.srlgs}


def region_cuts(topology: Topology) -> list[RegionCut]:
    """For each pair of region labels, the fewest links and the fewest SRLGs separating them.

    A pair whose exact SRLG search gives up gets ``srlgs=None`` (and a logged warning)
    rather than failing the whole analysis.
    """
    cuts = []
    for a, b in combinations(topology.regions, 2):
        links = min_link_cut(topology, a, b)
        try:
            groups: set[str] | None = min_srlg_cut(topology, a, b, upper=len(links))
        except SearchGaveUp:
            log.warning("region_cut.search_abandoned", from_region=a, to_region=b,
                        steps=MAX_SEARCH_STEPS)
            groups = None
        cuts.append(RegionCut(a, b, len(links), None if groups is None else len(groups),
                              tuple(sorted(links)), tuple(sorted(groups or ()))))
    return cuts


def _members(topology: Topology, region: str) -> set[str]:
    return {s.id for s in topology.sites.values() if s.region == region}


def min_link_cut(topology: Topology, a: str, b: str) -> set[str]:
    """A minimum set of links whose failure leaves no path between regions ``a`` and ``b``.

    Notes:
        Each region is contracted into a super-node; parallel links add up as capacities;
        the minimum cut is a maximum flow (networkx's preflow-push, O(V²·√E)). The links
        crossing the cut are read off the residual network.
    """
    side = {s: a for s in _members(topology, a)} | {s: b for s in _members(topology, b)}
    flow = nx.DiGraph()
    flow.add_nodes_from([a, b])
    for link in topology.links.values():
        u, v = side.get(link.a, link.a), side.get(link.b, link.b)
        if u == v:
            continue
        for x, y in ((u, v), (v, u)):
            capacity = flow.edges[x, y]["capacity"] + 1 if flow.has_edge(x, y) else 1
            flow.add_edge(x, y, capacity=capacity)
    _, (reachable, _) = nx.minimum_cut(flow, a, b)
    return {link.id for link in topology.links.values()
            if (side.get(link.a, link.a) in reachable) != (side.get(link.b, link.b) in reachable)}


def min_srlg_cut(topology: Topology, a: str, b: str, upper: int | None = None) -> set[str]:
    """A minimum set of SRLG groups whose failure leaves no path between regions ``a`` and ``b``.

    Groups are the SRLGs (``srlg:ID``) plus, for each link without one, the link itself
    (``link:ID``). A link fails when any of its groups fails.

    Notes:
        Exact iterative deepening: with a budget of r groups, find a shortest path between
        the regions over surviving links; every cut must fail a group on it, so branch on
        each of its groups with budget r - 1. O(b^r·(V + E)) for b groups per path. The
        minimum link cut bounds r from above, since failing one group per cut link cuts.
        A branch is pruned when more than r paths sharing no group are found greedily (each
        needs a group of its own), and deepening starts at that bound.

    Raises:
        SearchGaveUp: the search ran more than :data:`MAX_SEARCH_STEPS` path searches.
    """
    groups_of = {k.id: [f"srlg:{g}" for g in k.srlg] or [f"link:{k.id}"]
                 for k in topology.links.values()}
    sources, targets = _members(topology, a), _members(topology, b)
    budget = [MAX_SEARCH_STEPS]
    limit = upper if upper is not None else len(groups_of)
    lower = _disjoint_paths(topology, groups_of, sources, targets, frozenset(), limit, budget)
    for r in range(lower, limit + 1):
        found = _search(topology, groups_of, sources, targets, frozenset(), r, budget)
        if found is not None:
            return set(found)
    raise AnalysisError(f"no SRLG cut of at most {limit} groups separates {a} from {b}",
                        regions=(a, b))  # unreachable when upper is the link cut size


def _search(topology: Topology, groups_of: dict[str, list[str]], sources: set[str],
            targets: set[str], failed: frozenset[str], r: int, budget: list[int]
            ) -> frozenset[str] | None:
    path = _shortest_path(topology, groups_of, sources, targets, failed, budget)
    if path is None:
        return failed
    if r == 0 or _disjoint_paths(topology, groups_of, sources, targets, failed, r + 1, budget) > r:
        return None
    for group in dict.fromkeys(g for link in path for g in groups_of[link]):
        found = _search(topology, groups_of, sources, targets, failed | {group}, r - 1, budget)
        if found is not None:
            return found
    return None


def _disjoint_paths(topology: Topology, groups_of: dict[str, list[str]], sources: set[str],
                    targets: set[str], failed: frozenset[str], enough: int,
                    budget: list[int]) -> int:
    """Greedily count paths sharing no group (stopping at ``enough``): a lower bound on the cut."""
    used = set(failed)
    count = 0
    while count < enough:
        path = _shortest_path(topology, groups_of, sources, targets, frozenset(used), budget)
        if path is None:
            break
        used.update(g for link in path for g in groups_of[link])
        count += 1
    return count


def _shortest_path(topology: Topology, groups_of: dict[str, list[str]], sources: Iterable[str],
                   targets: set[str], failed: frozenset[str], budget: list[int]
                   ) -> list[str] | None:
    """Links of a shortest surviving path from any source to any target, or ``None``."""
    budget[0] -= 1
    if budget[0] < 0:
        raise SearchGaveUp(f"the exact SRLG region-cut search gave up after "
                           f"{MAX_SEARCH_STEPS:,} path searches")
    parent: dict[str, tuple[str, str] | None] = {s: None for s in sources}
    queue = deque(parent)
    while queue:
        u = queue.popleft()
        if u in targets:
            links = []
            while (step := parent[u]) is not None:
                u, link = step
                links.append(link)
            return links
        for _, v, link in topology.graph.edges(u, keys=True):
            if v not in parent and not failed.intersection(groups_of[link]):
                parent[v] = (u, link)
                queue.append(v)
    return None
