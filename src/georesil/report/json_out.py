"""The JSON report: every number of the report, and the analysis/simulation JSON it came from.

The top-level keys follow the report's sections; ``inputs`` embeds the documented outputs of
``georesil analyze --json``, ``simulate --json``, ``simulate --years N --json`` and
``drill history --json`` unchanged (``null`` when absent).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from georesil.report.data import SECTIONS, TIER_OBJECTIVES

if TYPE_CHECKING:
    from georesil.report.data import Finding, ReportData
    from georesil.report.risks import Recommendation, Risk

__all__ = ["SCHEMA_VERSION", "render_json", "report_json"]

#: Bumped when a key changes meaning or disappears.
SCHEMA_VERSION = 1


def report_json(data: ReportData) -> dict[str, Any]:
    """The report as a JSON-serialisable dict."""
    return {
        "schema_version": SCHEMA_VERSION,
        "title": data.title,
        "topology": data.topology_name,
        "generated_at": data.generated_at,
        "counts": dict(data.counts),
        "sections": [sid for sid, _ in SECTIONS],
        "missing": dict(data.missing),
        "risks": [_risk(r) for r in data.risks],
        "services": [{
            "id": s.id, "name": s.name, "tier": s.tier, "rto_s": s.rto_s, "rpo_s": s.rpo_s,
            "primary": s.primary, "replicas": s.replicas, "objective": s.objective,
            "meets_objective": s.meets_objective, "snapshot": s.snapshot, "years": s.years,
            "scenarios": dict(s.outcomes)} for s in data.services],
        "tier_objectives": {str(k): v for k, v in TIER_OBJECTIVES.items()},
        "spofs": [_finding(f) for f in data.spofs],
        "shared_risks": [_finding(f) for f in data.shared_risks],
        "region_cuts": list(data.region_cuts),
        "nk": list(data.nk),
        "absorption": [{
            "from": a.frm, "to": a.to, "absorbs": a.absorbs, "resources": list(a.resources),
            "all_load_moved": list(a.worst_case), "moved_services": list(a.moved_services),
            "lost_services": list(a.lost_services), "capacity_overflow": list(a.overflow)}
            for a in data.absorption],
        "quakes": [{"scenario": q.scenario, "magnitude": q.magnitude, "lat": q.lat,
                    "lon": q.lon, "depth_km": q.depth_km, "elements": dict(q.elements)}
                   for q in data.quakes],
        "loss_exceedance": list(data.loss_exceedance),
        "importance": list(data.importance),
        "recommendations": [_rec(r) for r in data.recommendations],
        "drills": [dict(d.record, rto_met=d.rto_ok, rpo_met=d.rpo_ok) for d in data.drills],
        "map_criticality": dict(data.map_criticality),
        "inputs": dict(data.inputs),
    }


def render_json(data: ReportData) -> str:
    """The report as indented JSON text (non-finite numbers become ``null``)."""
    return json.dumps(_finite(report_json(data)), indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"


def _risk(r: Risk) -> dict[str, Any]:
    return {"rank": r.rank, "title": r.title, "refs": list(r.refs), "kind": r.kind,
            "likelihood_per_year": r.likelihood.per_year, "likelihood_basis": r.likelihood.basis,
            "impact_weight": r.impact_weight, "impact": r.impact_text, "score": r.score,
            "down": list(r.down), "breach": list(r.breach), "also": list(r.also),
            "fixes": [_rec(f) for f in r.fixes]}


def _rec(r: Recommendation) -> dict[str, Any]:
    return {"action": r.action, "element": r.element, "figure": r.figure, "text": r.text}


def _finding(f: Finding) -> dict[str, Any]:
    return {"element": f.element, "down": list(f.down), "breach": list(f.breach),
            "explanation": f.sentence, "likelihood_per_year": f.likelihood.per_year,
            "likelihood_basis": f.likelihood.basis}


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x
