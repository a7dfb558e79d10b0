"""Everything a report shows, laid out for the renderers: :func:`build_report_data`.

The renderers (HTML, Markdown, JSON) read one :class:`ReportData` and decide nothing. It is
made from one :class:`~georesil.report.inputs.ReportInputs` — the topology, the analysis, the
snapshot and annual simulations, the drill evidence, the readiness evidence and the advice, all
typed — by arranging them per section; nothing is recomputed here.

Any input may be absent: the section that needs it then carries a sentence saying what is
missing and how to produce it (``ReportData.missing``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from georesil.advice import (
    RatedFinding,
    Recommendation,
    RegionAbsorption,
    Risk,
    ScenarioShaking,
)
from georesil.analysis import NkEntry, RegionCut, ServiceImpact, Status
from georesil.model.schema import ReplicaRole, ReplicaSpec, Replication
from georesil.report import _format
from georesil.report.inputs import DrillEvidence, ReadinessEvidence, ReportInputs
from georesil.risk import Importance
from georesil.risk.engine import ServiceRisk

__all__ = [
    "SECTIONS",
    "TIER_OBJECTIVES",
    "ReportData",
    "ServiceRow",
    "annual_highlights",
    "build_report_data",
    "drill_trend_note",
    "readiness_checked",
]

#: Availability objective per service tier (Uptime Institute Tier IV 99.995 %, Tier III
#: 99.982 %, docs/sources.md#uptime-tiers; lower tiers are our choice).
TIER_OBJECTIVES: dict[int, float] = {1: 0.99995, 2: 0.99982, 3: 0.999, 4: 0.99}

#: Section ids, in order; the HTML uses them as anchors and the tests look for them.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Executive summary"),
    ("map", "Sites, links and criticality"),
    ("services", "Services: objectives, scenarios, availability, annual risk"),
    ("spofs", "Single points of failure and shared risks"),
    ("nk", "N-k ranking and scenario impact"),
    ("capacity", "Capacity absorption"),
    ("seismic", "Seismic scenarios and loss exceedance"),
    ("importance", "Importance ranking and recommendations"),
    ("drills", "Drill evidence"),
    ("readiness", "Readiness: can it fail over now?"),
    ("method", "Method and sources"),
)

_MISSING = {
    "analysis": "No analysis was supplied: run `georesil analyze FILE --json` (or `georesil "
                "report`, which runs it).",
    "simulate": "No snapshot simulation was supplied: run `georesil simulate FILE --json`.",
    "years": "No annual-risk simulation was supplied: run `georesil simulate FILE --years N "
             "--json`.",
    "drills": "No drills recorded yet: run one with `georesil drill run RUNBOOK` (journals are "
              "read from .georesil/drills/ or --journals DIR).",
    "readiness": "No readiness run recorded: run `georesil readiness` (each full run is kept "
                 "in .georesil/readiness/ of the working directory).",
}


@dataclass(frozen=True)
class ServiceRow:
    """One service: objectives, predicted outcome per scenario, availability, annual risk."""

    id: str
    name: str
    tier: int
    rto_s: float
    rpo_s: float
    primary: str
    replicas: str
    objective: float
    outcomes: Mapping[str, ServiceImpact]
    snapshot: ServiceRisk | None
    years: Mapping[str, Any] | None

    @property
    def ci95(self) -> tuple[float, float] | None:
        """The 95 % interval of the snapshot availability (``None``: no snapshot)."""
        if self.snapshot is None:
            return None
        return 1.0 - self.snapshot.p_down.high, 1.0 - self.snapshot.p_down.low

    @property
    def meets_objective(self) -> bool | None:
        """Whether the interval's lower bound reaches the tier objective (None: unknown)."""
        return None if self.ci95 is None else self.ci95[0] >= self.objective

    def affected_in(self, scenario: str) -> ServiceImpact | None:
        """Its outcome in ``scenario`` when it does not simply stay on its primary."""
        out = self.outcomes.get(scenario)
        if out is None or (out.status is Status.OK and not out.split_brain_risk):
            return None
        return out


@dataclass(frozen=True)
class ReportData:
    """The whole report, arranged per section; see the module docstring."""

    title: str
    topology_name: str
    description: str
    generated_at: str
    counts: Mapping[str, int]
    scenarios: Mapping[str, str]
    services: tuple[ServiceRow, ...]
    risks: tuple[Risk, ...]
    spofs: tuple[RatedFinding, ...]
    shared_risks: tuple[RatedFinding, ...]
    region_cuts: tuple[RegionCut, ...]
    nk: tuple[NkEntry, ...]
    absorption: tuple[RegionAbsorption, ...]
    quakes: tuple[ScenarioShaking, ...]
    loss_exceedance: tuple[Mapping[str, Any], ...]
    importance: tuple[Importance, ...]
    recommendations: tuple[Recommendation, ...]
    drills: tuple[DrillEvidence, ...]
    readiness: ReadinessEvidence | None
    readiness_age_s: float | None
    map_criticality: Mapping[str, float]
    missing: Mapping[str, str]
    inputs: ReportInputs

    def service(self, ident: str) -> ServiceRow:
        return next(s for s in self.services if s.id == ident)

    @property
    def tier1_outage_seen(self) -> bool:
        """Whether any simulated year had a tier-1 outage (a loss-exceedance row above 0)."""
        return any(float(r.get("annual_rate") or 0.0) > 0 for r in self.loss_exceedance)


def build_report_data(inputs: ReportInputs, *,
                      generated_at: dt.datetime | None = None) -> ReportData:
    """Arrange the typed inputs per section.

    Args:
        inputs: The topology, results and advice to show.
        generated_at: Time stamp shown in the report (default: now, UTC).
    """
    topology, advice = inputs.topology, inputs.advice
    present = {"analysis": inputs.analysis, "simulate": inputs.snapshot,
               "years": inputs.annual, "drills": inputs.drills or None,
               "readiness": inputs.readiness}
    now = generated_at or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:  # a naive time stamp is taken as UTC, as it is shown
        now = now.replace(tzinfo=dt.UTC)
    when = now.strftime("%Y-%m-%d %H:%M UTC")
    return ReportData(
        title=f"Resilience report: {topology.name}",
        topology_name=topology.name,
        description=" ".join((topology.doc.description or "").split()),
        generated_at=when,
        counts={"sites": len(topology.sites), "links": len(topology.links),
                "services": len(topology.services), "zones": len(topology.zones),
                "srlgs": len(topology.srlgs), "scenarios": len(topology.scenarios)},
        scenarios={sid: " ".join((s.description or "").split())
                   for sid, s in topology.scenarios.items()},
        services=_service_rows(inputs),
        risks=advice.risks,
        spofs=advice.spofs,
        shared_risks=advice.shared_risks,
        region_cuts=inputs.analysis.region_cuts if inputs.analysis else (),
        nk=inputs.analysis.nk if inputs.analysis else (),
        absorption=advice.absorption,
        quakes=advice.shaking,
        loss_exceedance=tuple(inputs.annual.loss_exceedance) if inputs.annual else (),
        importance=advice.importance,
        recommendations=advice.recommendations,
        drills=tuple(sorted(inputs.drills or (), key=lambda d: (d.started_at, d.run_id))),
        readiness=inputs.readiness,
        readiness_age_s=(now.timestamp() - inputs.readiness.latest.started_at
                         if inputs.readiness else None),
        map_criticality=advice.map_criticality,
        missing={k: text for k, text in _MISSING.items() if present[k] is None},
        inputs=inputs,
    )


def annual_highlights(data: ReportData) -> list[str]:
    """Sentences from the simulated years: the most outage-prone and breach-prone services."""
    rows = [s for s in data.services if s.years]
    out = []
    for key, what in (("p_outage_per_year", "at least one outage"),
                      ("p_rpo_breach_per_year", "at least one RPO breach")):
        ranked = sorted(rows, key=lambda s: -float((s.years or {}).get(key) or 0.0))
        if ranked and (ranked[0].years or {}).get(key):
            top = ranked[0]
            out.append(f"{top.id} (tier {top.tier}) has the highest chance of {what} in a "
                       f"year: {_format.probability((top.years or {})[key])}.")
    return out


def readiness_checked(data: ReportData) -> str:
    """When the latest readiness run was, how long before the report, and what it found."""
    ready, age = data.readiness, data.readiness_age_s
    if ready is None or age is None:
        return ""
    at = _utc(ready.latest.started_at)
    rel = (f"{_format.duration(round(age))} before this report" if age >= 0
           else f"{_format.duration(round(-age))} after this report's time stamp")
    found = ", ".join(f"{n} {status}" for status, n in ready.latest.counts.items() if n)
    drift = len(ready.drift)
    return (f"Last checked {at} ({rel}) against topology {ready.topology!r}, in "
            f"{ready.duration_s:.1f} s: {ready.latest.total} results — {found or 'none'}; "
            f"{drift} drift item{'' if drift == 1 else 's'}.")


def drill_trend_note(data: ReportData) -> str:
    """Where the trend of drill results over time is shown (the drill evidence section)."""
    number = next(i for i, (key, _) in enumerate(SECTIONS, start=1) if key == "drills")
    measured = [d for d in data.drills if d.rto_s is not None or d.rpo_s is not None]
    if not data.drills:
        return (f"No drill results over time yet (§{number}): the `drills.recent` rows say "
                "which drills are due.")
    if not measured:
        return (f"The {len(data.drills)} drills on record (§{number}) measured no RTO or RPO, "
                "so there is no trend of drill results yet.")
    books = sorted({d.runbook for d in measured})
    # As the drill figure draws it: a trend line where a runbook has two measured values.
    trend = [b for b in books if any(
        sum(getattr(d, key) is not None for d in measured if d.runbook == b) >= 2
        for key in ("rto_s", "rpo_s"))]
    line = (f"Drill results over time are in §{number}: the measured RTO and RPO of each of "
            f"the {len(data.drills)} drills against target and prediction")
    if trend:
        return line + f", with a least-squares trend for {', '.join(trend)}."
    return line + " (a trend appears once a runbook has two measured runs)."


def _utc(epoch_s: float) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _service_rows(inputs: ReportInputs) -> tuple[ServiceRow, ...]:
    topology = inputs.topology
    scenarios = inputs.analysis.scenarios if inputs.analysis else {}
    rows = []
    for sid, svc in topology.services.items():
        rows.append(ServiceRow(
            id=sid, name=svc.name or sid, tier=svc.tier, rto_s=svc.rto_s, rpo_s=svc.rpo_s,
            primary=topology.primary(sid).site,
            replicas=", ".join(_replica_text(r) for r in svc.replicas),
            objective=TIER_OBJECTIVES.get(svc.tier, 0.99),
            outcomes={scn: impact.services[sid] for scn, impact in scenarios.items()
                      if sid in impact.services},
            snapshot=inputs.snapshot.services.get(sid) if inputs.snapshot else None,
            years=inputs.annual.services.get(sid) if inputs.annual else None,
        ))
    return tuple(rows)


def _replica_text(replica: ReplicaSpec) -> str:
    if replica.role is ReplicaRole.PRIMARY:
        return f"{replica.site} ★"
    mode = replica.replication or Replication.ASYNC
    lag = f" {_format.duration(replica.lag_s)}" if replica.lag_s else ""
    return f"{replica.site} {mode}{lag}"
