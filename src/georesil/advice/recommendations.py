"""Concrete fixes, each naming the element and the figure that motivates it.

Every fix is derived from a failure's numbers: a switch to sync replication when the replica's
lag exceeds the RPO, backup-power hours when a power zone outlasts the generators, an
SRLG-disjoint route when parallel routes share a conduit, a second replica for a single-replica
service, fencing when a failover happens while the primary is alive (split brain), and capacity
when a site or region overflows. :func:`recommendations` gathers them for a whole topology:
the fixes of the ranked risks first, then those the importance ranking and the capacity
planning point to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from georesil.advice.capacity import RegionAbsorption
from georesil.advice.likelihood import Rates
from georesil.advice.wording import duration as _dur
from georesil.advice.wording import rate_text
from georesil.analysis import Impact, RegionCut, Status, inject
from georesil.model import Topology
from georesil.model.schema import ReplicaSpec, Replication, ZoneKind
from georesil.risk import Importance

__all__ = [
    "Recommendation",
    "add_capacity",
    "add_replica",
    "backup_power",
    "disjoint_route",
    "faster_failover",
    "fence_failover",
    "recommend_for",
    "recommendations",
    "region_routes",
    "sync_replication",
]

#: Target share of outages a backup-power recommendation aims to leave (10× fewer).
BACKUP_TARGET_SHARE = 0.1
#: Power per GPU including its node share and cooling (~1.3 kW H200 node share × PUE 1.3) [est.].
KW_PER_GPU = 1.7
#: How many of the top importance-ranked elements the recommendations look at.
IMPORTANCE_DEPTH = 8


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
    if kind == "zone" and topology.zone(ident).kind is ZoneKind.POWER:
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
        f"{rate_text(rate)}; one cut takes them all.")


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
        f"{site}, which fails about {rate_text(rate)}, and with it every signal it carries.")


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


def region_routes(topology: Topology, cuts: Sequence[RegionCut],
                  rates: Rates) -> list[Recommendation]:
    """SRLG-disjoint routes where few conduit cuts, or one conduit, separate two regions.

    A pair of regions qualifies when at most two independent risk groups separate them, or
    when one SRLG carries at least half the bandwidth of a minimum link cut between them.
    """
    found = []
    for cut in cuts:
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
            f"({share:.0%}) and is cut about {rate_text(rate)}; {cut.srlgs} independent cuts "
            f"({', '.join(cut.srlg_cut)}) separate the regions today.")))
    found.sort(key=lambda x: -x[0])
    return [rec for _, rec in found]


def _dedupe(recs: Iterable[Recommendation]) -> list[Recommendation]:
    seen: dict[tuple[str, str], Recommendation] = {}
    for r in recs:
        seen.setdefault(r.key, r)
    return list(seen.values())


def _repl(replica: ReplicaSpec) -> str:
    mode = replica.replication or Replication.ASYNC
    return f"{mode} (lag {_dur(replica.lag_s)})" if replica.lag_s else str(mode)


def recommendations(topology: Topology, fixes: Iterable[Recommendation],
                    importance: Sequence[Importance], absorption: Sequence[RegionAbsorption],
                    cuts: Sequence[RegionCut], rates: Rates) -> tuple[Recommendation, ...]:
    """Every fix for a topology: ``fixes`` (those of the ranked risks) first, then those the
    importance ranking, the capacity planning case and the region cuts point to.

    Args:
        topology: The model.
        fixes: Fixes already found (the ranked risks'), kept first and in order.
        importance: Importance measures, most important first (:func:`importance_ranking`).
        absorption: Region absorption, as analysed and with all load moved.
        cuts: The analysis' region cuts.
        rates: Annual rates of the topology's failure references.
    """
    recs = list(fixes)
    for row in importance[:IMPORTANCE_DEPTH]:
        recs += _for_important(topology, row.element, rates)
    for absorbed in absorption:
        for res in absorbed.all_moved:
            if res.shortfall > 0:
                recs.append(add_capacity(
                    f"the {absorbed.to_region} region", res.resource,
                    _round_up(res.shortfall, res.resource),
                    f"if every service of the {absorbed.from_region} moves to the "
                    f"{absorbed.to_region}"))
    recs += region_routes(topology, cuts, rates)
    return tuple(_dedupe(recs))


def _for_important(topology: Topology, element: str, rates: Rates) -> list[Recommendation]:
    """Fixes for one element high in the importance ranking."""
    kind, _, ident = element.partition(":")
    if kind == "zone" and topology.zone(ident).kind is ZoneKind.POWER:
        members = topology.zone_members(ident).sites
        primaries = [topology.primary(s).site for s in topology.services]
        found = [backup_power(topology, ident, site)
                 for site in dict.fromkeys(p for p in primaries if p in members)]
        return [r for r in found if r]
    if kind == "link":
        return [r for r in (disjoint_route(topology, g, rates)
                            for g in topology.link(ident).srlg) if r]
    if kind in ("site", "srlg"):
        return recommend_for(topology, [element], inject(topology, [element]), rates)
    return []


def _round_up(value: float, resource: str) -> float:
    return float(math.ceil(value)) if resource == "gpus" else math.ceil(value * 10) / 10
