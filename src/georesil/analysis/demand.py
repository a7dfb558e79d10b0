"""Where demand lands after a failure, and which sites overflow.

A service's demand sits at its serving site (its primary when nothing failed); a down service
demands nothing. A site overflows when the summed demand it serves exceeds its capacity for a
resource the site declares (resources a site leaves out are not checked).
"""

from __future__ import annotations

from collections.abc import Mapping

from georesil.analysis.impact import Overflow
from georesil.model import RESOURCES, Topology

__all__ = ["overflows", "served_demand"]

# Sums of floats such as 0.1 + 0.2 must not overflow a capacity of 0.3.
_TOLERANCE = 1e-9


def served_demand(
    topology: Topology, serving: Mapping[str, str | None]
) -> dict[str, dict[str, float]]:
    """Summed demand per site and resource, given each service's serving site (None = down)."""
    load: dict[str, dict[str, float]] = {}
    for sid, site in serving.items():
        if site is None:
            continue
        demand = topology.service(sid).demand
        per_site = load.setdefault(site, {})
        for resource in RESOURCES:
            amount = demand.get(resource)
            if amount:
                per_site[resource] = per_site.get(resource, 0.0) + amount
    return load


def overflows(topology: Topology, serving: Mapping[str, str | None]) -> tuple[Overflow, ...]:
    """Every (site, resource) whose served demand exceeds the site's declared capacity.

    Notes:
        O(S·R + V·R) for S services, V sites and R resources. Sites are reported in file
        order, resources in :data:`~georesil.model.RESOURCES` order.
    """
    load = served_demand(topology, serving)
    found = []
    for site in topology.sites.values():
        for resource in RESOURCES:
            capacity = site.capacity.get(resource)
            demand = load.get(site.id, {}).get(resource, 0.0)
            if capacity is not None and demand > capacity * (1 + _TOLERANCE) + _TOLERANCE:
                found.append(Overflow(site.id, resource, demand, capacity))
    return tuple(found)
