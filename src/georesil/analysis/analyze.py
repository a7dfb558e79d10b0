"""``analyze``: every finding of the failure-injection analysis in one result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from georesil.analysis._class_sweep import MAX_SETS, Progress, class_sweep
from georesil.analysis.control_plane import ControlPlaneFinding, control_plane_findings
from georesil.analysis.cut_sets import minimal_cut_sets
from georesil.analysis.impact import Impact
from georesil.analysis.kernel import compile_topology
from georesil.analysis.network import NetworkAnalysis, network_analysis
from georesil.analysis.nk import NkEntry, rank, score_weights
from georesil.analysis.partitions import Budget, RegionCut, region_cuts
from georesil.analysis.scenario import run_scenario
from georesil.analysis.spof import Finding, shared_risks, spofs
from georesil.errors import InvalidInput
from georesil.model import Topology

__all__ = ["MAX_ORDER", "Analysis", "analyze"]

log = structlog.get_logger(__name__)

#: The largest ``max_order`` accepted: N-4 of a 100-element topology is already 4 M sets.
MAX_ORDER = 3


@dataclass(frozen=True)
class Analysis:
    """Everything ``georesil analyze`` reports; :meth:`to_json` is the documented format.

    ``network`` holds the network-level findings when they were asked for (``network=True``)
    or the topology has no services; ``None`` otherwise.
    """

    max_order: int
    spofs: tuple[Finding, ...]
    cut_sets: Mapping[str, list[list[str]]]
    shared_risks: tuple[Finding, ...]
    region_cuts: tuple[RegionCut, ...]
    nk: tuple[NkEntry, ...]
    scenarios: Mapping[str, Impact]
    network: NetworkAnalysis | None = None
    control_plane: tuple[ControlPlaneFinding, ...] = ()

    @property
    def exact(self) -> bool:
        """False when any search stopped at its work budget (see each part's ``exact``)."""
        return all(c.exact for c in self.region_cuts) and \
            (self.network is None or self.network.exact)

    def to_json(self) -> dict[str, Any]:
        return {
            "exact": self.exact,
            "spofs": [f.to_json() for f in self.spofs],
            "cut_sets": dict(self.cut_sets),
            "shared_risks": [f.to_json() for f in self.shared_risks],
            "region_cuts": [c.to_json() for c in self.region_cuts],
            "nk": [e.to_json() for e in self.nk],
            "scenarios": {sid: impact.to_json() for sid, impact in self.scenarios.items()},
            "network": None if self.network is None else self.network.to_json(),
            "control_plane": [f.to_json() for f in self.control_plane],
        }


def analyze(topology: Topology, max_order: int = 2, top: int = 20, *,
            network: bool = False, max_sets: int = MAX_SETS, budget: Budget | None = None,
            progress: Progress | None = None) -> Analysis:
    """SPOFs, minimal cut sets, shared risks, region cuts, N-k ranking and scenario impacts.

    Args:
        topology: The model.
        max_order: Largest number of simultaneous site/link failures, 1..:data:`MAX_ORDER`.
        top: How many N-k failure sets to keep.
        network: Add the network-level findings (always added without services).
        max_sets: Largest number of sets of failure classes the sweep may evaluate.
        budget: Work allowed to each region-cut integer program.
        progress: Called with (failure sets done, failure sets) during the sweep.

    Raises:
        InvalidInput: ``max_order``, ``top`` or ``max_sets`` out of range, or a sweep of more
            than ``max_sets`` class sets.

    Notes:
        One exact bit-parallel kernel sweep of all sum_{k<=K} C(c, k) sets of the c failure
        classes (sites and links that can change an outcome, a chain of pass-through sites
        counting once; :mod:`georesil.analysis._class_sweep`) feeds SPOFs, cut sets and N-k,
        exactly as a sweep of every set of sites and links would (skipped without services);
        shared risks are one more kernel pass; region cuts are a max-flow and two bounded
        integer programs per region pair; scenarios use the reference evaluator.
    """
    if not 1 <= max_order <= MAX_ORDER:
        raise InvalidInput(
            f"max_order: got {max_order}; allowed: 1 to {MAX_ORDER} (an exhaustive N-{max_order} "
            "sweep grows as n^k; use the Monte Carlo engine for deeper combinations)",
            field="max_order", value=max_order)
    if top < 0:
        raise InvalidInput(f"top: got {top}; allowed: 0 or more", field="top", value=top)
    ct = compile_topology(topology)
    with_services = bool(topology.services)
    result = class_sweep(topology, max_order, top=top, weights=score_weights(topology),
                         progress=progress, max_sets=max_sets) if with_services else None
    analysis = Analysis(
        max_order=max_order,
        spofs=tuple(spofs(topology, result)) if result is not None else (),
        cut_sets=minimal_cut_sets(topology, max_order, result) if result is not None else {},
        shared_risks=tuple(shared_risks(topology, ct)) if with_services else (),
        region_cuts=tuple(region_cuts(topology, budget, ct=ct)),
        nk=tuple(rank(topology, max_order, top, result)) if result is not None else (),
        scenarios={sid: run_scenario(topology, sid) for sid in topology.scenarios},
        network=network_analysis(topology, max_order, top)
        if network or not with_services else None,
        control_plane=tuple(control_plane_findings(topology)),
    )
    log.info("analysis.finished", topology=topology.name, max_order=max_order,
             classes=0 if result is None else len(result.classes),
             sets=0 if result is None else result.sets, spofs=len(analysis.spofs),
             shared_risks=len(analysis.shared_risks), exact=analysis.exact)
    return analysis
