"""The five biggest risks and the concrete fixes they point to.

A **risk** is a failure (a single element, a zone, an SRLG or a named scenario) with

* a *likelihood* — an annual rate from :mod:`georesil.report.likelihood`;
* an *impact* — what the failure does to the services (the analysis semantics, :func:`inject`),
  weighted like the N-k ranking: a tier-1 service down 100, tier 2 10, tier 3+ 1, a breach half;
* a *score* = rate × impact weight (expected weighted service losses per year).

Failures with the same impact (e.g. three power hubs that each take the north) are merged into
one risk naming the most likely one and listing the others. Every risk carries the fixes derived
from its numbers (:class:`Recommendation`): a switch to sync replication when the replica's lag
exceeds the RPO, backup-power hours when a power zone outlasts the generators, an SRLG-disjoint
route when parallel routes share a conduit, a second replica for a single-replica service,
fencing when a failover happens while the primary is alive (split brain), and capacity when a
site overflows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from georesil.analysis import Impact, Status, inject
from georesil.model import Topology
from georesil.report._format import duration as _dur
from georesil.report.likelihood import Likelihood, Rates, fmt_rate

__all__ = [
    "Candidate",
    "Recommendation",
    "Risk",
    "impact_weight",
    "rank_risks",
    "recommend_for",
    "region_routes",
]

#: Target share of outages a backup-power recommendation aims to leave (10× fewer).
BACKUP_TARGET_SHARE = 0.1
#: Extra impact weight of a failure that leaves some service at risk of split brain.
SPLIT_BRAIN_WEIGHT = 5.0
#: Power per GPU including its node share and cooling (~1.3 kW H200 node share × PUE 1.3) [est.].
KW_PER_GPU = 1.7


@dataclass(frozen=True)
class Recommendation:
    """One concrete fix: what to do, to which element, with the figure that motivates it."""

    action: str
    element: str
    figure: str
    text: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.action, self.element)


@dataclass(frozen=True)
class Candidate:
    """A failure considered for the top risks, before ranking."""

    title: str
    refs: tuple[str, ...]
    kind: str  # "spof", "shared-risk", "scenario"
    likelihood: Likelihood


@dataclass(frozen=True)
class Risk:
    """A ranked risk: likelihood, impact and the fixes it points to, all in words and numbers."""

    rank: int
    title: str
    refs: tuple[str, ...]
    kind: str
    likelihood: Likelihood
    impact_weight: float
    impact_text: str
    score: float
    down: tuple[str, ...]
    breach: tuple[str, ...]
    fixes: tuple[Recommendation, ...]
    also: tuple[str, ...] = field(default=())

    @property
    def likelihood_text(self) -> str:
        return f"{fmt_rate(self.likelihood.per_year)}: {self.likelihood.basis}"


def impact_weight(topology: Topology, down: Iterable[str], breach: Iterable[str]) -> float:
    """Tier-weighted impact: 100/10/1 per down service by tier, half that for a breach."""
    from georesil.analysis.nk import tier_weight

    return (sum(tier_weight(topology.service(s).tier) for s in down)
            + 0.5 * sum(tier_weight(topology.service(s).tier) for s in breach))


def impact_text(topology: Topology, impact: Impact, baseline: Impact) -> str:
    """The impact in words: which services go down, which breach and why, split brain, overflow."""
    parts = []
    newly = _new_effects(impact, baseline)
    if newly[0]:
        parts.append("down: " + ", ".join(f"{s} (tier {topology.service(s).tier})"
                                          for s in newly[0]))
    for sid in newly[1]:
        out, svc = impact.services[sid], topology.service(sid)
        why = []
        if (out.data_loss_s or 0) > svc.rpo_s:
            why.append(f"loses {_dur(out.data_loss_s)} of writes > RPO {_dur(svc.rpo_s)}")
        if (out.recovery_s or 0) > svc.rto_s:
            why.append(f"recovers in {_dur(out.recovery_s)} > RTO {_dur(svc.rto_s)}")
        parts.append(f"{sid} breaches its objectives ({'; '.join(why) or out.reason})")
    split = [s for s, o in impact.services.items() if o.split_brain_risk]
    if split:
        parts.append("split-brain risk for " + ", ".join(split))
    for o in impact.capacity_overflow:
        parts.append(f"{o.site} overloaded: {o.demand:g} > {o.capacity:g} {o.resource}")
    return "; ".join(parts) or "no service affected"


def _new_effects(impact: Impact, baseline: Impact) -> tuple[list[str], list[str]]:
    before = {s: o.status for s, o in baseline.services.items()}
    down = [s for s in impact.with_status(Status.DOWN) if before[s] is not Status.DOWN]
    breach = [s for s in impact.with_status(Status.BREACH)
              if before[s] not in (Status.DOWN, Status.BREACH)]
    return down, breach


def rank_risks(topology: Topology, candidates: Sequence[Candidate], rates: Rates,
               limit: int = 5) -> list[Risk]:
    """Score every candidate, merge those with the same impact, keep the ``limit`` largest."""
    baseline = inject(topology, [])
    scored: dict[tuple[frozenset[str], frozenset[str]], list[tuple[float, Candidate, Impact]]] = {}
    for cand in candidates:
        impact = inject(topology, cand.refs)
        down, breach = _new_effects(impact, baseline)
        split = any(o.split_brain_risk for o in impact.services.values())
        if not (down or breach or split or impact.capacity_overflow):
            continue
        weight = _weight(topology, impact, down, breach)
        score = cand.likelihood.per_year * weight
        scored.setdefault((frozenset(down), frozenset(breach)), []).append((score, cand, impact))
    groups = [sorted(g, key=lambda x: (-x[0], x[1].title)) for g in scored.values()]
    groups.sort(key=lambda g: (-g[0][0], g[0][1].title))
    risks = []
    for i, group in enumerate(groups[:limit], start=1):
        score, cand, impact = group[0]
        down, breach = _new_effects(impact, baseline)
        risks.append(Risk(
            rank=i, title=cand.title, refs=cand.refs, kind=cand.kind, likelihood=cand.likelihood,
            impact_weight=_weight(topology, impact, down, breach),
            impact_text=impact_text(topology, impact, baseline), score=score,
            down=tuple(down), breach=tuple(breach),
            fixes=tuple(recommend_for(topology, cand.refs, impact, rates)),
            also=tuple(c.title for _, c, _ in group[1:]),
        ))
    return risks


def _weight(topology: Topology, impact: Impact, down: Sequence[str],
            breach: Sequence[str]) -> float:
    """Tier-weighted impact, plus 5 when some service risks split brain."""
    split = any(o.split_brain_risk for o in impact.services.values())
    return impact_weight(topology, down, breach) + (SPLIT_BRAIN_WEIGHT if split else 0.0)


# -- recommendations ----------------------------------------------------------------------------
def recommend_for(topology: Topology, refs: Sequence[str], impact: Impact,
                  rates: Rates) -> list[Recommendation]:
    """The fixes a failure's numbers point to (deduplicated, in a stable order)."""
    recs: list[Recommendation] = []
    for ref in refs:
        recs += _for_ref(topology, ref, impact, rates)
    for sid, out in impact.services.items():
        svc = topology.service(sid)
        if out.status is Status.BREACH and (out.data_loss_s or 0) > svc.rpo_s and out.serving_site:
            recs.append(sync_replication(topology, sid, out.serving_site))
        if out.status is Status.BREACH and (out.recovery_s or 0) > svc.rto_s:
            recs.append(faster_failover(topology, sid, impact))
        if out.status is Status.DOWN and len({r.site for r in svc.replicas}) == 1:
            recs.append(add_replica(topology, sid, rates))
        if out.split_brain_risk:
            recs.append(fence_failover(topology, sid, out.serving_site or "?"))
    for o in impact.capacity_overflow:
        recs.append(add_capacity(o.site, o.resource, o.demand - o.capacity,
                                 f"when {', '.join(refs)} fail{'s' if len(refs) == 1 else ''}"))
    return _dedupe(recs)


def _for_ref(topology: Topology, ref: str, impact: Impact, rates: Rates) -> list[Recommendation]:
    kind, _, ident = ref.partition(":")
    if kind == "zone" and topology.zone(ident).kind.value == "power":
        affected = _affected_primaries(topology, impact)
        return [r for r in (backup_power(topology, ident, s) for s in affected) if r]
    if kind == "srlg":
        rec = disjoint_route(topology, ident, rates)
        return [rec] if rec else []
    if kind == "link":
        link = topology.link(ref[5:])
        return [r for r in (disjoint_route(topology, g, rates) for g in link.srlg) if r]
    return []


def _affected_primaries(topology: Topology, impact: Impact) -> list[str]:
    sites = []
    for sid, out in impact.services.items():
        if out.status in (Status.DOWN, Status.BREACH, Status.FAILOVER):
            site = topology.primary(sid).site
            if site not in sites:
                sites.append(site)
    return sites


def sync_replication(topology: Topology, service: str, site: str) -> Recommendation:
    """Switch a service's replica at ``site`` to synchronous replication."""
    svc = topology.service(service)
    replica = next(r for r in svc.replicas if r.site == site)
    lag = replica.lag_s or 0.0
    return Recommendation(
        "sync-replication", f"service:{service}", f"lag {_dur(lag)} > RPO {_dur(svc.rpo_s)}",
        f"Switch {service}'s replica at {site} from {_repl(replica)} to sync replication "
        f"(or cut its lag below {_dur(svc.rpo_s)}): a failover to it now loses {_dur(lag)} of "
        f"writes against an RPO of {_dur(svc.rpo_s)}.")


def faster_failover(topology: Topology, service: str, impact: Impact) -> Recommendation:
    """Cut the failover time of the slowest service on ``service``'s dependency chain."""
    svc = topology.service(service)
    chain, stack = [service], list(svc.depends_on)
    while stack:
        dep = stack.pop()
        if dep not in chain:
            chain.append(dep)
            stack += topology.service(dep).depends_on
    # Ties go to the dependency: a service inherits its dependencies' recovery time.
    slowest = max(chain, key=lambda s: (impact.services[s].recovery_s or 0.0, s != service))
    took = impact.services[slowest].recovery_s or 0.0
    via = "its own failover" if slowest == service else f"the failover of {slowest}, its dependency"
    return Recommendation(
        "faster-failover", f"service:{slowest}", f"{_dur(took)} > RTO {_dur(svc.rto_s)}",
        f"Cut {slowest}'s failover from {_dur(took)} to at most {_dur(svc.rto_s)}: {service} "
        f"waits for {via} and misses its RTO of {_dur(svc.rto_s)}.")


def backup_power(topology: Topology, zone_id: str, site_id: str) -> Recommendation | None:
    """More backup-power hours at a site, so that outages of a power zone outlast it 10× less."""
    zone, site = topology.zone(zone_id), topology.site(site_id)
    if site_id not in topology.zone_members(zone_id).sites or not zone.mean_duration_h:
        return None
    mean, now = float(zone.mean_duration_h), float(site.backup_power_h or 0.0)
    rate = float(zone.annual_rate or 0.0)
    add = mean * math.log(1 / BACKUP_TARGET_SHARE)
    before, after = rate * math.exp(-now / mean), rate * math.exp(-(now + add) / mean)
    return Recommendation(
        "backup-power", f"site:{site_id}", f"+{add:.0f} h backup ({now:g} → {now + add:.0f} h)",
        f"Add {add:.0f} h of backup power at {site_id} ({now:g} h → {now + add:.0f} h): "
        f"{zone_id} outages ({rate:.2g}/yr, mean {mean:g} h) would darken it "
        f"{before:.2g}/yr → {after:.2g}/yr.")


def disjoint_route(topology: Topology, srlg: str, rates: Rates) -> Recommendation | None:
    """Move one of the parallel routes that share an SRLG onto a disjoint path."""
    members = [topology.link(m) for m in topology.srlgs[srlg]]
    region = {s.id: s.region for s in topology.sites.values()}
    pairs: dict[frozenset[str], list[str]] = {}
    for link in members:
        pairs.setdefault(frozenset((region[link.a], region[link.b])), []).append(link.id)
    parallel = max(pairs.values(), key=len)
    gbps = sum(topology.link(m).bandwidth_gbps or 0 for m in topology.srlgs[srlg])
    rate = rates.of(f"srlg:{srlg}").per_year
    ends = sorted(frozenset().union(*(frozenset((topology.link(m).a, topology.link(m).b))
                                       for m in parallel)))
    what = (f"one of {', '.join(parallel)}" if len(parallel) > 1 else parallel[0])
    return Recommendation(
        "srlg-disjoint-route", f"srlg:{srlg}", f"{gbps:g} Gbps in one conduit, cut ~{rate:.2g}/yr",
        f"Add an SRLG-disjoint route between {' and '.join(ends)} (move {what} out of "
        f"{srlg}): {len(members)} links, {gbps:g} Gbps, share one conduit that is cut about "
        f"{fmt_rate(rate)}; one cut takes them all.")


def add_replica(topology: Topology, service: str, rates: Rates) -> Recommendation:
    """A second replica for a single-replica service, in another region."""
    site = topology.primary(service).site
    region = topology.site(site).region
    other = next((s.id for s in topology.sites.values()
                  if s.region != region and s.capacity.power_mw), None)
    rate = rates.of(f"site:{site}").per_year
    where = f" (e.g. {other})" if other else ""
    return Recommendation(
        "add-replica", f"service:{service}", f"1 replica, {site} fails ~{rate:.2g}/yr",
        f"Add a second replica of {service} outside {region}{where}: its only replica is at "
        f"{site}, which fails about {fmt_rate(rate)}, and with it every signal it carries.")


def fence_failover(topology: Topology, service: str, site: str) -> Recommendation:
    """Fence automatic failover behind a quorum/witness when the primary may be alive."""
    primary = topology.primary(service).site
    return Recommendation(
        "fence-failover", f"service:{service}", "failover while the primary is up",
        f"Fence {service}'s failover to {site} behind a witness in a third region (or stop "
        f"writes at {primary} first): in this failure {primary} is cut off but alive, so both "
        "sides could accept writes (split brain).")


def add_capacity(site_or_region: str, resource: str, shortfall: float,
                 when: str) -> Recommendation:
    """Capacity to add so a site or region can hold the load that fails over to it."""
    unit = {"power_mw": "MW", "gpus": "GPUs", "storage_pb": "PB"}.get(resource, resource)
    what = {"power_mw": "power", "gpus": "GPU", "storage_pb": "storage"}.get(resource, resource)
    extra = ""
    if resource == "gpus":
        shortfall = math.ceil(shortfall)
        extra = f" (≈ {shortfall * KW_PER_GPU / 1000:.2f} MW at {KW_PER_GPU:g} kW per GPU)"
    return Recommendation(
        "add-capacity", site_or_region, f"short {shortfall:g} {unit}",
        f"Add {shortfall:g} {unit} in {site_or_region}{extra}: {when}, the load that lands "
        f"there exceeds its {what} capacity by that much.")


def region_routes(topology: Topology, rates: Rates) -> list[Recommendation]:
    """SRLG-disjoint routes where few conduit cuts, or one conduit, separate two regions.

    A pair of regions qualifies when at most two independent risk groups separate them, or
    when one SRLG carries at least half the bandwidth of a minimum link cut between them.
    """
    from georesil.analysis.partitions import region_cuts

    found = []
    for cut in region_cuts(topology):
        per_group: dict[str, float] = {}
        for lid in cut.link_cut:
            link = topology.link(lid)
            group = f"srlg:{link.srlg[0]}" if link.srlg else f"link:{lid}"
            per_group[group] = per_group.get(group, 0.0) + (link.bandwidth_gbps or 0.0)
        total = sum(per_group.values())
        srlgs = {g: b for g, b in per_group.items() if g.startswith("srlg:")}
        if not srlgs or total <= 0:
            continue
        group = max(srlgs, key=lambda g: srlgs[g])
        share = srlgs[group] / total
        if (cut.srlgs or 0) > 2 and share < 0.5:
            continue
        rate = rates.of(group).per_year
        found.append((share, Recommendation(
            "srlg-disjoint-route", group, f"{share:.0%} of {cut.from_region}–{cut.to_region} "
            f"bandwidth, cut ~{rate:.2g}/yr",
            f"Add a {cut.from_region}–{cut.to_region} route outside {group[5:]}: it carries "
            f"{srlgs[group]:g} of the {total:g} Gbps across the thinnest cut between the two "
            f"({share:.0%}) and is cut about {fmt_rate(rate)}; {cut.srlgs} independent cuts "
            f"({', '.join(cut.srlg_cut)}) separate the regions today.")))
    found.sort(key=lambda x: -x[0])
    return [rec for _, rec in found]


def _dedupe(recs: Iterable[Recommendation]) -> list[Recommendation]:
    seen: dict[tuple[str, str], Recommendation] = {}
    for r in recs:
        seen.setdefault(r.key, r)
    return list(seen.values())


def _repl(replica: object) -> str:
    mode = getattr(getattr(replica, "replication", None), "value", None) or "async"
    lag = getattr(replica, "lag_s", None)
    return f"{mode} (lag {_dur(lag)})" if lag else mode
