"""Network-level findings against brute force with networkx on small random topologies."""

from __future__ import annotations

import itertools

import networkx as nx
from hypothesis import HealthCheck, given, settings

from georesil.analysis.network import network_analysis
from georesil.analysis.spof import shared_risk_groups
from georesil.model import FailureSet, Topology
from tests.unit._analysis_build import build, link, site, zoned


def _disconnected(topology: Topology, failure: FailureSet) -> int:
    """Pairs of up sites connected with nothing failed and apart under ``failure``."""
    before = nx.MultiGraph(topology.graph)
    after = nx.MultiGraph(before)
    after.remove_nodes_from(failure.sites)
    after.remove_edges_from([(k.a, k.b, k.id) for k in topology.links.values()
                             if k.id in failure.links and after.has_edge(k.a, k.b, k.id)])
    up = [s for s in topology.sites if s not in failure.sites]
    return sum(1 for u, v in itertools.combinations(up, 2)
               if nx.has_path(before, u, v) and not nx.has_path(after, u, v))


def _in_one_block(topology: Topology) -> set[tuple[str, str]]:
    pairs = set()
    for block in nx.biconnected_components(nx.MultiGraph(topology.graph)):
        if len(block) < 3:
            continue
        members = [f"site:{s}" for s in block] + [
            f"link:{k.id}" for k in topology.links.values() if k.a in block and k.b in block]
        pairs |= {tuple(sorted(p)) for p in itertools.combinations(members, 2)}
    return pairs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=zoned(max_sites=7, max_links=10))
def test_network_findings_match_brute_force(topology: Topology) -> None:
    """Articulation sites, bridges, partitioning groups and block pairs disconnect exactly
    the pairs brute force counts, and none is missing."""
    result = network_analysis(topology, max_order=2, top=10_000)
    single = {e: _disconnected(topology, topology.expand([e])) for e in topology.elements}
    got = {f.elements[0]: f.pairs for f in (*result.articulation_sites, *result.bridges)}
    assert got == {e: n for e, n in single.items() if n > 0}
    groups = {ref: _disconnected(topology, members)
              for ref, members in shared_risk_groups(topology).items()}
    assert {f.elements[0]: f.pairs for f in result.partitioning_groups} == \
        {g: n for g, n in groups.items() if n > 0}
    expected = {}
    for pair in _in_one_block(topology):
        n = _disconnected(topology, topology.expand(pair))
        if n > max(single[pair[0]], single[pair[1]]):
            expected[pair] = n
    assert {f.elements: f.pairs for f in result.nk if len(f.elements) == 2} == expected
    assert result.exact


def test_ring_with_a_spur() -> None:
    """A ring of four with a spur: the spur's link is a bridge; opposite ring sites split it."""
    topology = build([site(f"r{i}") for i in range(4)] + [site("x")],
                     [link(f"l{i}", f"r{i}", f"r{(i + 1) % 4}") for i in range(4)]
                     + [link("spur", "r0", "x")], [])
    result = network_analysis(topology)
    assert [f.elements for f in result.articulation_sites] == [("site:r0",)]
    assert [(f.elements, f.pairs) for f in result.bridges] == [(("link:spur",), 4)]
    top = {f.elements: f.pairs for f in result.nk}
    # r1 and r3 down: r2 alone against r0 + x (2 pairs), nothing else.
    assert top[("site:r1", "site:r3")] == 2
    assert result.site_pairs == 10 and result.components == 1
