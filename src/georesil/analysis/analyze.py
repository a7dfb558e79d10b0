"""``analyze``: every finding of the failure-injection analysis in one result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from georesil.analysis._sweep import sweep
from georesil.analysis.cut_sets import minimal_cut_sets
from georesil.analysis.impact import Impact
from georesil.analysis.nk import NkEntry, rank
from georesil.analysis.partitions import RegionCut, region_cuts
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
    """Everything ``georesil analyze`` reports; :meth:`to_json` is the documented format."""

    max_order: int
    spofs: tuple[Finding, ...]
    cut_sets: Mapping[str, list[list[str]]]
    shared_risks: tuple[Finding, ...]
    region_cuts: tuple[RegionCut, ...]
    nk: tuple[NkEntry, ...]
    scenarios: Mapping[str, Impact]

    def to_json(self) -> dict[str, Any]:
        return {
            "spofs": [f.to_json() for f in self.spofs],
            "cut_sets": dict(self.cut_sets),
            "shared_risks": [f.to_json() for f in self.shared_risks],
            "region_cuts": [c.to_json() for c in self.region_cuts],
            "nk": [e.to_json() for e in self.nk],
            "scenarios": {sid: impact.to_json() for sid, impact in self.scenarios.items()},
        }


def analyze(topology: Topology, max_order: int = 2, top: int = 20) -> Analysis:
    """SPOFs, minimal cut sets, shared risks, region cuts, N-k ranking and scenario impacts.

    Args:
        topology: The model.
        max_order: Largest number of simultaneous site/link failures, 1..:data:`MAX_ORDER`.
        top: How many N-k failure sets to keep.

    Raises:
        InvalidInput: ``max_order`` or ``top`` out of range.
        AnalysisError: too many failure sets, or a region-cut search that does not finish.

    Notes:
        One exhaustive bit-parallel kernel sweep of all sum_{k<=K} C(n, k) sets of n sites
        and links feeds SPOFs, cut sets and N-k; shared risks and scenarios use the reference
        evaluator once per group; region cuts are a max-flow and an iterative-deepening search.
    """
    if not 1 <= max_order <= MAX_ORDER:
        raise InvalidInput(
            f"max_order: got {max_order}; allowed: 1 to {MAX_ORDER} (an exhaustive N-{max_order} "
            "sweep grows as n^k; use the Monte Carlo engine for deeper combinations)",
            field="max_order", value=max_order)
    if top < 0:
        raise InvalidInput(f"top: got {top}; allowed: 0 or more", field="top", value=top)
    result = sweep(topology, max_order)
    analysis = Analysis(
        max_order=max_order,
        spofs=tuple(spofs(topology, result)),
        cut_sets=minimal_cut_sets(topology, max_order, result),
        shared_risks=tuple(shared_risks(topology)),
        region_cuts=tuple(region_cuts(topology)),
        nk=tuple(rank(topology, max_order, top, result)),
        scenarios={sid: run_scenario(topology, sid) for sid in topology.scenarios},
    )
    log.info("analysis.finished", topology=topology.name, max_order=max_order,
             sets=sum(len(level.combos) for level in result.levels),
             spofs=len(analysis.spofs), shared_risks=len(analysis.shared_risks))
    return analysis
