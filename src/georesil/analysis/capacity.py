"""Capacity after a failure: can a region absorb another's load?

Where demand lands and which sites overflow is :mod:`georesil.analysis.demand` (re-exported
here); this module fails a whole region and compares the load that moves with the capacity
of the region that takes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from georesil.analysis.demand import overflows, served_demand
from georesil.analysis.impact import Impact, Overflow, Status, json_number
from georesil.analysis.reference import inject
from georesil.errors import InvalidInput
from georesil.model import RESOURCES, FailureSet, Topology

__all__ = ["Absorption", "ResourceShortfall", "absorption", "overflows", "served_demand"]

@dataclass(frozen=True)
class ResourceShortfall:
    """One resource when a region's load moves to another region.

    Attributes:
        resource: ``power_mw``, ``gpus`` or ``storage_pb``.
        moved: Demand that was served in the failed region and is now served in the target.
        demand: Total demand served in the target region after the move.
        capacity: Summed declared capacity of the target region's sites (``None``: none declared).
        shortfall: ``max(0, demand - capacity)`` (0 when no capacity is declared).
    """

    resource: str
    moved: float
    demand: float
    capacity: float | None
    shortfall: float

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "moved": json_number(self.moved),
                "demand": json_number(self.demand), "capacity": json_number(self.capacity),
                "shortfall": json_number(self.shortfall)}


@dataclass(frozen=True)
class Absorption:
    """Can ``to_region`` take over the load of ``from_region`` when all its sites fail?

    Attributes:
        from_region: The region whose sites all fail.
        to_region: The region that should take over.
        resources: One row per resource, in RESOURCES order.
        moved_services: Services now served in ``to_region`` that were served in ``from_region``.
        lost_services: Services down after the failure.
        impact: The full impact of failing every site of ``from_region``.
        to_sites: The sites of ``to_region``.
    """

    from_region: str
    to_region: str
    resources: tuple[ResourceShortfall, ...]
    moved_services: tuple[str, ...]
    lost_services: tuple[str, ...]
    impact: Impact
    to_sites: frozenset[str]

    @property
    def overflows(self) -> tuple[Overflow, ...]:
        """Sites of ``to_region`` whose own capacity is exceeded after the move."""
        return tuple(o for o in self.impact.capacity_overflow if o.site in self.to_sites)

    @property
    def absorbs(self) -> bool:
        """True when no service is lost and nothing falls short, per region or per site."""
        return (not self.lost_services and all(r.shortfall <= 0 for r in self.resources)
                and not self.overflows)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_region, "to": self.to_region, "absorbs": self.absorbs,
                "resources": [r.to_json() for r in self.resources],
                "moved_services": list(self.moved_services),
                "lost_services": list(self.lost_services),
                "capacity_overflow": [o.to_json() for o in self.overflows]}


def absorption(topology: Topology, from_region: str, to_region: str) -> Absorption:
    """Fail every site of ``from_region`` and measure the load that lands in ``to_region``.

    Raises:
        InvalidInput: an unknown region, or the same region twice.

    Notes:
        One reference evaluation, O(C·(V + E)), plus O(S·R) bookkeeping.
    """
    for region in (from_region, to_region):
        if region not in topology.regions:
            raise InvalidInput(f"unknown region {region!r}; known regions: "
                               + ", ".join(repr(r) for r in topology.regions), value=region)
    if from_region == to_region:
        raise InvalidInput(f"from and to are both {from_region!r}; give two different regions")
    region_of = {s.id: s.region for s in topology.sites.values()}
    before = inject(topology, FailureSet())
    after = inject(topology, FailureSet(sites=frozenset(
        s for s, r in region_of.items() if r == from_region)))

    def serving_region(impact: Impact, sid: str) -> str | None:
        site = impact.services[sid].serving_site
        return None if site is None else region_of[site]

    moved = tuple(sid for sid in topology.services
                  if serving_region(before, sid) == from_region
                  and serving_region(after, sid) == to_region)
    rows = _shortfalls(topology, after, moved, region_of, to_region)
    lost = tuple(after.with_status(Status.DOWN))
    to_sites = frozenset(s for s, r in region_of.items() if r == to_region)
    return Absorption(from_region, to_region, rows, moved, lost, after, to_sites)


def _shortfalls(topology: Topology, after: Impact, moved: tuple[str, ...],
                region_of: Mapping[str, str], to_region: str) -> tuple[ResourceShortfall, ...]:
    load = served_demand(topology, {s: o.serving_site for s, o in after.services.items()})
    rows = []
    for resource in RESOURCES:
        moved_amount = sum(topology.service(s).demand.get(resource) or 0.0 for s in moved)
        demand = sum(per_site.get(resource, 0.0) for site, per_site in load.items()
                     if region_of[site] == to_region)
        declared = [c for s in topology.sites.values() if s.region == to_region
                    and (c := s.capacity.get(resource)) is not None]
        capacity = sum(declared) if declared else None
        shortfall = max(0.0, demand - capacity) if capacity is not None else 0.0
        rows.append(ResourceShortfall(resource, moved_amount, demand, capacity, shortfall))
    return tuple(rows)
