"""Importance measures: closed forms on the series pair, Monte Carlo against exact."""

from __future__ import annotations

import pytest

from georesil.risk.engine import simulate_snapshot
from georesil.risk.exact import exact_snapshot
from georesil.risk.importance import Importance
from tests.unit._risk_build import mixed, parallel_pair, series_pair


def _row(rows: list[Importance], element: str, target: str = "svc") -> Importance:
    return next(r for r in rows if r.element == element and r.target == target)


def test_series_birnbaum() -> None:
    """Series pair: Birnbaum of the link is 1 − P(S | link up) = 1 − p_site."""
    rows = exact_snapshot(series_pair(0.02, 0.05)).importance
    assert _row(rows, "link:ab").birnbaum == pytest.approx(0.98)


def test_series_raw_rrw_fv() -> None:
    """Series pair: RAW = 1/P, RRW = P/p_site, FV = (P − p_site)/P for the link."""
    p = 1 - 0.98 * 0.95
    row = _row(exact_snapshot(series_pair(0.02, 0.05)).importance, "link:ab")
    assert (row.raw, row.rrw, row.fussell_vesely) == pytest.approx(
        (1 / p, p / 0.02, (p - 0.02) / p))


def test_parallel_criticality() -> None:
    """Parallel pair: criticality of a = p_a·p_b/P = 1 (every failure needs a)."""
    row = _row(exact_snapshot(parallel_pair(0.03, 0.04)).importance, "site:a")
    assert row.criticality == pytest.approx(1.0)
    assert row.birnbaum == pytest.approx(0.04)


def test_zero_denominator_is_none() -> None:
    """RRW of an element without which the target never fails is None, not inf."""
    row = _row(exact_snapshot(parallel_pair(0.03, 0.04)).importance, "site:a")
    assert row.rrw is None


def test_monte_carlo_matches_exact() -> None:
    """Common-random-number Birnbaum estimates agree with exact values to 0.01."""
    topo = mixed()
    exact = exact_snapshot(topo).importance
    mc = simulate_snapshot(topo, 1 << 18, seed=3, importance_trials=1 << 18).importance
    estimated = {(r.element, r.target): r.birnbaum for r in mc}
    for row in exact:  # a pair left out of the Monte Carlo list had Birnbaum 0
        got = estimated.get((row.element, row.target), 0.0)
        assert got == pytest.approx(row.birnbaum, abs=0.01), (row.element, row.target)


def test_harden_first_ranks_by_fussell_vesely() -> None:
    """The hardening list puts the element removing most tier-1 risk first."""
    ranked = exact_snapshot(series_pair(0.02, 0.05)).harden_first()
    assert [r.element for r in ranked] == ["link:ab", "site:b"]


def test_unaffected_pairs_left_out() -> None:
    """An element that cannot affect a target gets no row for it."""
    rows = exact_snapshot(mixed()).importance
    assert not [r for r in rows if r.element == "link:nm0" and r.target == "batch"]
    assert [r for r in rows if r.element == "site:s" and r.target == "batch"]
