"""Annual event risk (``--years``) against Poisson closed forms."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis.impact import Status
from georesil.analysis.reference import evaluate
from georesil.errors import InvalidInput
from georesil.model import FailureSet
from georesil.risk._annual_outcomes import OutcomeTable
from georesil.risk.annual import YEARS_PER_CHUNK, simulate_years
from tests.unit._annual_reference import simulate_years_reference
from tests.unit._risk_build import service, site, topology

YEARS = 20_000


def _weather(rate: float = 0.5, mean_h: float = 10.0) -> object:
    return topology(
        [site("a", zones=["storm"]), site("b", 23.1, 120.3)],
        [{"id": "ab", "a": "a", "b": "b", "unavailability": 0.0}],
        [service("svc", "a"), service("dup", "a", ("b",), tier=2)],
        [{"id": "storm", "kind": "weather", "annual_rate": rate, "mean_duration_h": mean_h}],
    )


def _sigma(p: float) -> float:
    return math.sqrt(p * (1 - p) / YEARS)


def test_outage_probability_per_year() -> None:
    """P(≥ 1 outage in a year) = 1 − e^{−λ} for a Poisson zone taking the only replica down."""
    out = simulate_years(_weather(0.5), YEARS, seed=1).services["svc"]
    expected = 1 - math.exp(-0.5)
    assert abs(out["p_outage_per_year"] - expected) < 4 * _sigma(expected)


def test_expected_downtime() -> None:
    """Expected downtime per year = λ × mean duration."""
    out = simulate_years(_weather(0.5, 10.0), YEARS, seed=2).services["svc"]
    assert out["expected_downtime_h_per_year"] == pytest.approx(5.0, rel=0.06)


def test_failover_is_not_downtime_beyond_recovery() -> None:
    """A replicated service only pays its failover time (0 here) when its primary's zone fails."""
    out = simulate_years(_weather(0.5), YEARS, seed=3).services["dup"]
    assert out["expected_downtime_h_per_year"] == 0.0


def test_loss_exceedance_rate() -> None:
    """The rate of events taking ≥ 1 tier-1 service down is the zone's rate, all from the zone."""
    row = simulate_years(_weather(0.5), YEARS, seed=4).loss_exceedance[0]
    assert row["annual_rate"] == pytest.approx(0.5, rel=0.05)
    assert row["dominated_by"][0]["event"] == "zone:storm"
    assert row["return_period_years"] == pytest.approx(2.0, rel=0.05)


def test_power_backup_in_annual_mode() -> None:
    """A 10 h backup against 10 h mean outages: only a fraction e^{-1} of outages take it down."""
    topo = topology([site("a", zones=["grid"], backup_power_h=10.0)], [], [service("s", "a")],
                    [{"id": "grid", "kind": "power", "annual_rate": 1.0, "mean_duration_h": 10.0}])
    out = simulate_years(topo, YEARS, seed=5).services["s"]
    expected = 1 - math.exp(-math.exp(-1.0))
    assert abs(out["p_outage_per_year"] - expected) < 4 * _sigma(expected)
    # the site is down for the part beyond the backup: mean 10 h (memoryless) per such outage
    assert out["expected_downtime_h_per_year"] == pytest.approx(10 * math.exp(-1), rel=0.08)


def test_quakes_from_sources() -> None:
    """A strong nearby source dominates the loss-exceedance table with labelled quakes."""
    topo = topology(
        [site("a", 23.1, 120.28, fragility={"median_g": 0.1, "beta": 0.5})], [],
        [service("s", "a")],
        seismic={"sources": [{"id": "meinong", "location": {"lat": 23.0, "lon": 120.5},
                              "annual_rate": 0.2, "m_min": 6.0, "m_max": 7.0}]})
    result = simulate_years(topo, 5000, seed=6)
    assert result.loss_exceedance[0]["dominated_by"][0]["event"].startswith("quake:meinong M")
    assert result.services["s"]["p_outage_per_year"] > 0.05


def test_same_seed_same_result() -> None:
    """The same seed gives identical annual results."""
    a = simulate_years(_weather(), 3000, seed=9).to_json()
    assert a == simulate_years(_weather(), 3000, seed=9).to_json()


def test_zero_years_rejected() -> None:
    """--years 0 is an InvalidInput."""
    with pytest.raises(InvalidInput, match="--years: got 0"):
        simulate_years(_weather(), 0)


# -- the fast path against the plain event-by-event reference ---------------------------


def _replica(site_id: str, lag: float | None) -> dict[str, Any]:
    if lag is None:
        return {"site": site_id, "role": "secondary", "replication": "sync"}
    return {"site": site_id, "role": "secondary", "replication": "async", "lag_s": lag}


@st.composite
def _annual_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Small topologies with every kind of event and every way a service can be hit: zones
    with rates (a power zone with backups), element failures, a quake source; services with
    several secondaries of different data loss, dependencies and slow failovers."""
    n = draw(st.integers(2, 6))
    probs = st.sampled_from([None, 0.001, 0.01, 0.03])
    sites = [site(f"s{i}", 23 + i * 0.2, 120.5, unavailability=draw(probs),
                  zones=draw(st.lists(st.sampled_from(["grid", "storm"]), unique=True)),
                  backup_power_h=draw(st.sampled_from([0, 2, 8])),
                  fragility={"median_g": draw(st.sampled_from([0.05, 0.2, 0.6])), "beta": 0.5})
             for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda p: p[0] != p[1]), min_size=1, max_size=8))
    links = [{"id": f"l{i}", "a": f"s{a}", "b": f"s{b}", "unavailability": draw(probs) or 0.0,
              "zones": ["storm"] if draw(st.booleans()) else []}
             for i, (a, b) in enumerate(pairs)]
    services: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 4))):
        placed = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True))
        lags = st.sampled_from([None, 0.0, 30.0, 60.0, 600.0])
        clients = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True))
        deps = draw(st.lists(st.sampled_from([s["id"] for s in services]), unique=True,
                             max_size=2)) if services else []
        services.append({
            "id": f"v{i}", "tier": draw(st.integers(1, 2)), "rto_s": 600, "rpo_s": 60,
            "failover_s": draw(st.sampled_from([0.0, 120.0, 1200.0])),
            "clients": [f"s{c}" for c in clients], "depends_on": deps,
            "replicas": [{"site": f"s{placed[0]}", "role": "primary"}]
            + [_replica(f"s{p}", draw(lags)) for p in placed[1:]]})
    zones = [{"id": "grid", "kind": "power", "annual_rate": 3.0, "mean_duration_h": 6.0},
             {"id": "storm", "kind": "weather", "annual_rate": draw(st.sampled_from([0.0, 1.5])),
              "mean_duration_h": 20.0}]
    sources = [{"id": "fault", "location": {"lat": 23.4, "lon": 120.6}, "annual_rate": 2.0,
                "m_min": 5.5, "m_max": 7.5}] if draw(st.booleans()) else []
    return {"sites": sites, "links": links, "services": services, "zones": zones,
            "seismic": {"sources": sources}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_annual_documents(), seed=st.integers(0, 2**32), years=st.integers(1, 400))
def test_fast_path_matches_reference(doc: dict[str, Any], seed: int, years: int) -> None:
    """Same seed, same numbers as the plain simulation evaluating event by event in networkx."""
    topo = topology(doc["sites"], doc["links"], doc["services"], doc["zones"],
                    seismic=doc["seismic"])
    assert simulate_years(topo, years, seed).to_json() == \
        simulate_years_reference(topo, years, seed).to_json()


def test_fast_path_matches_reference_across_chunks() -> None:
    """Over several chunks of years (and a partial last one) the results are the same too."""
    doc = _ANNUAL_EXAMPLE
    topo = topology(doc["sites"], doc["links"], doc["services"], doc["zones"],
                    seismic=doc["seismic"])
    years = 2 * YEARS_PER_CHUNK + 37
    assert simulate_years(topo, years, 11).to_json() == \
        simulate_years_reference(topo, years, 11).to_json()


_ANNUAL_EXAMPLE: dict[str, Any] = {
    "sites": [site("a", 23.0, 120.5, unavailability=0.01, zones=["grid"], backup_power_h=4),
              site("b", 23.2, 120.5, unavailability=0.02, zones=["grid"], backup_power_h=0),
              site("c", 23.4, 120.5, unavailability=0.01, fragility={"median_g": 0.1,
                                                                     "beta": 0.5}),
              site("d", 23.6, 120.5)],
    "links": [{"id": "ab", "a": "a", "b": "b", "unavailability": 0.02},
              {"id": "bc", "a": "b", "b": "c", "unavailability": 0.01},
              {"id": "cd", "a": "c", "b": "d", "unavailability": 0.01},
              {"id": "ad", "a": "a", "b": "d", "unavailability": 0.03}],
    "services": [
        {"id": "db", "tier": 1, "rto_s": 600, "rpo_s": 60, "failover_s": 1200.0,
         "clients": ["d"], "replicas": [{"site": "a", "role": "primary"},
                                        _replica("b", 600.0), _replica("c", 30.0),
                                        _replica("d", None)]},
        {"id": "web", "tier": 1, "rto_s": 900, "rpo_s": 60, "failover_s": 60.0,
         "clients": ["c", "d"], "depends_on": ["db"],
         "replicas": [{"site": "b", "role": "primary"}, _replica("c", 30.0)]}],
    "zones": [{"id": "grid", "kind": "power", "annual_rate": 2.0, "mean_duration_h": 6.0}],
    "seismic": {"sources": [{"id": "fault", "location": {"lat": 23.4, "lon": 120.6},
                             "annual_rate": 1.0, "m_min": 5.5, "m_max": 7.5}]},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_annual_documents(), data=st.data())
def test_outcome_table_matches_reference(doc: dict[str, Any], data: st.DataObject) -> None:
    """Per failure set: down, recovery, data loss and RPO breach are the reference's values."""
    topo = topology(doc["sites"], doc["links"], doc["services"], doc["zones"],
                    seismic=doc["seismic"])
    sets = data.draw(st.lists(st.builds(
        FailureSet, sites=st.frozensets(st.sampled_from(list(topo.sites))),
        links=st.frozensets(st.sampled_from(list(topo.links)))), min_size=1, max_size=70))
    table = OutcomeTable(topo)
    rows = [table.row(f) for f in sets]
    table.evaluate()
    for f, r in zip(sets, rows, strict=True):
        impact = evaluate(topo, f)
        for i, sid in enumerate(topo.services):
            got = impact.services[sid]
            assert table.down[r, i] == (got.status is Status.DOWN)
            assert table.recovery_h[r, i] == (got.recovery_s or 0.0) / 3600.0
            assert table.data_loss_s[r, i] == (got.data_loss_s or 0.0)
            assert table.rpo_breach[r, i] == ((got.data_loss_s or 0.0) > topo.services[sid].rpo_s)
