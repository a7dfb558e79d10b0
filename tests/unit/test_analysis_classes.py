"""Failure classes and the class sweep: the same findings as the exhaustive sweep, faster."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis._class_sweep import class_sweep
from georesil.analysis._classes import failure_classes, identity_classes
from georesil.analysis._sweep import sweep
from georesil.analysis.analyze import analyze
from georesil.analysis.cut_sets import minimal_cut_sets, minimal_cut_sets_exhaustive
from georesil.analysis.nk import rank, rank_exhaustive, score_weights
from georesil.analysis.spof import spofs, spofs_exhaustive
from georesil.errors import InvalidInput
from georesil.model import Topology
from tests.unit._analysis_build import build, link, reducible, service, site


def _classes_by_ref(topology: Topology) -> list[list[str]]:
    classes = failure_classes(topology)
    return [[topology.elements[i] for i in members] for members in classes.members]


def _spur_and_chain() -> Topology:
    """a = b (two parallel links), b — x — y — c a chain, c — a, and a spur t — u off c.

    db: primary a, secondary c, used from b.
    """
    return build([site(s) for s in ("a", "b", "c", "x", "y", "t", "u")],
                 [link("ab1", "a", "b"), link("ab2", "a", "b"), link("bx", "b", "x"),
                  link("xy", "x", "y"), link("yc", "y", "c"), link("ca", "c", "a"),
                  link("ct", "c", "t"), link("tu", "t", "u")],
                 [service("db", "a", ("c", "sync", 0), clients=["b"])])


def test_a_chain_of_pass_through_sites_is_one_class() -> None:
    """x and y with their three links form one class; parallel links stay two classes."""
    assert _classes_by_ref(_spur_and_chain()) == [
        ["site:a"], ["site:b"], ["site:c"], ["link:ab1"], ["link:ab2"],
        ["site:x", "site:y", "link:bx", "link:xy", "link:yc"], ["link:ca"]]


def test_a_spur_without_terminals_cannot_change_anything() -> None:
    """The spur t — u hangs off the network with no replica or client: irrelevant."""
    topo = _spur_and_chain()
    classes = failure_classes(topo)
    assert [topo.elements[i] for i in classes.irrelevant] == [
        "site:t", "site:u", "link:ct", "link:tu"]


def test_a_hanging_cycle_without_terminals_is_irrelevant() -> None:
    """A cycle through b and two sites of its own joins no two terminals."""
    topo = build([site(s) for s in ("a", "b", "p", "q")],
                 [link("ab", "a", "b"), link("bp", "b", "p"), link("pq", "p", "q"),
                  link("qb", "q", "b")],
                 [service("db", "a", clients=["b"])])
    assert _classes_by_ref(topo) == [["site:a"], ["site:b"], ["link:ab"]]


def test_a_chain_cut_set_expands_to_one_element_of_each_class() -> None:
    """Cutting b off from both replicas: the chain (any of its 5 elements) and ca, or … ."""
    cuts = minimal_cut_sets(_spur_and_chain(), 3)["db"]
    assert cuts == minimal_cut_sets_exhaustive(_spur_and_chain(), 3)["db"]
    chain = ["link:bx", "link:xy", "link:yc", "site:x", "site:y"]
    assert all(sorted(["link:ab1", "link:ab2", x]) in cuts for x in chain)


def test_class_sweep_refuses_more_than_max_sets() -> None:
    """A class sweep beyond --max-sets is bad input naming the flag that lifts the limit."""
    topo = build([site(f"s{i}") for i in range(40)],
                 [link(f"l{i}", f"s{i}", f"s{(i + 1) % 40}") for i in range(40)],
                 [service(f"v{i}", f"s{i}") for i in range(40)])
    with pytest.raises(InvalidInput, match=r"--max-order 2: 3,241 failure sets of up to 2 of "
                                           r"80 failure classes .* more than --max-sets 3,000 "
                                           r"allows.*raise --max-sets"):
        class_sweep(topo, 2, max_sets=3_000)
    assert class_sweep(topo, 2, max_sets=3_241).sets == 3_241


def test_analyze_reports_progress_over_class_sets() -> None:
    """The progress callback counts class sets and ends at the total."""
    seen: list[tuple[int, int]] = []
    analyze(_spur_and_chain(), max_order=3, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (1 + 7 + 21 + 35,) * 2


def test_a_tie_found_later_in_the_sweep_still_wins_on_element_order() -> None:
    """With one set of each score kept, a tying pair swept after the kept one but whose
    elements come first in file order replaces it (the chain's h01 comes before c1)."""
    topo = build([site(s) for s in ("h01", "c1", "h00", "c0", "h10", "h11")],
                 [link("l0", "c0", "h00"), link("l1", "h00", "h01"), link("l2", "h01", "c0"),
                  link("l3", "c0", "h10"), link("l4", "h10", "h11"), link("l5", "h11", "c0"),
                  link("l6", "c0", "h00")],
                 [service("v0", "c0", ("c1", "sync", 0), ("h00", "sync", 0), tier=1, rto_s=0,
                          rpo_s=0, failover_s=50)])
    result = class_sweep(topo, 2, top=2, weights=score_weights(topo), chunk=1)
    assert [e.elements for e in rank(topo, 2, 2, result)] == [
        ("site:c0",), ("site:c0", "site:h01")]
    assert rank(topo, 2, 2, result) == rank_exhaustive(topo, 2, 2)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topology=reducible(), k=st.integers(1, 3), top=st.sampled_from([1, 3, 60]),
       reduce=st.booleans())
def test_class_sweep_equals_the_exhaustive_sweep(topology: Topology, k: int, top: int,
                                                 reduce: bool) -> None:
    """SPOFs, minimal cut sets and the N-k ranking (ties, same_as) equal the exhaustive ones,
    with the failure classes and with every element its own class."""
    classes = failure_classes(topology) if reduce else identity_classes(topology)
    result = class_sweep(topology, k, top=top, weights=score_weights(topology), chunk=1,
                         classes=classes)
    reference = sweep(topology, k)
    assert spofs(topology, result) == spofs_exhaustive(topology, reference)
    assert minimal_cut_sets(topology, k, result) == \
        minimal_cut_sets_exhaustive(topology, k, reference)
    assert rank(topology, k, top, result) == rank_exhaustive(topology, k, top, reference)


def _wide(seed: int) -> Topology:
    """Well over 128 failure classes (three 64-class blocks): a random core of 40 sites,
    chains of 1-3 pass-through sites, spurs; eight services, some with clients elsewhere."""
    rng = random.Random(seed)
    core = [f"c{i:02d}" for i in range(40)]
    pairs = [(core[i], core[rng.randrange(i)]) for i in range(1, 40)]  # a spanning tree
    pairs += [(a, b) for a, b in (rng.sample(core, 2) for _ in range(30))]
    names = list(core)
    for c in range(16):
        inner = [f"h{c:02d}{j}" for j in range(rng.randint(1, 3))]
        path = [rng.choice(core), *inner, rng.choice(core)]
        pairs += list(zip(path, path[1:], strict=False))
        names += inner
    for p in range(10):
        names.append(f"p{p}")
        pairs.append((rng.choice(names[:-1]), f"p{p}"))
    services = []
    for i in range(8):
        where = rng.sample(names, 2)
        extra: dict[str, object] = {"tier": rng.randint(1, 3)}
        if rng.random() < 0.5:
            extra["clients"] = rng.sample(names, 2)
        services.append(service(f"v{i}", where[0], (where[1], "async", 60), rpo_s=30,
                                **extra))
    return build([site(x) for x in names],
                 [link(f"l{i:03d}", a, b) for i, (a, b) in enumerate(pairs)], services)


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "k", "chunk"), [(1, 2, 4096), (2, 3, 4096), (3, 3, 7)])
def test_class_sweep_equals_the_exhaustive_sweep_over_many_blocks(seed: int, k: int,
                                                                  chunk: int) -> None:
    """With classes in several 64-class blocks, the findings still equal the exhaustive ones."""
    topology = _wide(seed)
    result = class_sweep(topology, k, top=40, weights=score_weights(topology), chunk=chunk)
    assert len(result.classes) > 128
    reference = sweep(topology, k)
    assert spofs(topology, result) == spofs_exhaustive(topology, reference)
    assert minimal_cut_sets(topology, k, result) == \
        minimal_cut_sets_exhaustive(topology, k, reference)
    assert rank(topology, k, 40, result) == rank_exhaustive(topology, k, 40, reference)
