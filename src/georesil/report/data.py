"""Everything a report shows, assembled from plain JSON: :func:`build_report_data`.

The renderers (HTML, Markdown, JSON) read one :class:`ReportData` and decide nothing: every
number, ranking and sentence is made here, from

* the topology (targets, replicas, capacities, hazards — always present);
* ``georesil analyze --json`` (SPOFs, cut sets, shared risks, region cuts, N-k, scenarios);
* ``georesil simulate --json`` (snapshot availability and importance measures);
* ``georesil simulate --years N --json`` (annual outage and data-loss risk, loss exceedance);
* ``georesil drill history --json`` (measured RTO/RPO of past drills).

Any of the four JSON inputs may be ``None``: the section that needs it then carries a sentence
saying what is missing and how to produce it (``ReportData.missing``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.report import _format
from georesil.report.likelihood import Likelihood, Rates, element_rates, fmt_rate
from georesil.report.risks import (
    Candidate,
    Recommendation,
    Risk,
    add_capacity,
    backup_power,
    disjoint_route,
    rank_risks,
    recommend_for,
    region_routes,
)

__all__ = [
    "SECTIONS",
    "TIER_OBJECTIVES",
    "AbsorptionRow",
    "DrillRow",
    "Finding",
    "QuakeRow",
    "ReportData",
    "ServiceRow",
    "annual_highlights",
    "build_report_data",
]

#: Availability objective per service tier (Uptime Institute tiers as commonly quoted:
#: Tier IV 99.995 %, Tier III 99.982 %; lower tiers are our choice).
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
    outcomes: Mapping[str, Mapping[str, Any]]
    snapshot: Mapping[str, Any] | None
    years: Mapping[str, Any] | None

    @property
    def meets_objective(self) -> bool | None:
        """Whether the interval's lower bound reaches the tier objective (None: unknown)."""
        if not self.snapshot:
            return None
        lo = (self.snapshot.get("ci95") or [self.snapshot["availability"]])[0]
        return bool(lo >= self.objective)


@dataclass(frozen=True)
class Finding:
    """A SPOF or a shared risk, explained, with how often it happens."""

    element: str
    down: tuple[str, ...]
    breach: tuple[str, ...]
    sentence: str
    likelihood: Likelihood

    @property
    def likelihood_text(self) -> str:
        return f"{fmt_rate(self.likelihood.per_year)}: {self.likelihood.basis}"


@dataclass(frozen=True)
class AbsorptionRow:
    """Can ``to`` absorb ``frm``: per resource, as analysed and if all of ``frm``'s load moved."""

    frm: str
    to: str
    absorbs: bool
    resources: tuple[Mapping[str, Any], ...]
    worst_case: tuple[Mapping[str, Any], ...]
    moved_services: tuple[str, ...]
    lost_services: tuple[str, ...]
    overflow: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class QuakeRow:
    """One scenario quake at median ground motion: PGA and failure probability per element."""

    scenario: str
    magnitude: float
    lat: float
    lon: float
    depth_km: float
    elements: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class DrillRow:
    """One past drill and how it measured up."""

    record: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.record.get(key)

    @property
    def rto_ok(self) -> bool | None:
        return _le(self.record.get("rto_s"), self.record.get("rto_target_s"))

    @property
    def rpo_ok(self) -> bool | None:
        return _le(self.record.get("rpo_s"), self.record.get("rpo_target_s"))


@dataclass(frozen=True)
class ReportData:
    """The whole report as data; see the module docstring for where each part comes from."""

    title: str
    topology_name: str
    description: str
    generated_at: str
    counts: Mapping[str, int]
    scenarios: Mapping[str, str]
    services: tuple[ServiceRow, ...]
    risks: tuple[Risk, ...]
    spofs: tuple[Finding, ...]
    shared_risks: tuple[Finding, ...]
    region_cuts: tuple[Mapping[str, Any], ...]
    nk: tuple[Mapping[str, Any], ...]
    absorption: tuple[AbsorptionRow, ...]
    quakes: tuple[QuakeRow, ...]
    loss_exceedance: tuple[Mapping[str, Any], ...]
    importance: tuple[Mapping[str, Any], ...]
    recommendations: tuple[Recommendation, ...]
    drills: tuple[DrillRow, ...]
    map_criticality: Mapping[str, float]
    missing: Mapping[str, str]
    inputs: Mapping[str, Any] = field(repr=False)
    tier1_target: str = "tier-1"

    def service(self, ident: str) -> ServiceRow:
        return next(s for s in self.services if s.id == ident)


def build_report_data(
    topology: Topology,
    analysis_json: Mapping[str, Any] | None,
    simulate_json: Mapping[str, Any] | None,
    years_json: Mapping[str, Any] | None,
    drills_json: Sequence[Mapping[str, Any]] | None,
    *,
    generated_at: dt.datetime | None = None,
) -> ReportData:
    """Assemble a report from the topology and the JSON outputs of the other commands.

    Args:
        topology: The model the JSON inputs were computed from.
        analysis_json: ``georesil analyze --json`` or ``None``.
        simulate_json: ``georesil simulate --json`` or ``None``.
        years_json: ``georesil simulate --years N --json`` or ``None``.
        drills_json: ``georesil drill history --json`` or ``None``.
        generated_at: Time stamp shown in the report (default: now, UTC).

    Raises:
        InvalidInput: a JSON input that does not have the documented shape, or that names
            services, scenarios or elements the topology does not have.
    """
    _check_inputs(topology, analysis_json, simulate_json, years_json, drills_json)
    rates = element_rates(topology)
    missing = {k: v for k, v in _MISSING.items() if {"analysis": analysis_json,
               "simulate": simulate_json, "years": years_json, "drills": drills_json}[k] is None}
    if drills_json is not None and not drills_json:
        missing["drills"] = _MISSING["drills"]
    analysis = analysis_json or {}
    importance = _importance(simulate_json)
    when = (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    spofs = tuple(_finding(topology, f, rates) for f in analysis.get("spofs", ()))
    shared = tuple(_finding(topology, f, rates) for f in analysis.get("shared_risks", ()))
    risks = tuple(rank_risks(topology, _candidates(topology, analysis, rates), rates))
    absorption = _absorption(topology)
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
        services=tuple(_service_rows(topology, analysis, simulate_json, years_json)),
        risks=risks,
        spofs=spofs,
        shared_risks=shared,
        region_cuts=tuple(analysis.get("region_cuts", ())),
        nk=tuple(_fold_nk(analysis.get("nk", ()))),
        absorption=absorption,
        quakes=tuple(_quakes(topology)),
        loss_exceedance=tuple((years_json or {}).get("loss_exceedance") or ()),
        importance=tuple(importance),
        recommendations=tuple(_recommendations(topology, risks, importance, absorption, rates)),
        drills=tuple(DrillRow(dict(r)) for r in sorted(
            drills_json or (), key=lambda r: str(r.get("started_at") or ""))),
        map_criticality=_map_criticality(topology, importance),
        missing=missing,
        inputs={"analysis": analysis_json, "simulate": simulate_json, "years": years_json,
                "drills": list(drills_json) if drills_json is not None else None},
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


# -- input checks -------------------------------------------------------------------------------
def _check_inputs(topology: Topology, analysis: Any, simulate: Any, years: Any,
                  drills: Any) -> None:
    problems = []
    for name, doc, keys in (("analysis", analysis, ("spofs", "nk", "scenarios")),
                            ("simulate", simulate, ("services",)),
                            ("years", years, ("services",))):
        if doc is None:
            continue
        if not isinstance(doc, Mapping):
            problems.append(f"{name}: expected a JSON object, got {type(doc).__name__}")
            continue
        absent = [k for k in keys if k not in doc]
        if absent:
            problems.append(f"{name}: missing key(s) {', '.join(map(repr, absent))}")
        unknown = sorted(set(doc.get("services") or ()) - set(topology.services))
        if unknown:
            problems.append(f"{name}.services: unknown service(s) {', '.join(map(repr, unknown))}"
                            f"; this topology has {', '.join(map(repr, topology.services))}")
    if analysis is not None and isinstance(analysis, Mapping):
        unknown = sorted(set(analysis.get("scenarios") or ()) - set(topology.scenarios))
        if unknown:
            problems.append(f"analysis.scenarios: unknown scenario(s) "
                            f"{', '.join(map(repr, unknown))}; was it computed from another "
                            "topology?")
    if drills is not None and not (isinstance(drills, Sequence)
                                   and all(isinstance(r, Mapping) for r in drills)):
        problems.append("drills: expected a JSON list of drill records (georesil drill history "
                        "--json)")
    if problems:
        raise InvalidInput("report input does not match the documented JSON: "
                           + "; ".join(problems), field=problems[0].split(":")[0])


# -- services -----------------------------------------------------------------------------------
def _service_rows(topology: Topology, analysis: Mapping[str, Any], simulate: Any,
                  years: Any) -> list[ServiceRow]:
    scenarios = analysis.get("scenarios") or {}
    rows = []
    for sid, svc in topology.services.items():
        outcomes = {scn: result["services"][sid] for scn, result in scenarios.items()
                    if sid in result.get("services", {})}
        replicas = ", ".join(_replica_text(r) for r in svc.replicas)
        rows.append(ServiceRow(
            id=sid, name=svc.name or sid, tier=svc.tier, rto_s=svc.rto_s, rpo_s=svc.rpo_s,
            primary=topology.primary(sid).site, replicas=replicas,
            objective=TIER_OBJECTIVES.get(svc.tier, 0.99), outcomes=outcomes,
            snapshot=((simulate or {}).get("services") or {}).get(sid),
            years=((years or {}).get("services") or {}).get(sid),
        ))
    return rows


def _replica_text(replica: Any) -> str:
    if replica.role.value == "primary":
        return f"{replica.site} ★"
    mode = replica.replication.value if replica.replication else "async"
    lag = f" {_format.duration(replica.lag_s)}" if replica.lag_s else ""
    return f"{replica.site} {mode}{lag}"


# -- findings and candidates --------------------------------------------------------------------
def _finding(topology: Topology, raw: Mapping[str, Any], rates: Rates) -> Finding:
    from georesil.analysis.spof import Finding as AnalysisFinding
    from georesil.analysis.spof import sentence

    element = raw["element"]
    down, breach = tuple(raw.get("down", ())), tuple(raw.get("breach", ()))
    text = sentence(topology, AnalysisFinding(element, down, breach))
    return Finding(element, down, breach, text,
                   rates.of(element, _critical_sites(topology, down, breach)))


def _critical_sites(topology: Topology, down: Sequence[str], breach: Sequence[str]) -> list[str]:
    """Sites whose going dark causes the effect: a breach needs its primary dark; a service
    down needs every replica dark, so its best-protected replica (most backup power) counts."""
    sites = [topology.primary(s).site for s in breach]
    for sid in down:
        replicas = [topology.site(r.site) for r in topology.service(sid).replicas]
        sites.append(max(replicas, key=lambda site: site.backup_power_h or 0.0).id)
    return sites


def _candidates(topology: Topology, analysis: Mapping[str, Any], rates: Rates) -> list[Candidate]:
    out = []
    for kind, key in (("single point of failure", "spofs"), ("shared risk", "shared_risks")):
        for f in analysis.get(key, ()):
            affected = _critical_sites(topology, f.get("down", ()), f.get("breach", ()))
            out.append(Candidate(f"{f['element']} ({kind})", (f["element"],), kind,
                                 rates.of(f["element"], affected)))
    for srlg in topology.srlgs:  # SRLGs are shared risks even when the analysis lists none
        out.append(Candidate(f"srlg:{srlg} (shared risk)", (f"srlg:{srlg}",), "shared risk",
                             rates.of(f"srlg:{srlg}")))
    for sid, result in (analysis.get("scenarios") or {}).items():
        status = {s: o.get("status") for s, o in result.get("services", {}).items()}
        affected = _critical_sites(topology, [s for s, v in status.items() if v == "down"],
                                   [s for s, v in status.items() if v == "breach"])
        out.append(Candidate(f"scenario {sid}", tuple(topology.scenario(sid).fail), "scenario",
                             rates.scenario(sid, affected)))
    return out


def _fold_nk(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """N-k rows, each marked ``same_as`` a listed subset that has exactly the same effect.

    ``site:a + site:b`` doing what ``site:a`` alone does adds nothing to read; the renderers
    fold such rows and say how many.
    """
    out = []
    for row in rows:
        effect = (set(row.get("down", ())), set(row.get("breach", ())))
        same = next((other["elements"] for other in rows
                     if set(other["elements"]) < set(row["elements"])
                     and (set(other.get("down", ())), set(other.get("breach", ()))) == effect),
                    None)
        out.append(dict(row) | {"same_as": same})
    return out


# -- capacity -----------------------------------------------------------------------------------
def _absorption(topology: Topology) -> tuple[AbsorptionRow, ...]:
    from georesil.analysis.capacity import absorption

    # Only regions that host a primary carry load worth moving (north and south here).
    hosts = list(dict.fromkeys(topology.site(topology.primary(s).site).region
                               for s in topology.services))
    hosts.sort(key=topology.regions.index)
    rows = []
    for frm, to in ((a, b) for a in hosts for b in hosts if a != b):
        result = absorption(topology, frm, to).to_json()
        rows.append(AbsorptionRow(
            frm=frm, to=to, absorbs=bool(result["absorbs"]), resources=tuple(result["resources"]),
            worst_case=tuple(_worst_case(topology, frm, to)),
            moved_services=tuple(result["moved_services"]),
            lost_services=tuple(result["lost_services"]),
            overflow=tuple(result["capacity_overflow"])))
    return tuple(rows)


def _worst_case(topology: Topology, frm: str, to: str) -> list[dict[str, Any]]:
    """Demand in ``to`` if every service whose primary is in ``frm`` moved there, clients or not."""
    from georesil.model import RESOURCES

    region = {s.id: s.region for s in topology.sites.values()}
    rows = []
    for resource in RESOURCES:
        demand = sum(svc.demand.get(resource) or 0.0 for sid, svc in topology.services.items()
                     if region[topology.primary(sid).site] in (frm, to))
        caps = [c for s in topology.sites.values() if s.region == to
                and (c := s.capacity.get(resource)) is not None]
        capacity = sum(caps) if caps else None
        shortfall = max(0.0, demand - capacity) if capacity is not None else 0.0
        rows.append({"resource": resource, "demand": round(demand, 6), "capacity": capacity,
                     "shortfall": round(shortfall, 6)})
    return rows


# -- seismic ------------------------------------------------------------------------------------
def _quakes(topology: Topology) -> list[QuakeRow]:
    from georesil.hazards import quake_impact
    from georesil.hazards.earthquakes import Exposure

    exposure = Exposure.of(topology)
    median = dict(zip(exposure.refs, (float(m) for m in exposure.median_g), strict=True))
    rows = []
    for sid, scn in topology.scenarios.items():
        q = scn.quake
        if q is None:
            continue
        impact = quake_impact(topology, q.lat, q.lon, q.magnitude, q.depth_km)
        rows.append(QuakeRow(sid, q.magnitude, q.lat, q.lon, q.depth_km, {
            ref: {"pga_g": e.pga_g, "p_fail": e.p_fail, "distance_km": e.distance_km,
                  "median_g": median[ref]}
            for ref, e in impact.elements.items()}))
    return rows


# -- importance and recommendations -------------------------------------------------------------
def _importance(simulate: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    rows = [r for r in (simulate or {}).get("importance") or () if r.get("target") == "tier-1"]
    if not rows:  # a topology without tier-1 services: rank for every target
        rows = list((simulate or {}).get("importance") or ())
    rows.sort(key=lambda r: (-(r.get("fussell_vesely") or 0.0), -(r.get("birnbaum") or 0.0),
                             r["element"]))
    return [r for r in rows if (r.get("fussell_vesely") or 0.0) > 0 or r.get("birnbaum")]


def _map_criticality(topology: Topology,
                     importance: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per site and link, criticality scaled to [0, 1] by the largest (zones are spread out)."""
    raw: dict[str, float] = {}
    for row in importance:
        crit = float(row.get("criticality") or 0.0)
        kind, _, ident = row["element"].partition(":")
        if kind == "zone":
            members = topology.zone_members(ident)
            targets = [f"site:{s}" for s in members.sites] + [f"link:{k}" for k in members.links]
        elif kind in ("site", "link"):
            targets = [row["element"]]
        else:
            continue
        for t in targets:
            raw[t] = max(raw.get(t, 0.0), crit)
    top = max(raw.values(), default=0.0)
    if top <= 0:
        return {}
    return {k: round(v / top, 4) for k, v in raw.items() if v > 0}


def _recommendations(topology: Topology, risks: Sequence[Risk],
                     importance: Sequence[Mapping[str, Any]],
                     absorption: Sequence[AbsorptionRow], rates: Rates) -> list[Recommendation]:
    """Fixes of the top risks first, then those the importance ranking and capacity point to."""
    from georesil.analysis import inject

    recs = [fix for risk in risks for fix in risk.fixes]
    for row in importance[:8]:
        element = row["element"]
        kind, _, ident = element.partition(":")
        if kind == "zone" and topology.zone(ident).kind.value == "power":
            members = topology.zone_members(ident).sites
            primaries = [topology.primary(s).site for s in topology.services]
            for site in dict.fromkeys(p for p in primaries if p in members):
                rec = backup_power(topology, ident, site)
                if rec:
                    recs.append(rec)
        elif kind == "link":
            recs += [r for r in (disjoint_route(topology, g, rates)
                                 for g in topology.link(ident).srlg) if r]
        elif kind in ("site", "srlg"):
            recs += recommend_for(topology, [element], inject(topology, [element]), rates)
    for absorbed in absorption:
        for res in absorbed.worst_case:
            if res["shortfall"] > 0:
                recs.append(add_capacity(
                    f"the {absorbed.to} region", res["resource"],
                    _round_up(res["shortfall"], res["resource"]),
                    f"if every service of the {absorbed.frm} moves to the {absorbed.to}"))
    recs += region_routes(topology, rates)
    seen: dict[tuple[str, str], Recommendation] = {}
    for rec in recs:
        seen.setdefault(rec.key, rec)
    return list(seen.values())


def _round_up(value: float, resource: str) -> float:
    return float(math.ceil(value)) if resource == "gpus" else math.ceil(value * 10) / 10


def _le(value: Any, target: Any) -> bool | None:
    if value is None or target is None:
        return None
    return bool(float(value) <= float(target))
