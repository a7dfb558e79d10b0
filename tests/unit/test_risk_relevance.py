"""Pruned importance columns change nothing: checked against evaluation and brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis.kernel import CompiledTopology, compile_topology, evaluate_packed
from georesil.risk import _jit, relevance
from georesil.risk.relevance import failure_relevance, repair_relevance
from tests.unit._risk_build import documents, service, site, topology

I64 = np.int64


def _plain(monkeypatch: Any) -> None:
    """Run the loops uncompiled (the same code; the tests then cover the Python source)."""
    monkeypatch.setattr(relevance, "compiled", lambda fn, *helpers: fn)


def _down(ct: Any, failed: set[int]) -> list[int]:
    """Down bits per service of one failure set (elements: sites, then links)."""
    site_down = np.zeros((ct.n_sites, 1), np.uint64)
    link_down = np.zeros((ct.n_links, 1), np.uint64)
    for x in failed:
        if x < ct.n_sites:
            site_down[x] = 1
        else:
            link_down[x - ct.n_sites] = 1
    return evaluate_packed(ct, site_down, link_down, engine="python").down[:, 0].tolist()


def _components(graph: CompiledTopology, failed: set[int], skip: int = -1) -> int:
    """Connected components of up sites over usable links, without element ``skip``."""
    n = graph.n_sites
    up = [v not in failed and v != skip for v in range(n)]
    parent = list(range(n))

    def find(v: int) -> int:
        while parent[v] != v:
            v = parent[v]
        return v

    for e, (a, b) in enumerate(zip(graph.link_a.tolist(), graph.link_b.tolist(), strict=True)):
        if up[a] and up[b] and n + e not in failed and n + e != skip:
            parent[find(a)] = find(b)
    return len({find(v) for v in range(n) if up[v]})


failures = st.lists(st.integers(0, 40), max_size=12).map(set)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(sites=(2, 10), max_links=16, max_services=2), raw=failures)
def test_failure_relevance_is_articulation_or_bridge(doc: dict[str, Any], raw: set[int]
                                                     ) -> None:
    """A site is flagged iff up and a terminal or a cut vertex; a link iff it is a bridge."""
    ct = compile_topology(topology(doc["sites"], doc["links"], doc["services"], doc["zones"]))
    graph = ct
    n_el = ct.n_sites + ct.n_links
    failed = {x % n_el for x in raw}
    got = failure_relevance(graph, np.array([0, len(failed)], I64),
                            np.array(sorted(failed), I64))[:, 0]
    base = _components(graph, failed)
    for x in range(n_el):
        if x in failed:
            want = False
        elif x < ct.n_sites:  # a cut vertex: the others fall into more components without it
            want = bool(graph.terminals[x]) or _components(graph, failed, x) > base
        else:
            want = _components(graph, failed, x) > base
        assert got[x] == want, x


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(sites=(2, 10), max_links=16, max_services=2), raw=failures)
def test_unflagged_failures_change_nothing(doc: dict[str, Any], raw: set[int]) -> None:
    """Failing an element flagged irrelevant leaves every service's down bit as it was."""
    ct = compile_topology(topology(doc["sites"], doc["links"], doc["services"], doc["zones"]))
    n_el = ct.n_sites + ct.n_links
    failed = {x % n_el for x in raw}
    flags = failure_relevance(ct, np.array([0, len(failed)], I64),
                              np.array(sorted(failed), I64))[:, 0]
    before = _down(ct, failed)
    for x in np.flatnonzero(~flags).tolist():
        assert _down(ct, failed | {x}) == before, x


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(sites=(2, 10), max_links=16, max_services=2), raw=failures,
       zoned=failures)
def test_unflagged_repairs_change_nothing(doc: dict[str, Any], raw: set[int],
                                          zoned: set[int]) -> None:
    """Clearing an event flagged irrelevant leaves every service's down bit as it was."""
    ct = compile_topology(topology(doc["sites"], doc["links"], doc["services"], doc["zones"]))
    n_el = ct.n_sites + ct.n_links
    own = sorted({x % n_el for x in raw})
    zone = sorted({x % n_el for x in zoned})  # failed by one zone event, n_el
    elem = np.array(own + zone, I64)
    event = np.array(own + [n_el] * len(zone), I64)
    columns = np.array(sorted(set(own) | ({n_el} if zone else set())), I64)
    flags = repair_relevance(ct, np.array([0, len(elem)], I64), elem, event,
                             np.array([0, len(columns)], I64), columns)
    failed = set(elem.tolist())
    before = _down(ct, failed)
    for ev, flag in zip(columns.tolist(), flags.tolist(), strict=True):
        if not flag:
            still = {x for x, e in zip(elem.tolist(), event.tolist(), strict=True) if e != ev}
            assert _down(ct, still) == before, ev


def test_ring_prunes_transit_elements(monkeypatch: Any) -> None:
    """On a ring, a transit site and a link are irrelevant; cut the ring and they matter."""
    _plain(monkeypatch)
    sites = [site(f"s{i}", 23 + 0.1 * i) for i in range(4)]
    links = [{"id": f"l{i}", "a": f"s{i}", "b": f"s{(i + 1) % 4}"} for i in range(4)]
    ct = compile_topology(topology(sites, links, [service("v", "s0", clients=["s2"])]))
    graph = ct
    intact = failure_relevance(graph, np.array([0, 0], I64), np.zeros(0, I64))[:, 0]
    assert intact.tolist() == [True, False, True, False] + [False] * 4
    cut = failure_relevance(graph, np.array([0, 1], I64), np.array([4 + 2], I64))[:, 0]
    assert cut.tolist() == [True, True, True, False] + [True, True, False, True]  # s3 a leaf
    # repairs: with l2 and s1 down, repairing s1 joins s0 and s2; repairing l2 as well
    elem = np.array([1, 6], I64)
    flags = repair_relevance(graph, np.array([0, 2], I64), elem, elem, np.array([0, 2], I64),
                             elem)
    assert flags.tolist() == [True, True]
    # with l0 also down, s1 has one usable neighbour left (s2): repairing it joins nothing
    elem = np.array([1, 4, 6], I64)
    flags = repair_relevance(graph, np.array([0, 3], I64), elem, elem, np.array([0, 3], I64),
                             elem)
    assert flags.tolist() == [False, False, True]


def test_compiled_helpers_called_by_name() -> None:
    """A compiled loop calls the compiled version of a helper it names."""
    graph = compile_topology(topology(
        [site("a"), site("b", 23.1)], [{"id": "ab", "a": "a", "b": "b"}],
        [service("v", "a", clients=["b"])]))
    elem = np.array([2], I64)
    plain = np.zeros(1, bool)
    relevance._repair_relevance(graph.link_a, graph.link_b, graph.adj_ptr, graph.adj_site,
                                graph.adj_link, graph.terminals, np.array([0, 1], I64), elem,
                                elem, np.array([0, 1], I64), elem, plain)
    fast = _jit.compiled(relevance._repair_relevance, relevance._find)
    out = np.zeros(1, bool)
    fast(graph.link_a, graph.link_b, graph.adj_ptr, graph.adj_site, graph.adj_link,
         graph.terminals, np.array([0, 1], I64), elem, elem, np.array([0, 1], I64), elem, out)
    assert out.tolist() == plain.tolist() == [True]
