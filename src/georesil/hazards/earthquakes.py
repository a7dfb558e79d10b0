"""Earthquakes: seismic sources, sampled events, ground motion at each element, failures.

* **Magnitudes** follow a doubly truncated Gutenberg–Richter law: with β = b·ln 10,
  M = m_min − ln(1 − u·(1 − e^{−β(m_max − m_min)})) / β, u ~ U(0, 1) (Cosentino et al. 1977).
  A source's ``annual_rate`` is the rate of events with M ≥ m_min.
* **Epicentres**: a point source's location; on a line source uniform along the trace's length.
  The rupture is a Wells & Coppersmith (1994) rectangle centred on the hypocentre, extending
  towards each element (its strike is not known): R_rup = √(max(R_epi − L/2, 0)² + Z_top²)
  (:func:`georesil.hazards.geometry.rupture_distance_km`).
* **Exposure**: a site at its location with its ``vs30_m_s``; a link at the point of its polyline
  (a, waypoints…, b) nearest to the epicentre, with Vs30 = 760 m/s.
* **Ground motion**: Lin (2009) (:mod:`georesil.hazards.gmpe`) with inter-event and intra-event
  scatter; **failure** by lognormal fragility (:mod:`georesil.hazards.fragility`), per element or
  the topology's ``seismic`` defaults. A failed element stays down for its ``repair_h`` (or the
  default ``default_repair_h``).
* **Scenario quakes** (``inject --quake``) are evaluated at *median* ground motion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.errors import InvalidHazard
from georesil.hazards.fragility import p_fail
from georesil.hazards.geometry import (
    great_circle_km,
    point_on_polyline,
    polylines_distance_km,
    rupture_distance_km,
)
from georesil.hazards.gmpe import Mechanism, Scatter, ln_pga_median
from georesil.model.schema import SeismicSource, SeismicSpec
from georesil.model.topology import FailureSet, Topology

__all__ = [
    "ElementShaking",
    "Exposure",
    "QuakeEvent",
    "QuakeImpact",
    "check_quake",
    "quake_impact",
    "sample_epicentres",
    "sample_events",
    "sample_magnitudes",
]

FloatArray = npt.NDArray[np.float64]
#: Vs30 assumed along links (rock, the Lin 2009 check-value condition).
LINK_VS30_M_S = 760.0
#: Distance given to elements without a location: farther than any two points on Earth, so
#: no quake shakes them (the GMPE needs a finite distance).
OUT_OF_REACH_KM = 1.0e5


@dataclass(frozen=True)
class Exposure:
    """Every site and link as seen by an earthquake: position, soil, fragility, repair time."""

    refs: tuple[str, ...]
    site_lat: FloatArray
    site_lon: FloatArray
    link_paths: tuple[tuple[tuple[float, float], ...], ...]
    vs30: FloatArray
    median_g: FloatArray
    beta: FloatArray
    repair_h: FloatArray

    @classmethod
    def of(cls, topology: Topology) -> Exposure:
        """Build the exposure of a topology (sites then links, in file order)."""
        spec = topology.doc.seismic or SeismicSpec()
        sites, links = list(topology.sites.values()), list(topology.links.values())
        frag = [s.fragility or spec.default_site_fragility for s in sites]
        frag += [k.fragility or spec.default_link_fragility for k in links]
        repair = [e.repair_h if e.repair_h is not None else spec.default_repair_h
                  for e in (*sites, *links)]
        paths = []
        for k in links:
            a, b = topology.sites[k.a].location, topology.sites[k.b].location
            # An end without a location drops out of the trace; a link with no located
            # point at all has an empty trace, which is infinitely far from every quake.
            paths.append(tuple([*([(a.lat, a.lon)] if a else []),
                                *((p.lat, p.lon) for p in k.path),
                                *([(b.lat, b.lon)] if b else [])]))
        # A site without a location is at NaN, which epicentral_km turns into "out of reach".
        nan = float("nan")
        return cls(
            refs=tuple(topology.elements),
            site_lat=np.array([s.location.lat if s.location else nan for s in sites],
                              dtype=np.float64),
            site_lon=np.array([s.location.lon if s.location else nan for s in sites],
                              dtype=np.float64),
            link_paths=tuple(paths),
            vs30=np.array([s.vs30_m_s for s in sites] + [LINK_VS30_M_S] * len(links)),
            median_g=np.array([f.median_g for f in frag], dtype=np.float64),
            beta=np.array([f.beta for f in frag], dtype=np.float64),
            repair_h=np.array(repair, dtype=np.float64),
        )

    @property
    def n_sites(self) -> int:
        return len(self.site_lat)

    def epicentral_km(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        """Distances (events × elements) from each epicentre to each element."""
        qlat, qlon = np.atleast_1d(lat).astype(float), np.atleast_1d(lon).astype(float)
        sites = great_circle_km(qlat[:, None], qlon[:, None], self.site_lat, self.site_lon)
        cols = polylines_distance_km(self.link_paths, qlat, qlon)
        out = np.hstack([np.atleast_2d(sites).reshape(len(qlat), -1), cols])
        # Elements without a location (NaN, or an empty link trace: inf) are out of reach.
        return np.where(np.isfinite(out), out, OUT_OF_REACH_KM)

    def median_ln_pga(self, lat: npt.ArrayLike, lon: npt.ArrayLike, magnitude: npt.ArrayLike,
                      depth_km: npt.ArrayLike, mechanism: Mechanism) -> FloatArray:
        """Median ln PGA (events × elements)."""
        mag = np.atleast_1d(np.asarray(magnitude, dtype=np.float64))[:, None]
        depth = np.atleast_1d(np.asarray(depth_km, dtype=np.float64))[:, None]
        rrup = rupture_distance_km(self.epicentral_km(lat, lon), depth, mag)
        return ln_pga_median(mag, rrup, self.vs30[None, :], mechanism)


def sample_magnitudes(
    rng: np.random.Generator, n: int, b_value: float, m_min: float, m_max: float
) -> FloatArray:
    """Doubly truncated Gutenberg–Richter magnitudes in [m_min, m_max]."""
    if not (b_value > 0 and m_max >= m_min):
        raise InvalidHazard(
            f"Gutenberg-Richter needs b_value > 0 and m_max >= m_min; got b_value={b_value}, "
            f"m_min={m_min}, m_max={m_max}", field="seismic.sources",
        )
    beta = b_value * math.log(10.0)
    u = rng.random(n)
    return m_min - np.log1p(-u * (1.0 - math.exp(-beta * (m_max - m_min)))) / beta


def sample_epicentres(source: SeismicSource, rng: np.random.Generator, n: int) -> FloatArray:
    """Epicentres (n × 2, lat/lon): the point of a point source, uniform along a line's trace."""
    if source.kind == "point":
        assert source.location is not None  # the schema guarantees it
        return np.tile([source.location.lat, source.location.lon], (n, 1)).astype(np.float64)
    trace = [(p.lat, p.lon) for p in source.trace]
    return point_on_polyline(trace, rng.random(n)).reshape(n, 2)


@dataclass(frozen=True)
class QuakeEvent:
    """One sampled earthquake and the elements it broke."""

    source: str
    magnitude: float
    lat: float
    lon: float
    failures: FailureSet
    repair_h: float


def sample_events(
    topology: Topology, source: SeismicSource, n: int, rng: np.random.Generator,
    exposure: Exposure | None = None,
) -> list[QuakeEvent]:
    """Sample ``n`` events of one source, with scattered ground motion and fragility draws."""
    if n == 0:
        return []
    spec = topology.doc.seismic or SeismicSpec()
    exp = exposure or Exposure.of(topology)
    mags = sample_magnitudes(rng, n, source.b_value, source.m_min, source.m_max)
    epi = sample_epicentres(source, rng, n)
    median = exp.median_ln_pga(epi[:, 0], epi[:, 1], mags, source.depth_km, source.mechanism)
    ln_pga = Scatter.split(spec.sigma_ln, spec.inter_event_fraction).sample(median, rng)
    capacity = np.log(exp.median_g) + exp.beta * rng.standard_normal(ln_pga.shape)
    broken = ln_pga >= capacity
    events = []
    for i in range(n):
        idx = np.flatnonzero(broken[i])
        refs = [exp.refs[j] for j in idx]
        failures = FailureSet(
            sites=frozenset(r[5:] for r in refs if r.startswith("site:")),
            links=frozenset(r[5:] for r in refs if r.startswith("link:")),
        )
        repair = float(exp.repair_h[idx].max()) if len(idx) else 0.0
        events.append(QuakeEvent(source.id, float(mags[i]), float(epi[i, 0]), float(epi[i, 1]),
                                 failures, repair))
    return events


@dataclass(frozen=True)
class ElementShaking:
    """Median shaking at one element and its failure probability."""

    pga_g: float
    p_fail: float
    distance_km: float


@dataclass(frozen=True)
class QuakeImpact:
    """A scenario quake at median ground motion.

    Attributes:
        elements: Per element reference, its PGA, failure probability and rupture distance.
        failures: The elements whose failure probability is at least one half.
    """

    elements: dict[str, ElementShaking]
    failures: FailureSet


def check_quake(lat: float, lon: float, magnitude: float, depth_km: float) -> None:
    """Raise :class:`InvalidHazard` naming the first out-of-range scenario quake parameter."""
    checks = [
        ("lat", lat, -90.0, 90.0), ("lon", lon, -180.0, 180.0),
        ("magnitude", magnitude, 3.0, 9.5), ("depth_km", depth_km, 0.0, 700.0),
    ]
    for name, value, lo, hi in checks:
        if not (isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi):
            raise InvalidHazard(
                f"quake {name}: got {value!r}; allowed {lo:g} to {hi:g}", field=name, value=value,
            )


def quake_impact(
    topology: Topology, lat: float, lon: float, magnitude: float, depth_km: float = 10.0,
    mechanism: Mechanism = "reverse",
) -> QuakeImpact:
    """Shaking and failure probability of every site and link under one scenario quake.

    Ground motion is the Lin (2009) median (no scatter); reverse faulting by default, Taiwan's
    dominant mechanism (Chi-Chi 1999, Meinong 2016).

    Raises:
        InvalidHazard: a parameter out of range.
    """
    check_quake(lat, lon, magnitude, depth_km)
    exp = Exposure.of(topology)
    rrup = rupture_distance_km(exp.epicentral_km(lat, lon), depth_km, magnitude)[0]
    pga = np.exp(ln_pga_median(magnitude, rrup, exp.vs30, mechanism))
    prob = p_fail(pga, exp.median_g, exp.beta)
    elements = {
        ref: ElementShaking(float(pga[i]), float(prob[i]), float(rrup[i]))
        for i, ref in enumerate(exp.refs)
    }
    failed = [r for r, e in elements.items() if e.p_fail >= 0.5]
    failures = FailureSet(
        sites=frozenset(r[5:] for r in failed if r.startswith("site:")),
        links=frozenset(r[5:] for r in failed if r.startswith("link:")),
    )
    return QuakeImpact(elements, failures)
