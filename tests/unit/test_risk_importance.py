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
    """Monte Carlo Birnbaum, RRW and FV agree with exact values within their sampling error."""
    topo = mixed()
    exact = exact_snapshot(topo).importance
    trials = 1 << 18
    mc = {(r.element, r.target): r for r in simulate_snapshot(topo, trials, seed=3).importance}
    for row in exact:  # a pair left out of the Monte Carlo list had Birnbaum 0
        got = mc.get((row.element, row.target))
        b = row.birnbaum
        # the Birnbaum estimate rests on the ~p·N trials where the event failed (more for
        # sites and links, whose no-other-failure stratum is exact): 5 sigma of those
        sigma = (b * (1 - b) / (row.p * trials)) ** 0.5
        assert (got.birnbaum if got else 0.0) == pytest.approx(b, abs=5 * sigma + 1e-3), \
            (row.element, row.target)
        if got and row.fussell_vesely and row.fussell_vesely > 0.05:
            assert got.fussell_vesely == pytest.approx(row.fussell_vesely, rel=0.1)


def test_harden_first_ranks_by_fussell_vesely() -> None:
    """The hardening list puts the element removing most tier-1 risk first."""
    ranked = exact_snapshot(series_pair(0.02, 0.05)).harden_first()
    assert [r.element for r in ranked] == ["link:ab", "site:b"]


def test_unaffected_pairs_left_out() -> None:
    """An element that cannot affect a target gets no row for it."""
    rows = exact_snapshot(mixed()).importance
    assert not [r for r in rows if r.element == "link:nm0" and r.target == "batch"]
    assert [r for r in rows if r.element == "site:s" and r.target == "batch"]
