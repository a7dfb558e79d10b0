"""Great-circle distances, link polylines and rupture distance."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from georesil.hazards import geometry
from georesil.hazards.geometry import (
    great_circle_km,
    point_on_polyline,
    polyline_distance_km,
    polyline_length_km,
    polylines_distance_km,
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


def _nearest_by_segments(points: list[tuple[float, float]], lat: float, lon: float) -> float:
    """Plain reference: each segment on its own, the point projected in a local
    equirectangular frame centred on it, clamped, then measured on the sphere."""
    if not points:
        return math.inf
    if len(points) == 1:
        return float(great_circle_km(lat, lon, *points[0]))
    best = math.inf
    k = math.cos(math.radians(lat))
    for (alat, alon), (blat, blon) in zip(points[:-1], points[1:], strict=True):
        ax, ay, bx, by = (alon - lon) * k, alat - lat, (blon - lon) * k, blat - lat
        seg2 = (bx - ax) ** 2 + (by - ay) ** 2
        t = min(max(-(ax * (bx - ax) + ay * (by - ay)) / seg2, 0.0), 1.0) if seg2 > 0 else 0.0
        best = min(best, float(great_circle_km(lat, lon, alat + t * (blat - alat),
                                               alon + t * (blon - alon))))
    return best


_POINT = st.tuples(st.floats(21.0, 26.5), st.floats(119.0, 123.0))


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.lists(_POINT, max_size=5), min_size=1, max_size=8),
       queries=st.lists(_POINT, min_size=1, max_size=70))
def test_all_polylines_at_once_equal_one_segment_at_a_time(
        lines: list[list[tuple[float, float]]], queries: list[tuple[float, float]]) -> None:
    """Every point to every polyline (empty, one point, several segments; more points than
    one block holds), against the segment-by-segment reference."""
    lat = np.array([q[0] for q in queries])
    lon = np.array([q[1] for q in queries])
    got = polylines_distance_km(lines, lat, lon)
    with mock.patch.object(geometry, "_BLOCK_VALUES", 5):  # a few points per block
        assert np.array_equal(polylines_distance_km(lines, lat, lon), got)
    assert got.shape == (len(queries), len(lines))
    for j, line in enumerate(lines):
        for i, (qa, qo) in enumerate(queries):
            want = _nearest_by_segments(line, qa, qo)
            if math.isinf(want):
                assert math.isinf(got[i, j])
            else:
                assert got[i, j] == pytest.approx(want, rel=1e-9, abs=1e-9)
