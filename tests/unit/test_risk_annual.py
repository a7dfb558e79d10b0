"""Annual event risk (``--years``) against Poisson closed forms."""

from __future__ import annotations

import math

import pytest

from georesil.errors import InvalidInput
from georesil.risk.annual import simulate_years
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
