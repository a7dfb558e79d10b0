"""Geometry of topology maps: projection, frame, great circles, the basemap, unlocated sites.

Pure functions (no matplotlib). Map coordinates are ``(x, y)`` = (longitude unwrapped around
the map's central meridian, latitude), in degrees: the projection is equirectangular, centred
on the meridian opposite the widest gap between the sites' longitudes, so that a network
spanning the Pacific is drawn across the Pacific. The axes' aspect (see :attr:`Frame.aspect`)
makes it the Plate carrée for world-wide maps and an equirectangular projection with its
standard parallel at the map's middle latitude for regional ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import networkx as nx

from georesil.hazards.geometry import central_meridian
from georesil.model import Topology

__all__ = [
    "KM_PER_DEG",
    "Frame",
    "great_circle",
    "land_polygons",
    "make_frame",
    "place_unlocated",
    "split_at_seam",
    "taiwan_outline",
]

KM_PER_DEG = 111.195  # mean great-circle km per degree of latitude
XY = tuple[float, float]
#: Above this span of latitude the map is a plain Plate carrée (no aspect correction).
_WORLD_LAT_SPAN = 60.0
#: Above this span of longitude the map shows the whole circle of longitude.
_WORLD_LON_SPAN = 240.0
_TAIWAN_BOX = (119.9, 122.1, 21.8, 25.4)  # lon0, lon1, lat0, lat1 of the 1:10m outline


@cache
def land_polygons() -> tuple[tuple[tuple[XY, ...], ...], ...]:
    """Natural Earth 1:110m land: polygons, each an outer ring then its holes, ``(lon, lat)``."""
    text = resources.files("georesil.data").joinpath("world_land_110m.json").read_text("utf-8")
    return tuple(tuple(_unwrap_ring([(float(x), float(y)) for x, y in ring]) for ring in poly)
                 for poly in json.loads(text))


def _unwrap_ring(ring: list[XY]) -> tuple[XY, ...]:
    """A ring made continuous in longitude (Fiji, Chukotka cross ±180°).

    A ring that goes once round the globe (Antarctica) encloses a pole: it is closed along
    the pole so that it fills as a polygon.
    """
    out = [ring[0]]
    for lon, lat in ring[1:]:
        prev = out[-1][0]
        lon += 360.0 * round((prev - lon) / 360.0)
        out.append((lon, lat))
    if abs(out[-1][0] - out[0][0]) > 180.0:
        pole = -90.0 if sum(p[1] for p in out) < 0 else 90.0
        out += [(out[-1][0], pole), (out[0][0], pole)]
    return tuple(out)


@cache
def taiwan_outline() -> tuple[XY, ...]:
    """Taiwan's main-island coastline (Natural Earth 1:10m) as a closed ring of ``(lon, lat)``."""
    text = resources.files("georesil.data").joinpath("taiwan_outline.json").read_text("utf-8")
    return tuple((float(lon), float(lat)) for lon, lat in json.loads(text))


@dataclass(frozen=True)
class Frame:
    """The map window in map coordinates, with its central meridian."""

    lon0: float
    x0: float
    x1: float
    y0: float
    y1: float

    def x(self, lon: float) -> float:
        """A longitude unwrapped into [lon0 − 180, lon0 + 180)."""
        return ((lon - self.lon0 + 180.0) % 360.0) - 180.0 + self.lon0

    @property
    def world(self) -> bool:
        return self.y1 - self.y0 > _WORLD_LAT_SPAN or self.x1 - self.x0 > _WORLD_LON_SPAN

    @property
    def coslat(self) -> float:
        """Scale of a degree of x relative to a degree of y on the map (1 on world maps)."""
        if self.world:
            return 1.0
        return math.cos(math.radians((self.y0 + self.y1) / 2))

    @property
    def aspect(self) -> float:
        return 1.0 / self.coslat

    @property
    def width_km(self) -> float:
        return (self.x1 - self.x0) * KM_PER_DEG * self.coslat

    @property
    def projection(self) -> str:
        """The projection in words, for captions."""
        if self.world:
            return f"Plate carrée centred on {_deg(self.lon0, 'E', 'W')}"
        mid = (self.y0 + self.y1) / 2
        return (f"equirectangular, centred on {_deg(self.lon0, 'E', 'W')}, true to scale at "
                f"{_deg(mid, 'N', 'S')}")

    def near_taiwan(self) -> bool:
        lon0, lon1, lat0, lat1 = _TAIWAN_BOX
        return (not self.world and self.x0 <= self.x(lon1) and self.x(lon0) <= self.x1
                and self.y0 <= lat1 and lat0 <= self.y1)


def _deg(value: float, pos: str, neg: str) -> str:
    return f"{abs(value):.0f}°{pos if value >= 0 else neg}"


def make_frame(lonlats: Sequence[XY], *, with_taiwan: bool = False) -> Frame:
    """A frame holding ``lonlats`` with room for labels, legend and scale bar."""
    if with_taiwan:
        lonlats = [*lonlats, *taiwan_outline()]
    if not lonlats:
        return Frame(0.0, -180.0, 180.0, -60.0, 85.0)
    lon0 = central_meridian(p[0] for p in lonlats)
    probe = Frame(lon0, 0, 0, 0, 0)
    xs = [probe.x(p[0]) for p in lonlats]
    ys = [p[1] for p in lonlats]
    x_span, y_span = max(xs) - min(xs), max(ys) - min(ys)
    if x_span > _WORLD_LON_SPAN:
        return Frame(lon0, lon0 - 180.0, lon0 + 180.0, max(-90.0, min(ys) - 12.0),
                     min(90.0, max(ys) + 12.0))
    span = max(x_span * math.cos(math.radians((max(ys) + min(ys)) / 2)), y_span, 0.4)
    pad = 0.18 * span
    xmid, ymid = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    coslat = math.cos(math.radians(ymid)) if y_span + 2 * pad <= _WORLD_LAT_SPAN else 1.0
    half_x = max(x_span / 2 + pad / coslat, 0.2)
    half_y = max(y_span / 2 + pad, 0.2)
    return Frame(lon0, xmid - half_x, xmid + half_x, max(-90.0, ymid - half_y),
                 min(90.0, ymid + half_y))


# -- great circles -------------------------------------------------------------------------------
def _vector(lon: float, lat: float) -> tuple[float, float, float]:
    la, lo = math.radians(lat), math.radians(lon)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def great_circle(a: XY, b: XY, step_km: float = 250.0, max_points: int = 48) -> list[XY]:
    """Points ``(lon, lat)`` along the great circle from ``a`` to ``b`` (both included).

    Notes:
        Spherical linear interpolation of unit vectors; one point per ``step_km`` (at most
        ``max_points``), so short links stay two points and SVGs stay small.
    """
    va, vb = _vector(*a), _vector(*b)
    dot = max(-1.0, min(1.0, sum(p * q for p, q in zip(va, vb, strict=True))))
    omega = math.acos(dot)
    n = max(1, min(max_points, math.ceil(omega * 6371.0 / step_km)))
    if n == 1 or omega < 1e-9 or math.pi - omega < 1e-9:
        return [a, b]
    out = [a]
    for i in range(1, n):
        t = i / n
        ka, kb = math.sin((1 - t) * omega) / math.sin(omega), math.sin(t * omega) / math.sin(omega)
        x, y, z = (ka * p + kb * q for p, q in zip(va, vb, strict=True))
        out.append((math.degrees(math.atan2(y, x)), math.degrees(math.atan2(z, math.hypot(x, y)))))
    out.append(b)
    return out


def split_at_seam(points: Sequence[XY], frame: Frame) -> list[list[XY]]:
    """A ``(lon, lat)`` polyline in map coordinates, cut where it crosses the map's seam.

    The seam is the meridian opposite the centre (lon0 ± 180); each crossing ends one piece at
    one edge of the map and starts the next at the other, at the interpolated latitude.
    """
    pieces: list[list[XY]] = [[]]
    prev: XY | None = None
    for lon, lat in points:
        x = frame.x(lon)
        if prev is not None and abs(x - prev[0]) > 180.0:
            edge = frame.lon0 + (180.0 if prev[0] > x else -180.0)
            far = x + (360.0 if prev[0] > x else -360.0)  # x continued past the seam
            t = (edge - prev[0]) / (far - prev[0]) if far != prev[0] else 0.5
            y = prev[1] + t * (lat - prev[1])
            pieces[-1].append((edge, y))
            pieces.append([(edge - 360.0 if edge > frame.lon0 else edge + 360.0, y)])
        pieces[-1].append((x, lat))
        prev = (x, lat)
    return [p for p in pieces if len(p) >= 2]


# -- sites without a location --------------------------------------------------------------------
def place_unlocated(
    topology: Topology, frame: Frame, located: Mapping[str, XY]
) -> tuple[dict[str, XY], list[str]]:
    """Map positions for sites without a location, and the sites no located site reaches.

    Each unlocated site connected to a located one is placed at the mean of its neighbours
    (fixed located sites, unlocated ones relaxed together: a harmonic layout), nudged aside by
    a small golden-angle offset so that it never sits on a neighbour. Sites in components
    without any located site are returned apart (the map lines them up in a strip).

    Notes:
        Jacobi iterations of the harmonic layout, 60 rounds; O(60 · links).
    """
    graph: nx.Graph[str] = nx.Graph(topology.graph)
    pos = {s: located[s] for s in located}
    anchored: set[str] = set()
    for component in nx.connected_components(graph):
        if any(n in located for n in component):
            anchored |= component
    todo = [s for s in topology.sites if s not in located]
    reached = [s for s in todo if s in anchored]
    unanchored = [s for s in todo if s not in anchored]
    if not reached:
        return {}, unanchored
    cx, cy = (frame.x0 + frame.x1) / 2, (frame.y0 + frame.y1) / 2
    free = {s: (cx, cy) for s in reached}
    for _ in range(60):
        new = {}
        for s in reached:
            nbrs = [pos.get(n) or free.get(n) for n in graph.neighbors(s)]
            pts = [p for p in nbrs if p is not None]
            new[s] = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        free = new
    radius = 0.025 * max(frame.y1 - frame.y0, (frame.x1 - frame.x0) * frame.coslat)
    out = {}
    for i, s in enumerate(reached):
        angle = i * 2.399963  # the golden angle, radians
        x, y = free[s]
        out[s] = (x + radius * math.cos(angle) / max(frame.coslat, 0.2),
                  min(frame.y1, max(frame.y0, y + radius * math.sin(angle))))
    return out, unanchored

