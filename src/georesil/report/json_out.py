"""The JSON report: every number of the report, and the producers' output it came from.

This is the file edge: the typed results become JSON here and nowhere earlier. The top-level
keys follow the report's sections; ``inputs`` embeds ``to_json()`` of the analysis, the snapshot
and annual simulations (the documented outputs of ``georesil analyze --json``,
``simulate --json`` and ``simulate --years N --json``) and the drill history (``null`` when
absent). ``readiness`` holds the latest saved readiness run (its counts, every result that is not
ok, drift, its age at generation time) and the counts of every saved run (``null`` when none).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from georesil.advice import RatedFinding, Recommendation, RegionAbsorption, Risk
from georesil.report.data import SECTIONS, TIER_OBJECTIVES, ReportData, ServiceRow

__all__ = ["SCHEMA_VERSION", "render_json", "report_json"]

#: Bumped when a key changes meaning or disappears.
SCHEMA_VERSION = 1


def report_json(data: ReportData) -> dict[str, Any]:
    """The report as a JSON-serialisable dict."""
    inputs = data.inputs
    return {
        "schema_version": SCHEMA_VERSION,
        "title": data.title,
        "topology": data.topology_name,
        "generated_at": data.generated_at,
        "counts": dict(data.counts),
        "sections": [sid for sid, _ in SECTIONS],
        "missing": dict(data.missing),
        "risks": [_risk(r) for r in data.risks],
        "services": [_service(s) for s in data.services],
        "tier_objectives": {str(k): v for k, v in TIER_OBJECTIVES.items()},
        "spofs": [_finding(f) for f in data.spofs],
        "shared_risks": [_finding(f) for f in data.shared_risks],
        "region_cuts": [c.to_json() for c in data.region_cuts],
        "nk": [e.to_json() | {"same_as": list(e.same_as) if e.same_as else None}
               for e in data.nk],
        "absorption": [_absorption(a) for a in data.absorption],
        "quakes": [{"scenario": q.scenario, "magnitude": q.quake.magnitude, "lat": q.quake.lat,
                    "lon": q.quake.lon, "depth_km": q.quake.depth_km,
                    "elements": {ref: {"pga_g": e.pga_g, "p_fail": e.p_fail,
                                       "distance_km": e.distance_km,
                                       "median_g": q.median_g[ref]}
                                 for ref, e in q.elements.items()}}
                   for q in data.quakes],
        "loss_exceedance": list(data.loss_exceedance),
        "importance": [r.to_json() for r in data.importance],
        "recommendations": [_rec(r) for r in data.recommendations],
        "drills": [d.to_json() | {"rto_met": d.rto_ok, "rpo_met": d.rpo_ok}
                   for d in data.drills],
        "readiness": _readiness(data),
        "map_criticality": dict(data.map_criticality),
        "inputs": {
            "analysis": inputs.analysis.to_json() if inputs.analysis else None,
            "simulate": inputs.snapshot.to_json() if inputs.snapshot else None,
            "years": inputs.annual.to_json() if inputs.annual else None,
            "drills": ([d.to_json() for d in inputs.drills] if inputs.drills is not None
                       else None),
        },
    }


def render_json(data: ReportData) -> str:
    """The report as indented JSON text (non-finite numbers become ``null``)."""
    return json.dumps(_finite(report_json(data)), indent=2, ensure_ascii=False,
                      allow_nan=False) + "\n"


def _readiness(data: ReportData) -> dict[str, Any] | None:
    if data.readiness is None:
        return None
    doc = data.readiness.to_json()
    return doc | {"checked_at": _iso(doc["started_at"]), "age_s": data.readiness_age_s,
                  "runs": [r | {"checked_at": _iso(r["started_at"])} for r in doc["runs"]]}


def _iso(epoch_s: float) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _service(s: ServiceRow) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "tier": s.tier, "rto_s": s.rto_s, "rpo_s": s.rpo_s,
            "primary": s.primary, "replicas": s.replicas, "objective": s.objective,
            "meets_objective": s.meets_objective,
            "snapshot": s.snapshot.to_json() if s.snapshot else None, "years": s.years,
            "scenarios": {scn: o.to_json() for scn, o in s.outcomes.items()}}


def _risk(r: Risk) -> dict[str, Any]:
    return {"rank": r.rank, "title": r.title, "refs": list(r.refs), "kind": r.kind,
            "likelihood_per_year": r.likelihood.per_year, "likelihood_basis": r.likelihood.basis,
            "impact_weight": r.impact_weight, "impact": r.impact_text, "score": r.score,
            "down": list(r.down), "breach": list(r.breach), "also": list(r.also),
            "fixes": [_rec(f) for f in r.fixes]}


def _rec(r: Recommendation) -> dict[str, Any]:
    return {"action": r.action, "element": r.element, "figure": r.figure, "text": r.text}


def _finding(f: RatedFinding) -> dict[str, Any]:
    return f.finding.to_json() | {"explanation": f.sentence,
                                  "likelihood_per_year": f.likelihood.per_year,
                                  "likelihood_basis": f.likelihood.basis}


def _absorption(a: RegionAbsorption) -> dict[str, Any]:
    return a.analysed.to_json() | {"all_load_moved": [
        {"resource": r.resource, "demand": r.demand, "capacity": r.capacity,
         "shortfall": r.shortfall} for r in a.all_moved]}


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x
