"""Snapshot availability against closed forms: series pair, parallel pair, backup power."""

from __future__ import annotations

import math

import pytest

from georesil.hazards.zones import zone_unavailability
from georesil.risk.engine import simulate_snapshot
from georesil.risk.exact import exact_snapshot
from tests.unit._risk_build import backup_zone, parallel_pair, series_pair


def test_series_pair_exact() -> None:
    """Series: down iff the site or the link is down, 1 − (1 − p_s)(1 − p_l)."""
    r = exact_snapshot(series_pair(0.02, 0.05))
    assert r.services["svc"].p_down.value == pytest.approx(1 - 0.98 * 0.95, rel=1e-12)


def test_parallel_pair_exact() -> None:
    """Parallel: down iff both replicas' sites are down, p_a·p_b; failover p_a(1 − p_b)."""
    r = exact_snapshot(parallel_pair(0.03, 0.04)).services["svc"]
    assert r.p_down.value == pytest.approx(0.03 * 0.04, rel=1e-12)
    assert r.p_failover.value == pytest.approx(0.03 * 0.96, rel=1e-12)


def test_backup_power_exact() -> None:
    """A single-site service fails with the zone times exp(−backup/mean)."""
    t = backup_zone(rate=2.0, mean_h=10.0, backup_a=5.0, backup_b=12.0)
    u = zone_unavailability(t.zones["grid"])
    r = exact_snapshot(t)
    assert r.services["only-a"].p_down.value == pytest.approx(u * math.exp(-0.5), rel=1e-9)


def test_backup_power_shared_elapsed_time() -> None:
    """Both replicas down needs the outage past the longer backup: U·exp(−12/10), not a product."""
    t = backup_zone(rate=2.0, mean_h=10.0, backup_a=5.0, backup_b=12.0)
    u = zone_unavailability(t.zones["grid"])
    r = exact_snapshot(t)
    assert r.services["svc"].p_down.value == pytest.approx(u * math.exp(-1.2), rel=1e-9)


def test_series_pair_monte_carlo_covers_closed_form() -> None:
    """The Monte Carlo 95 % interval of the series pair covers the closed form."""
    est = simulate_snapshot(series_pair(0.02, 0.05), 1 << 18, seed=11).services["svc"].p_down
    assert est.low <= 1 - 0.98 * 0.95 <= est.high


def test_backup_zone_monte_carlo_covers_closed_form() -> None:
    """Monte Carlo with a power zone covers U·exp(−b/mean) for the single-site service."""
    t = backup_zone(rate=40.0, mean_h=10.0, backup_a=5.0, backup_b=12.0)
    expected = zone_unavailability(t.zones["grid"]) * math.exp(-0.5)
    est = simulate_snapshot(t, 1 << 19, seed=5).services["only-a"].p_down
    assert est.low <= expected <= est.high
