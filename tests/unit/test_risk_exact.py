"""Exact enumeration: agreement with Monte Carlo, and its size limit."""

from __future__ import annotations

import pytest

from georesil.errors import InvalidInput
from georesil.risk.engine import simulate_snapshot
from georesil.risk.exact import exact_snapshot
from tests.unit._risk_build import mixed, service, site, topology


def test_monte_carlo_intervals_cover_exact() -> None:
    """Every service's Monte Carlo 95 % interval covers its exact unavailability."""
    topo = mixed()
    exact = exact_snapshot(topo)
    mc = simulate_snapshot(topo, 1 << 19, seed=2026, importance_trials=0)
    for sid, risk in exact.services.items():
        est = mc.services[sid].p_down
        assert est.low <= risk.p_down.value <= est.high, sid


def test_tier1_target_exact_matches_monte_carlo() -> None:
    """P(any tier-1 down) exact lies in the Monte Carlo interval."""
    topo = mixed()
    exact = exact_snapshot(topo).tier1
    mc = simulate_snapshot(topo, 1 << 19, seed=2026, importance_trials=0).tier1
    assert exact is not None and mc is not None
    assert mc.low <= exact.value <= mc.high


def test_more_than_16_atoms_spans_blocks() -> None:
    """With 20 atoms (several blocks) exact still equals the closed form of a parallel bundle."""
    links = [{"id": f"l{i}", "a": "a", "b": "b", "unavailability": 0.3} for i in range(20)]
    topo = topology([site("a"), site("b")], links, [service("s", "b", clients=["a"])])
    assert exact_snapshot(topo).services["s"].p_down.value == pytest.approx(0.3**20, rel=1e-9)


def test_too_many_atoms_rejected() -> None:
    """More than 24 stochastic elements is a clear InvalidInput pointing to Monte Carlo."""
    links = [{"id": f"l{i}", "a": "a", "b": "b", "unavailability": 0.1} for i in range(25)]
    topo = topology([site("a"), site("b")], links, [service("s", "b", clients=["a"])])
    with pytest.raises(InvalidInput, match=r"25 stochastic elements.*at most 24.*--trials"):
        exact_snapshot(topo)


def test_exact_intervals_have_zero_width() -> None:
    """Exact results report intervals of zero width and mode 'exact'."""
    out = exact_snapshot(mixed()).to_json()
    svc = out["services"]["db"]
    assert out["mode"] == "exact" and svc["ci95"][0] == svc["ci95"][1] == svc["availability"]
