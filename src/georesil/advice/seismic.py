"""The shaking of each scenario quake at every site and link, at median ground motion.

The ground motion is :func:`georesil.hazards.quake_impact` (Lin 2009 with a finite rupture
sized by Wells & Coppersmith 1994, docs/hazards.md); the fragility median beside it is each
element's own, so a reader sees how far the shaking is from breaking it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from georesil.hazards import quake_impact
from georesil.hazards.earthquakes import ElementShaking, Exposure
from georesil.model import Topology
from georesil.model.schema import ScenarioQuake

__all__ = ["ScenarioShaking", "scenario_shaking"]


@dataclass(frozen=True)
class ScenarioShaking:
    """One scenario quake at median ground motion, and every element's fragility median."""

    scenario: str
    quake: ScenarioQuake
    elements: Mapping[str, ElementShaking]
    median_g: Mapping[str, float]

    @property
    def sites(self) -> tuple[str, ...]:
        """The ``site:`` references, in file order."""
        return tuple(r for r in self.elements if r.startswith("site:"))


def scenario_shaking(topology: Topology) -> tuple[ScenarioShaking, ...]:
    """Every scenario that carries a ``quake:``, in file order."""
    exposure = Exposure.of(topology)
    median = dict(zip(exposure.refs, (float(m) for m in exposure.median_g), strict=True))
    rows = []
    for sid, scn in topology.scenarios.items():
        q = scn.quake
        if q is None:
            continue
        impact = quake_impact(topology, q.lat, q.lon, q.magnitude, q.depth_km)
        rows.append(ScenarioShaking(sid, q, dict(impact.elements), median))
    return tuple(rows)
