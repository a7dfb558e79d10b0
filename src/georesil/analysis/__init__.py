"""Failure-injection analysis: impact semantics, SPOFs, cut sets, N-k, partitions, capacity,
and network-level findings without services.

Pure functions of a :class:`~georesil.model.Topology`; the semantics are in docs/semantics.md.
The bit-parallel kernel (:mod:`georesil.analysis.kernel`) compiles itself with numba only
when a sweep is large enough to repay numba's start-up, so importing this package stays light.
"""

from __future__ import annotations

from georesil.analysis.analyze import MAX_ORDER, Analysis, analyze
from georesil.analysis.capacity import Absorption, absorption, overflows
from georesil.analysis.cut_sets import minimal_cut_sets
from georesil.analysis.impact import Impact, Overflow, ServiceImpact, Status
from georesil.analysis.network import NetworkAnalysis, NetworkFinding, network_analysis
from georesil.analysis.nk import NkEntry, rank
from georesil.analysis.partitions import Budget, RegionCut, region_cuts
from georesil.analysis.reference import inject
from georesil.analysis.scenario import run_scenario, scenario_failure
from georesil.analysis.spof import Finding, explain, sentence, shared_risks, spofs

__all__ = [
    "MAX_ORDER",
    "Absorption",
    "Analysis",
    "Budget",
    "Finding",
    "Impact",
    "NetworkAnalysis",
    "NetworkFinding",
    "NkEntry",
    "Overflow",
    "RegionCut",
    "ServiceImpact",
    "Status",
    "absorption",
    "analyze",
    "explain",
    "inject",
    "minimal_cut_sets",
    "network_analysis",
    "overflows",
    "rank",
    "region_cuts",
    "run_scenario",
    "scenario_failure",
    "sentence",
    "shared_risks",
    "spofs",
]
