"""Hazard models: independent element failures, zone outages, earthquakes (GMPE, fragility).

Pure functions of a topology and data; see docs/hazards.md for every formula and its source.
"""

from __future__ import annotations

from georesil.hazards.earthquakes import QuakeImpact, quake_impact, sample_events
from georesil.hazards.elements import (
    ElementReliability,
    element_reliabilities,
    renewal_unavailability,
)
from georesil.hazards.fragility import p_fail
from georesil.hazards.gmpe import Scatter, ln_pga_median, pga_median_g
from georesil.hazards.zones import ZoneModel, p_down_given_outage, zone_models

__all__ = [
    "ElementReliability",
    "QuakeImpact",
    "Scatter",
    "ZoneModel",
    "element_reliabilities",
    "ln_pga_median",
    "p_down_given_outage",
    "p_fail",
    "pga_median_g",
    "quake_impact",
    "renewal_unavailability",
    "sample_events",
    "zone_models",
]
