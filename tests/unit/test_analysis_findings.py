"""SPOFs, cut sets, shared risks, region cuts and N-k on topologies checked on paper."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis import Status, inject
from georesil.analysis._sweep import combinations, sweep
from georesil.analysis.analyze import analyze
from georesil.analysis.cut_sets import minimal_cut_sets
from georesil.analysis.nk import rank
from georesil.analysis.partitions import min_srlg_cut, region_cuts
from georesil.analysis.spof import sentence, shared_risks, shared_risks_reference, spofs
from georesil.errors import InvalidInput
from georesil.model import FailureSet, Topology
from tests.unit._analysis_build import build, chain, link, ring, service, site, topologies, zoned


def _parallel() -> Topology:
    """n = s over two links in one conduit (g) plus a third link of its own."""
    return build([site("n"), site("s", "south")],
                 [link("p1", "n", "s", srlg=["g"]), link("p2", "n", "s", srlg=["g"])],
                 [service("db", "s", clients=["n"], tier=1)])


def test_chain_cut_sets() -> None:
    """The chain's minimal cut sets: its client site, or one element towards each replica."""
    assert minimal_cut_sets(chain(), 2) == {"web": [
        ["link:ab", "link:bc"], ["link:ab", "site:c"], ["link:bc", "site:a"],
        ["site:a", "site:c"], ["site:b"]]}


def test_ring_cut_sets() -> None:
    """The ring's cut sets: both ends, or one element on each side of the ring."""
    cuts = minimal_cut_sets(ring(), 3)["api"]
    side1, side2 = ["link:l01", "link:l12", "site:r1"], ["link:l23", "link:l30", "site:r3"]
    expected = [["site:r0"], ["site:r2"]] + [sorted([x, y]) for x in side1 for y in side2]
    assert cuts == sorted(expected)


def test_parallel_links_are_no_spof() -> None:
    """Two parallel links: neither alone is a SPOF; together they are a cut set."""
    topo = _parallel()
    assert [f.element for f in spofs(topo)] == ["site:n", "site:s"]
    assert ["link:p1", "link:p2"] in minimal_cut_sets(topo, 2)["db"]


def test_shared_srlg_is_a_shared_risk() -> None:
    """The conduit both parallel links run through is a shared risk."""
    assert [f.to_json() for f in shared_risks(_parallel())] == [
        {"element": "srlg:g", "down": ["db"], "breach": []}]


def test_region_cut_counts_links_and_srlgs() -> None:
    """Two links separate the regions, but one SRLG does."""
    cuts = region_cuts(_parallel())
    assert [(c.from_region, c.to_region, c.links, c.srlgs, c.exact) for c in cuts] == [
        ("north", "south", 2, 1, True)]
    assert cuts[0].srlg_cut == ("srlg:g",)


def test_region_cut_through_a_third_region() -> None:
    """Paths through other regions count; a link without an SRLG is its own group."""
    topo = build([site("n"), site("m", "central"), site("s", "south")],
                 [link("nm", "n", "m", srlg=["x"]), link("ms", "m", "s", srlg=["x"]),
                  link("ns", "n", "s")], [service("db", "s")])
    got = {(c.from_region, c.to_region): (c.links, c.srlgs) for c in region_cuts(topo)}
    assert got[("north", "south")] == (2, 2)
    assert min_srlg_cut(topo, "north", "south").cut == ("link:ns", "srlg:x")


def test_spof_sentence_names_the_reason() -> None:
    """A SPOF is explained in words."""
    finding = spofs(ring())[0]
    assert sentence(ring(), finding) == \
        "site:r0 is a single point of failure for api: its only replica"


def test_shared_risk_sentence_says_takes_down() -> None:
    """A zone or SRLG finding says what it takes down, with each reason."""
    finding = shared_risks(_parallel())[0]
    assert sentence(_parallel(), finding) == \
        "srlg:g takes down db: cuts every client site off from every replica"


def test_nk_ranks_by_tier_weight() -> None:
    """Tier 1 down scores 100, tier 3 down 1, a tier-3 breach 0.5; ties go to file order."""
    topo = build([site("a"), site("b")], [link("ab", "a", "b")], [
        service("core", "a", tier=1, clients=["a"]),
        service("batch", "b", ("a", "backup", 900), tier=3, rpo_s=60, clients=["a"]),
    ])
    top = rank(topo, 1, 10)
    assert [(e.elements, e.score) for e in top] == [
        (("site:a",), 101), (("site:b",), 0.5), (("link:ab",), 0.5)]


def test_nk_marks_sets_that_add_nothing() -> None:
    """A pair whose extra element changes nothing names the subset with the same effect."""
    by_elements = {e.elements: e for e in rank(ring(), 2, 100)}
    assert by_elements[("link:l01", "site:r0")].same_as == ("site:r0",)
    assert by_elements[("link:l01", "link:l23")].same_as is None


def test_nk_top_limits_length() -> None:
    """Only the top N sets are kept."""
    assert len(rank(ring(), 2, 3)) == 3


def test_combinations_match_itertools() -> None:
    """Vectorised combinations equal itertools' in lexicographic order."""
    for k in range(4):
        assert combinations(6, k).tolist() == [list(c) for c in itertools.combinations(range(6), k)]


def test_analyze_rejects_deep_orders() -> None:
    """max_order above 3 is refused with what is allowed."""
    with pytest.raises(InvalidInput, match="allowed: 1 to 3"):
        analyze(ring(), max_order=4)


def test_analyze_json_has_the_documented_keys() -> None:
    """analyze() JSON has exactly the documented top-level keys, scenarios included."""
    topo = build([site("a"), site("b")], [link("ab", "a", "b")], [service("db", "a")],
                 scenarios=[{"id": "cut", "fail": ["link:ab"]}])
    data = analyze(topo).to_json()
    assert list(data) == ["exact", "spofs", "cut_sets", "shared_risks", "region_cuts", "nk",
                          "scenarios", "network", "control_plane"]
    assert data["exact"] is True and data["network"] is None
    assert data["scenarios"]["cut"]["failed"] == ["link:ab"]


def _brute_force_cuts(topology: Topology, k: int) -> dict[str, set[frozenset[str]]]:
    elements = topology.elements
    down: dict[frozenset[str], set[str]] = {}
    for size in range(k + 1):
        for combo in itertools.combinations(elements, size):
            impact = inject(topology, combo)
            down[frozenset(combo)] = set(impact.with_status(Status.DOWN))
    cuts: dict[str, set[frozenset[str]]] = {s: set() for s in topology.services}
    for combo, dead in down.items():
        for sid in dead:
            proper = (frozenset(c) for n in range(len(combo))
                      for c in itertools.combinations(combo, n))
            if not any(sid in down[p] for p in proper):
                cuts[sid].add(combo)
    return cuts


@pytest.mark.slow
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=topologies(max_sites=5, max_links=5, max_services=3), k=st.integers(1, 3))
def test_cut_sets_are_exactly_the_minimal_ones(topology: Topology, k: int) -> None:
    """Every reported cut set cuts and is minimal, and none of size <= K is missing."""
    got = {s: {frozenset(c) for c in cuts} for s, cuts in minimal_cut_sets(topology, k).items()}
    assert got == _brute_force_cuts(topology, k)


def test_baseline_outage_is_not_blamed_on_elements() -> None:
    """A service down with nothing failed makes no element a SPOF; its cut set is empty."""
    topo = build([site("a"), site("b")], [], [service("db", "a", clients=["b"])])
    assert spofs(topo) == []
    assert minimal_cut_sets(topo, 1) == {"db": [[]]}
    assert inject(topo, FailureSet()).services["db"].status is Status.DOWN


def test_sweep_refuses_more_than_max_sets() -> None:
    """A sweep beyond --max-sets is bad input naming the flag that lifts the limit."""
    topo = build([site(f"s{i}") for i in range(200)],
                 [link(f"l{i}", f"s{i}", f"s{i + 1}") for i in range(199)],
                 [service("db", "s0")])
    with pytest.raises(InvalidInput, match=r"more than --max-sets 5,000,000 allows.*raise "
                                           r"--max-sets.*'georesil simulate'"):
        sweep(topo, 3)
    assert len(sweep(topo, 2, max_sets=100_000).levels) == 3


def test_analyze_copes_with_no_services_or_links() -> None:
    """A lone site, or sites without links, analyse without error."""
    assert analyze(build([site("a")], [], [])).to_json()["cut_sets"] == {}
    apart = build([site("a"), site("b", "south")], [], [service("x", "a")])
    data = analyze(apart, max_order=3).to_json()
    assert data["region_cuts"] == [{
        "from": "north", "to": "south", "exact": True, "links": 0, "link_cut": [],
        "srlgs": 0, "srlg_cut": [], "srlgs_lower_bound": 0, "zones": 0, "zone_cut": [],
        "zones_lower_bound": 0}]
    assert data["cut_sets"] == {"x": [["site:a"]]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=zoned())
def test_shared_risks_kernel_equals_reference(topology: Topology) -> None:
    """Shared risks found by one kernel pass equal the reference evaluator's, group by group."""
    assert shared_risks(topology) == shared_risks_reference(topology)
