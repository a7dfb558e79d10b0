"""Great-circle distances, link polylines and rupture distance."""

from __future__ import annotations

import math

import pytest

from georesil.hazards.geometry import (
    great_circle_km,
    point_on_polyline,
    polyline_distance_km,
    polyline_length_km,
    rupture_distance_km,
)


def test_taipei_to_tainan_science_park() -> None:
    """Taipei → Tainan Science Park is ≈ 251 km (docs/sources.md#great-circle-distances)."""
    assert float(great_circle_km(25.0330, 121.5654, 23.1013, 120.2821)) == pytest.approx(251, abs=1)


def test_nearest_point_is_inside_segment() -> None:
    """A point beside the middle of a N–S segment is at its perpendicular distance."""
    d = polyline_distance_km([(25.0, 121.0), (23.0, 121.0)], 24.0, 121.5)
    assert float(d[0]) == pytest.approx(float(great_circle_km(24.0, 121.0, 24.0, 121.5)), rel=0.01)


def test_nearest_point_clamps_to_end() -> None:
    """A point beyond a segment's end is measured to that end."""
    d = polyline_distance_km([(25.0, 121.0), (24.0, 121.0)], 23.0, 121.0)
    assert float(d[0]) == pytest.approx(float(great_circle_km(24.0, 121.0, 23.0, 121.0)))


def test_waypoints_count() -> None:
    """A link routed through a waypoint is nearer to a quake at that waypoint."""
    straight = polyline_distance_km([(25.0, 121.5), (23.0, 121.5)], 24.0, 120.5)
    detour = polyline_distance_km([(25.0, 121.5), (24.0, 120.6), (23.0, 121.5)], 24.0, 120.5)
    assert float(detour[0]) < 15 < float(straight[0])


def test_polyline_length_and_midpoint() -> None:
    """Half-way along a polyline is at half its length."""
    pts = [(25.0, 121.0), (24.0, 121.0), (24.0, 120.0)]
    mid = point_on_polyline(pts, 0.5)[0]
    first = polyline_length_km([pts[0], (float(mid[0]), float(mid[1]))])
    assert first == pytest.approx(polyline_length_km(pts) / 2, rel=1e-3)


def test_rupture_distance() -> None:
    """R_rup = √(R_epi² + depth²)."""
    assert float(rupture_distance_km(30.0, 40.0)) == pytest.approx(50.0)


def test_finite_rupture_reaches_elements_within_half_its_length() -> None:
    """A Mw 7.6 rupture (~110 km long) puts a site 50 km away right above its top edge."""
    half_length = 0.5 * 10 ** (-2.44 + 0.59 * 7.6)
    top = 33.0 - 0.5 * 10 ** (-1.01 + 0.32 * 7.6) * math.sin(math.radians(45))
    assert half_length > 50.0
    assert float(rupture_distance_km(50.0, 33.0, 7.6)) == pytest.approx(top)
    far = float(rupture_distance_km(200.0, 33.0, 7.6))
    assert far == pytest.approx(math.hypot(200.0 - half_length, top))


def test_small_quakes_are_nearly_points() -> None:
    """An M3 rupture is a few hundred metres across: nearly the point distance."""
    point = float(rupture_distance_km(30.0, 10.0))
    assert float(rupture_distance_km(30.0, 10.0, 3.0)) == pytest.approx(point, abs=0.5)
