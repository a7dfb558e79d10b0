"""Geometry on the sphere: great-circle distances, link polylines, rupture distance.

Distances use the haversine formula on a sphere of radius 6371.0088 km (the IUGG mean radius).
The nearest point of a link polyline (a, waypoints…, b) to a point is found segment by segment
in a local equirectangular projection centred on the point — accurate to well under 1 % for the
sub-500 km segments of a Taiwanese topology — and its distance is then measured on the sphere.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_KM",
    "central_meridian",
    "great_circle_km",
    "polyline_length_km",
    "point_on_polyline",
    "polyline_distance_km",
    "polylines_distance_km",
    "rupture_distance_km",
]

EARTH_RADIUS_KM = 6371.0088
FloatArray = npt.NDArray[np.float64]
LatLon = tuple[float, float]

#: Values per temporary array of :func:`polylines_distance_km` (256 KB of float64).
_BLOCK_VALUES = 32_768


def great_circle_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Haversine great-circle distance in km; arguments in degrees, broadcast."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def polyline_length_km(points: Sequence[LatLon]) -> float:
    """Length of a polyline along great circles between its vertices."""
    if len(points) < 2:
        return 0.0
    arr = np.asarray(points, dtype=np.float64)
    return float(np.sum(great_circle_km(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])))


def polyline_distance_km(
    points: Sequence[LatLon], lat: npt.ArrayLike, lon: npt.ArrayLike
) -> FloatArray:
    """Distance from each (lat, lon) to the nearest point of a polyline, in km.

    Notes:
        For each segment the query point is projected (local equirectangular frame centred
        on the query point) and clamped to the segment; O(segments × points).
    """
    return polylines_distance_km([points], lat, lon)[:, 0]


def polylines_distance_km(
    polylines: Sequence[Sequence[LatLon]], lat: npt.ArrayLike, lon: npt.ArrayLike
) -> FloatArray:
    """Distances (points × polylines) from each (lat, lon) to the nearest point of each
    polyline, in km; an empty polyline is infinitely far.

    Notes:
        All segments of all polylines at once (a one-point polyline is a segment of length
        0): O(segments × points) arithmetic in a few array operations, then the least per
        polyline.
    """
    qlat = np.atleast_1d(np.asarray(lat, dtype=np.float64))[:, None]
    qlon = np.atleast_1d(np.asarray(lon, dtype=np.float64))[:, None]
    a: list[LatLon] = []
    b: list[LatLon] = []
    owner: list[int] = []
    for i, line in enumerate(polylines):
        ends = list(line)
        pairs = list(zip(ends[:-1], ends[1:], strict=True)) or [(p, p) for p in ends[:1]]
        a += [p for p, _ in pairs]
        b += [q for _, q in pairs]
        owner += [i] * len(pairs)
    out = np.full((qlat.shape[0], len(polylines)), np.inf)
    if not owner:
        return out
    alat, alon = (np.array(c, dtype=np.float64) for c in zip(*a, strict=True))
    blat, blon = (np.array(c, dtype=np.float64) for c in zip(*b, strict=True))
    lines = np.array(owner, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, lines[1:] != lines[:-1]])
    step = max(1, _BLOCK_VALUES // len(owner))  # points per block: temporaries stay in cache
    for first in range(0, qlat.shape[0], step):
        ql, qn = qlat[first : first + step], qlon[first : first + step]
        coslat = np.cos(np.radians(ql))
        ax, ay = (alon - qn) * coslat, alat - ql
        bx, by = (blon - qn) * coslat, blat - ql
        dx, dy = bx - ax, by - ay
        seg2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(seg2 > 0, -(ax * dx + ay * dy) / seg2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        nlat = alat + t * (blat - alat)
        nlon = alon + t * (blon - alon)
        dist = great_circle_km(ql, qn, nlat, nlon)
        out[first : first + step, lines[starts]] = np.minimum.reduceat(dist, starts, axis=1)
    return out


def point_on_polyline(points: Sequence[LatLon], fraction: npt.ArrayLike) -> FloatArray:
    """Points at ``fraction`` (0–1) of a polyline's length; returns an (n, 2) lat/lon array.

    Within a segment the point is interpolated linearly in latitude and longitude.
    """
    pts = np.asarray(points, dtype=np.float64)
    frac = np.atleast_1d(np.asarray(fraction, dtype=np.float64))
    seg = great_circle_km(pts[:-1, 0], pts[:-1, 1], pts[1:, 0], pts[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    target = np.clip(frac, 0.0, 1.0) * cum[-1]
    i = np.clip(np.searchsorted(cum, target, side="right") - 1, 0, len(seg) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(seg[i] > 0, (target - cum[i]) / seg[i], 0.0)
    out: FloatArray = pts[i] + t[:, None] * (pts[i + 1] - pts[i])
    return out


def rupture_distance_km(
    epicentral_km: npt.ArrayLike, depth_km: npt.ArrayLike,
    magnitude: npt.ArrayLike | None = None, dip_deg: float = 45.0,
) -> FloatArray:
    """Closest distance to the rupture, from the epicentral distance and hypocentral depth.

    Without a magnitude the rupture is a point: √(epicentral² + depth²). With one, it is a
    rectangle of the Wells & Coppersmith (1994) size (all slip types: subsurface length
    log₁₀ L = −2.44 + 0.59·M, width log₁₀ W = −1.01 + 0.32·M, km) centred on the hypocentre:

        R_rup ≈ √( max(R_epi − L/2, 0)² + max(depth − (W/2)·sin δ, 0)² )

    The strike of a scenario quake is not known, so the rupture is taken to extend towards
    the element: an upper envelope of the shaking, as a planner wants it. A Mw 7.6 rupture is
    ~110 km long; treating it as a point would put Taichung 50 km from a Chi-Chi-like quake
    instead of on top of it.
    """
    e = np.asarray(epicentral_km, dtype=np.float64)
    d = np.asarray(depth_km, dtype=np.float64)
    if magnitude is None:
        return np.asarray(np.hypot(e, d))
    m = np.asarray(magnitude, dtype=np.float64)
    half_length = 0.5 * 10.0 ** (-2.44 + 0.59 * m)
    half_width = 0.5 * 10.0 ** (-1.01 + 0.32 * m)
    horizontal = np.maximum(e - half_length, 0.0)
    top = np.maximum(d - half_width * math.sin(math.radians(dip_deg)), 0.0)
    return np.asarray(np.hypot(horizontal, top))


def central_meridian(lons: Iterable[float]) -> float:
    """The meridian in the middle of the smallest arc of longitude holding every point.

    Notes:
        Sort the longitudes, find the widest gap between neighbours on the circle, and take
        the middle of its complement; O(n log n).
    """
    values = sorted(((v + 180.0) % 360.0) - 180.0 for v in lons)
    if not values:
        return 0.0
    gaps = [(values[(i + 1) % len(values)] - v) % 360.0 for i, v in enumerate(values)]
    if len(values) == 1:
        return values[0]
    widest = max(range(len(gaps)), key=gaps.__getitem__)
    start = values[(widest + 1) % len(values)]  # the arc starts after the widest gap
    span = 360.0 - gaps[widest]
    return ((start + span / 2 + 180.0) % 360.0) - 180.0
