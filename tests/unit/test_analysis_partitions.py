"""Region cuts against brute force on small random topologies."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis.partitions import (
    Budget,
    min_link_cut,
    min_srlg_cut,
    min_zone_cut,
    region_cuts,
    srlg_groups,
)
from georesil.model import Topology
from tests.unit._analysis_build import build, link, service, site, zoned

_REGIONS = ["north", "central", "south"]  # the order zoned() draws them from


def _separated(topology: Topology, a: str, b: str, failed_sites: set[str],
               failed_links: set[str]) -> bool:
    """No up site of ``a`` reaches an up site of ``b`` (plain networkx)."""
    graph: nx.MultiGraph[str] = nx.MultiGraph()
    graph.add_nodes_from(s for s in topology.sites if s not in failed_sites)
    graph.add_edges_from((k.a, k.b) for k in topology.links.values()
                         if k.id not in failed_links and not {k.a, k.b} & failed_sites)
    side_a = {s for s, spec in topology.sites.items() if spec.region == a} - failed_sites
    side_b = {s for s, spec in topology.sites.items() if spec.region == b} - failed_sites
    reach = set().union(*(nx.node_connected_component(graph, s) for s in side_a))
    return not reach & side_b


def _fewest(candidates: list[str], ok: Callable[[set[str]], bool]) -> int | None:
    for r in range(len(candidates) + 1):
        for combo in itertools.combinations(candidates, r):
            if ok(set(combo)):
                return r
    return None


def _srlg_failure(topology: Topology, groups: set[str]) -> set[str]:
    return {k for k, gs in srlg_groups(topology).items() if groups.intersection(gs)}


def _zone_failure(topology: Topology, zones: set[str]) -> tuple[set[str], set[str]]:
    names = {z.removeprefix("zone:") for z in zones}
    return ({s.id for s in topology.sites.values() if names.intersection(s.zones)},
            {k.id for k in topology.links.values() if names.intersection(k.zones)})


def _pair(topology: Topology) -> tuple[str, str] | None:
    regions = [r for r in _REGIONS if r in topology.regions]
    return (regions[0], regions[1]) if len(regions) >= 2 else None


_SETTINGS: Any = settings(max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@_SETTINGS
@given(topology=zoned())
def test_link_cut_is_minimum_and_cuts(topology: Topology) -> None:
    """The max-flow link cut separates the regions and is as small as brute force finds."""
    if (pair := _pair(topology)) is None:
        return
    a, b = pair
    links = min_link_cut(topology, a, b)
    assert _separated(topology, a, b, set(), links)
    assert len(links) == _fewest(list(topology.links),
                                 lambda f: _separated(topology, a, b, set(), f))


@pytest.mark.slow
@_SETTINGS
@given(topology=zoned())
def test_srlg_cut_is_minimum_and_cuts(topology: Topology) -> None:
    """The SRLG cut separates the regions and is as small as brute force finds."""
    if (pair := _pair(topology)) is None:
        return
    a, b = pair
    found = min_srlg_cut(topology, a, b)
    assert found.exact and found.lower == found.size
    assert _separated(topology, a, b, set(), _srlg_failure(topology, set(found.cut)))
    candidates = sorted({g for gs in srlg_groups(topology).values() for g in gs})
    assert found.size == _fewest(candidates, lambda f: _separated(
        topology, a, b, set(), _srlg_failure(topology, f)))


@pytest.mark.slow
@_SETTINGS
@given(topology=zoned(), by_program=st.booleans())
def test_zone_cut_is_minimum_and_cuts(topology: Topology, by_program: bool) -> None:
    """The zone cut, by subset search or by the integer program, separates the regions'
    surviving sites and is as small as brute force finds (or neither finds one)."""
    if (pair := _pair(topology)) is None:
        return
    a, b = pair
    found = min_zone_cut(topology, a, b, Budget(subsets=0) if by_program else None)
    expected = _fewest([f"zone:{z}" for z in topology.zones], lambda f: _separated(
        topology, a, b, *_zone_failure(topology, f)))
    assert found.size == expected
    if expected is not None:
        assert found.exact and found.lower == found.size
        assert _separated(topology, a, b, *_zone_failure(topology, set(found.cut)))


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=zoned(max_sites=7, max_links=12))
def test_no_budget_still_gives_a_cut_and_a_true_lower_bound(topology: Topology) -> None:
    """With no work allowed, the answer is a valid cut, and lower bound <= optimum <= size."""
    if (pair := _pair(topology)) is None:
        return
    a, b = pair
    found = min_srlg_cut(topology, a, b, Budget(nodes=0, seconds=0.0))
    optimum = min_srlg_cut(topology, a, b).size
    assert found.size is not None and found.lower is not None and optimum is not None
    assert found.lower <= optimum <= found.size
    assert found.exact == (found.lower == found.size)
    assert _separated(topology, a, b, set(), _srlg_failure(topology, set(found.cut)))


@pytest.mark.parametrize("budget", [Budget(nodes=0, seconds=0.0), Budget(total_seconds=0.0)])
def test_exhausted_budget_is_reported_in_json(budget: Budget) -> None:
    """A pair whose search ran out of budget (its own, or all pairs' time) says exact: false,
    with a best cut and a lower bound."""
    sites = [site(f"n{i}") for i in range(4)] + [site(f"s{i}", "south") for i in range(4)]
    links = [link(f"l{i}{j}", f"n{i}", f"s{j}", srlg=[f"g{(i + j) % 3}", f"h{i * j % 4}"])
             for i in range(4) for j in range(4)]
    topology = build(sites, links, [service("x", "n0")])
    (cut,) = region_cuts(topology, budget)
    data = cut.to_json()
    assert data["exact"] is False
    assert 1 <= data["srlgs_lower_bound"] < data["srlgs"]
    assert _separated(topology, "north", "south", set(), _srlg_failure(
        topology, set(data["srlg_cut"])))
