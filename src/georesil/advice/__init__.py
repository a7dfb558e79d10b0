"""Advice: how likely each failure is, the biggest risks, and the fixes they point to.

Core, like :mod:`georesil.analysis`: pure functions of a topology and of the typed results of
the analysis and the snapshot simulation, returning frozen dataclasses. :func:`advise` gathers
everything the report shows beyond the raw results; the report renders it and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from georesil.advice.capacity import (
    PlannedDemand,
    RegionAbsorption,
    all_load_moved,
    region_absorptions,
)
from georesil.advice.importance import importance_ranking, map_criticality
from georesil.advice.likelihood import Likelihood, Rates, element_rates
from georesil.advice.recommendations import Recommendation, recommendations
from georesil.advice.risks import (
    Candidate,
    RatedFinding,
    Risk,
    candidates,
    rank_risks,
    rate_findings,
)
from georesil.advice.seismic import ScenarioShaking, scenario_shaking
from georesil.analysis import Analysis
from georesil.model import Topology
from georesil.risk import Importance, SnapshotResult

__all__ = [
    "Advice",
    "Candidate",
    "Likelihood",
    "PlannedDemand",
    "RatedFinding",
    "Rates",
    "Recommendation",
    "RegionAbsorption",
    "Risk",
    "ScenarioShaking",
    "advise",
    "all_load_moved",
    "candidates",
    "element_rates",
    "importance_ranking",
    "map_criticality",
    "rank_risks",
    "rate_findings",
    "recommendations",
    "region_absorptions",
    "scenario_shaking",
]


@dataclass(frozen=True)
class Advice:
    """Everything the advice derives for one topology (empty where an input was absent).

    Attributes:
        risks: The biggest risks, ranked (needs the analysis).
        spofs: The analysis' single points of failure, explained, with their likelihood.
        shared_risks: The analysis' shared risks, likewise.
        importance: Importance measures, most important first (needs the snapshot).
        map_criticality: Site/link criticality in (0, 1] for the map (needs the snapshot).
        absorption: Each ordered pair of regions hosting primaries.
        shaking: Each scenario quake at median ground motion.
        recommendations: Every fix, those of the risks first.
    """

    risks: tuple[Risk, ...]
    spofs: tuple[RatedFinding, ...]
    shared_risks: tuple[RatedFinding, ...]
    importance: tuple[Importance, ...]
    map_criticality: dict[str, float]
    absorption: tuple[RegionAbsorption, ...]
    shaking: tuple[ScenarioShaking, ...]
    recommendations: tuple[Recommendation, ...]


def advise(topology: Topology, analysis: Analysis | None,
           snapshot: SnapshotResult | None) -> Advice:
    """Likelihoods, ranked risks and recommendations from the typed results.

    Args:
        topology: The model the results were computed from.
        analysis: :func:`georesil.analysis.analyze` of it, or ``None``.
        snapshot: :func:`georesil.risk.simulate_snapshot` of it, or ``None``.
    """
    rates = element_rates(topology)
    risks = tuple(rank_risks(topology, candidates(topology, analysis, rates), rates)
                  if analysis is not None else ())
    ranking = importance_ranking(snapshot) if snapshot is not None else ()
    absorption = region_absorptions(topology)
    fixes = [fix for risk in risks for fix in risk.fixes]
    return Advice(
        risks=risks,
        spofs=rate_findings(topology, analysis.spofs, rates) if analysis else (),
        shared_risks=rate_findings(topology, analysis.shared_risks, rates) if analysis else (),
        importance=ranking,
        map_criticality=dict(map_criticality(topology, ranking)),
        absorption=absorption,
        shaking=scenario_shaking(topology),
        recommendations=recommendations(topology, fixes, ranking, absorption,
                                        analysis.region_cuts if analysis else (), rates),
    )
