"""Scenario earthquakes for ``georesil inject --quake``: what a median quake breaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from georesil.errors import InvalidHazard
from georesil.hazards.earthquakes import QuakeImpact, check_quake, quake_impact
from georesil.model.topology import FailureSet, Topology

__all__ = ["QuakeReport", "QuakeRow", "inject_quake", "parse_quake"]


@dataclass(frozen=True)
class QuakeRow:
    """One element's shaking under a scenario quake."""

    element: str
    distance_km: float
    pga_g: float
    p_fail: float
    fails: bool

    def to_json(self) -> dict[str, Any]:
        return {"element": self.element, "distance_km": round(self.distance_km, 3),
                "pga_g": round(self.pga_g, 5), "p_fail": round(self.p_fail, 6),
                "fails": self.fails}


def parse_quake(text: str) -> tuple[float, float, float, float]:
    """Parse ``LAT,LON,MAG[,DEPTH]`` (depth defaults to 10 km).

    Raises:
        InvalidHazard: not three or four numbers, or a value out of range.
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) not in (3, 4):
        raise InvalidHazard(
            f"--quake: got {text!r}; expected LAT,LON,MAG[,DEPTH_KM], e.g. 23.77,120.98,7.6,33",
            field="quake", value=text,
        )
    lat, lon, mag = values[:3]
    depth = values[3] if len(values) == 4 else 10.0
    check_quake(lat, lon, mag, depth)
    return lat, lon, mag, depth


def inject_quake(
    topology: Topology, lat: float, lon: float, mag: float, depth: float = 10.0
) -> tuple[FailureSet, list[QuakeRow]]:
    """The elements a scenario quake breaks (failure probability ≥ ½ at median shaking).

    Returns:
        The failure set, and one row per site and link (file order) with its rupture distance,
        median PGA and failure probability.

    Raises:
        InvalidHazard: a parameter out of range.
    """
    impact: QuakeImpact = quake_impact(topology, lat, lon, mag, depth)
    failed = set(impact.failures.refs)
    rows = [QuakeRow(ref, e.distance_km, e.pga_g, e.p_fail, ref in failed)
            for ref, e in impact.elements.items()]
    return impact.failures, rows


@dataclass(frozen=True)
class QuakeReport:
    """A parsed scenario quake, what it breaks, and its per-element shaking (for the CLI)."""

    lat: float
    lon: float
    magnitude: float
    depth_km: float
    failures: FailureSet
    rows: list[QuakeRow]

    @classmethod
    def of(cls, topology: Topology, text: str) -> QuakeReport:
        """Parse ``LAT,LON,MAG[,DEPTH]`` and evaluate the quake on ``topology``."""
        return cls.at(topology, *parse_quake(text))

    @classmethod
    def at(cls, topology: Topology, lat: float, lon: float, mag: float,
           depth: float) -> QuakeReport:
        """Evaluate a quake given by its epicentre, magnitude and depth on ``topology``."""
        failures, rows = inject_quake(topology, lat, lon, mag, depth)
        return cls(lat, lon, mag, depth, failures, rows)

    def to_json(self) -> dict[str, Any]:
        return {"lat": self.lat, "lon": self.lon, "magnitude": self.magnitude,
                "depth_km": self.depth_km, "model": "Lin (2009) median, reverse faulting",
                "failed": self.failures.refs, "elements": [r.to_json() for r in self.rows]}
