"""Can one region take over another's load: as analysed, and with all load moved.

*As analysed* is :func:`georesil.analysis.absorption` (every site of one region fails; services
whose clients all failed too go down and need nothing). *All load moved* is the planning case:
every service whose primary is in either region is served in the second one, clients or not —
what a planner sizes the second region for.
"""

from __future__ import annotations

from dataclasses import dataclass

from georesil.analysis import Absorption, absorption
from georesil.model import RESOURCES, Topology

__all__ = ["PlannedDemand", "RegionAbsorption", "all_load_moved", "region_absorptions"]


@dataclass(frozen=True)
class PlannedDemand:
    """One resource in ``to`` when every service of both regions is served there."""

    resource: str
    demand: float
    capacity: float | None
    shortfall: float


@dataclass(frozen=True)
class RegionAbsorption:
    """One ordered pair of regions: the analysed absorption and the planning case beside it."""

    analysed: Absorption
    all_moved: tuple[PlannedDemand, ...]

    @property
    def from_region(self) -> str:
        return self.analysed.from_region

    @property
    def to_region(self) -> str:
        return self.analysed.to_region


def all_load_moved(topology: Topology, from_region: str,
                   to_region: str) -> tuple[PlannedDemand, ...]:
    """Demand in ``to_region`` if every service whose primary is in either region moved there.

    Notes:
        O(S·R + V·R) for S services, V sites and R resources; resources in RESOURCES order.
    """
    region = {s.id: s.region for s in topology.sites.values()}
    rows = []
    for resource in RESOURCES:
        demand = sum(svc.demand.get(resource) or 0.0 for sid, svc in topology.services.items()
                     if region[topology.primary(sid).site] in (from_region, to_region))
        caps = [c for s in topology.sites.values() if s.region == to_region
                and (c := s.capacity.get(resource)) is not None]
        capacity = sum(caps) if caps else None
        shortfall = max(0.0, demand - capacity) if capacity is not None else 0.0
        rows.append(PlannedDemand(resource, demand, capacity, shortfall))
    return tuple(rows)


def region_absorptions(topology: Topology) -> tuple[RegionAbsorption, ...]:
    """Every ordered pair of regions that host a primary (only they carry load worth moving)."""
    hosts = list(dict.fromkeys(topology.site(topology.primary(s).site).region
                               for s in topology.services))
    hosts.sort(key=topology.regions.index)
    return tuple(RegionAbsorption(absorption(topology, frm, to), all_load_moved(topology, frm, to))
                 for frm in hosts for to in hosts if frm != to)
