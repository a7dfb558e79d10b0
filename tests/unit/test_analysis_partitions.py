"""Region cuts against brute force on small random topologies."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings

from georesil.analysis.partitions import min_link_cut, min_srlg_cut
from georesil.model import Topology
from tests.unit._analysis_build import topologies


def _separated(topology: Topology, failed_links: set[str], a: str, b: str) -> bool:
    graph = nx.MultiGraph()
    graph.add_nodes_from(topology.sites)
    graph.add_edges_from((k.a, k.b) for k in topology.links.values() if k.id not in failed_links)
    side_a = {s for s, spec in topology.sites.items() if spec.region == a}
    side_b = {s for s, spec in topology.sites.items() if spec.region == b}
    reach = set().union(*(nx.node_connected_component(graph, s) for s in side_a))
    return not reach & side_b


def _groups(topology: Topology) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for k in topology.links.values():
        for g in k.srlg or ():
            groups.setdefault(f"srlg:{g}", set()).add(k.id)
        if not k.srlg:
            groups[f"link:{k.id}"] = {k.id}
    return groups


def _fewest(candidates: dict[str, set[str]], ok) -> int:  # type: ignore[no-untyped-def]
    for r in range(len(candidates) + 1):
        for combo in itertools.combinations(candidates, r):
            if ok(set().union(*(candidates[c] for c in combo))):
                return r
    raise AssertionError("failing everything always separates")


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(topology=topologies(max_sites=5, max_links=7, max_services=1))
def test_region_cuts_are_minimum_and_cut(topology: Topology) -> None:
    """Both cuts separate the regions and are as small as brute force finds."""
    if len(topology.regions) < 2:
        return
    a, b = topology.regions[:2]
    links = min_link_cut(topology, a, b)
    assert _separated(topology, links, a, b)
    assert len(links) == _fewest({k: {k} for k in topology.links}, lambda f: _separated(
        topology, f, a, b))
    groups = _groups(topology)
    chosen = min_srlg_cut(topology, a, b, upper=len(links))
    assert _separated(topology, set().union(*(groups[g] for g in chosen)), a, b)
    assert len(chosen) == _fewest(groups, lambda f: _separated(topology, f, a, b))
