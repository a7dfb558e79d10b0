"""Zone outages: correlated failures of every site and link in a zone.

A zone with ``annual_rate`` λ and ``mean_duration_h`` D is in an outage with the renewal
probability λD / (8760 + λD); an explicit ``unavailability`` is used as is.

Power zones: a site rides an outage out on its backup power for ``backup_power_h`` hours. In a
snapshot the time elapsed since the outage began is sampled **once per outage** and shared by
every site of the zone; with exponential durations (mean D) the elapsed time at a random
instant inside an outage is again exponential with mean D (memorylessness), so

    P(site down | zone outage) = exp(−backup / D)

and sites are nested: whenever a site with more backup is down, every site with less is too.
Samplers realise this as a chain of independent Bernoulli *levels*: sorted distinct backups
b₁ < b₂ < …, level i passes with probability exp(−(bᵢ − bᵢ₋₁)/D), and a site with backup bᵢ is
down when the zone is out and levels 1…i all pass. Links in a power zone have no backup and go
down with the outage. A power zone given only ``unavailability`` has no duration: backups are
then ignored. Zones of other kinds take every member down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from georesil.hazards.elements import renewal_unavailability
from georesil.model.schema import ZoneKind, ZoneSpec
from georesil.model.topology import FailureSet, Topology

__all__ = [
    "ZoneModel",
    "outage_failures",
    "p_down_given_outage",
    "zone_models",
    "zone_unavailability",
]


@dataclass(frozen=True)
class ZoneModel:
    """The outage model of one zone.

    Attributes:
        id: Zone id.
        kind: Zone kind.
        unavailability: Probability of being in an outage at a random instant.
        rate_per_yr: Outages per year (0 when only ``unavailability`` is known).
        mean_duration_h: Mean outage duration (``None`` when unknown).
        sites: Member sites in file order.
        links: Member links in file order.
        backup_h: Per member site, the backup that rides an outage out (0 outside power zones).
    """

    id: str
    kind: ZoneKind
    unavailability: float
    rate_per_yr: float
    mean_duration_h: float | None
    sites: tuple[str, ...]
    links: tuple[str, ...]
    backup_h: tuple[float, ...]

    def p_site_down(self, index: int) -> float:
        """P(member site ``index`` down | outage)."""
        return p_down_given_outage(self.backup_h[index], self.mean_duration_h)

    def levels(self) -> tuple[tuple[float, ...], tuple[float, ...], tuple[int, ...]]:
        """Distinct backups, their chained pass probabilities, and each site's level index."""
        distinct = tuple(sorted(set(self.backup_h)))
        probs, prev = [], 0.0
        for b in distinct:
            probs.append(p_down_given_outage(b - prev, self.mean_duration_h))
            prev = b
        index = tuple(distinct.index(b) for b in self.backup_h)
        return distinct, tuple(probs), index


def zone_unavailability(zone: ZoneSpec) -> float:
    """Steady-state outage probability of a zone (0 when it has no outage model)."""
    if zone.unavailability is not None:
        return zone.unavailability
    if zone.annual_rate is not None and zone.mean_duration_h is not None:
        return renewal_unavailability(zone.annual_rate, zone.mean_duration_h)
    return 0.0


def p_down_given_outage(backup_h: float, mean_duration_h: float | None) -> float:
    """exp(−backup/mean) for exponential outage durations; 1 with no backup or no duration."""
    if backup_h <= 0 or mean_duration_h is None:
        return 1.0
    if mean_duration_h <= 0:
        return 0.0
    return math.exp(-backup_h / mean_duration_h)


def zone_models(topology: Topology) -> tuple[ZoneModel, ...]:
    """Outage models of every zone, in file order."""
    out = []
    for zone in topology.zones.values():
        members = topology.zone_members(zone.id)
        sites = tuple(s for s in topology.sites if s in members.sites)
        links = tuple(k for k in topology.links if k in members.links)
        power = zone.kind is ZoneKind.POWER
        backup = tuple(topology.sites[s].backup_power_h if power else 0.0 for s in sites)
        rate = zone.annual_rate or 0.0
        out.append(ZoneModel(zone.id, zone.kind, zone_unavailability(zone), rate,
                             zone.mean_duration_h, sites, links, backup))
    return tuple(out)


def outage_failures(zone: ZoneModel, elapsed_h: float) -> FailureSet:
    """Members down once an outage has lasted ``elapsed_h`` hours (sites past their backup)."""
    sites = frozenset(s for s, b in zip(zone.sites, zone.backup_h, strict=True)
                      if b <= 0 or elapsed_h > b)
    return FailureSet(sites=sites, links=frozenset(zone.links))
