"""Per-element unavailability from the alternating-renewal formula and kind defaults."""

from __future__ import annotations

import pytest

from georesil.hazards.elements import (
    LINK_DEFAULTS,
    element_reliabilities,
    renewal_unavailability,
)
from georesil.model.schema import LinkKind
from tests.unit._risk_build import site, topology


def test_renewal_formula() -> None:
    """λD/(8760 + λD): 2 outages a year of 10 h each."""
    assert renewal_unavailability(2.0, 10.0) == pytest.approx(20.0 / 8780.0)


def test_mtbf_mttr() -> None:
    """mtbf + mttr give mttr/(mtbf + mttr) and 8760/(mtbf + mttr) failures a year."""
    t = topology([site("a", mtbf_h=990.0, mttr_h=10.0)])
    rel = element_reliabilities(t)["site:a"]
    assert (rel.unavailability, rel.rate_per_yr) == pytest.approx((0.01, 8.76))


def test_explicit_unavailability_kept() -> None:
    """An explicit unavailability is used as is, and inverts to a consistent rate."""
    t = topology([site("a", unavailability=1e-3, mttr_h=5.0)])
    rel = element_reliabilities(t)["site:a"]
    assert rel.unavailability == 1e-3
    assert renewal_unavailability(rel.rate_per_yr, 5.0) == pytest.approx(1e-3)


def test_site_without_inputs_is_perfect() -> None:
    """A site with no failure inputs never fails by itself."""
    assert element_reliabilities(topology([site("a")]))["site:a"].unavailability == 0.0


def test_terrestrial_default_scales_with_length() -> None:
    """A 500 km buried link: 2.13/1000 km/yr × 500 km with 12 h repairs."""
    t = topology([site("a"), site("b")], [{"id": "l", "a": "a", "b": "b", "length_km": 500}])
    rel = element_reliabilities(t)["link:l"]
    assert rel.rate_per_yr == pytest.approx(1.065)
    assert rel.unavailability == pytest.approx(renewal_unavailability(1.065, 12.0))


def test_length_from_path() -> None:
    """Without length_km a link is as long as the great circles through its waypoints."""
    t = topology([site("a", 25.0, 121.0), site("b", 23.0, 121.0)],
                 [{"id": "l", "a": "a", "b": "b", "path": [{"lat": 24.0, "lon": 120.0}]}])
    straight = 2.13 * 222.4 / 1000
    assert element_reliabilities(t)["link:l"].rate_per_yr > straight * 1.2


def test_submarine_default_per_cable() -> None:
    """A submarine cable fails 0.72 times a year whatever its length, repaired in ~30 days."""
    t = topology([site("a"), site("b")],
                 [{"id": "c", "a": "a", "b": "b", "kind": "submarine", "length_km": 5000}])
    rel = element_reliabilities(t)["link:c"]
    assert (rel.rate_per_yr, rel.mttr_h) == (0.72, 720.0)
    assert LINK_DEFAULTS[LinkKind.SUBMARINE].per_1000_km is False


def test_explicit_cut_rate_and_mttr() -> None:
    """cut_rate_per_1000km_yr and mttr_h override the kind defaults."""
    t = topology([site("a"), site("b")], [{"id": "l", "a": "a", "b": "b", "length_km": 100,
                                           "cut_rate_per_1000km_yr": 5.0, "mttr_h": 30.0}])
    rel = element_reliabilities(t)["link:l"]
    assert (rel.rate_per_yr, rel.mttr_h) == pytest.approx((0.5, 30.0))
