"""A DR control plane that shares a failure domain with a service's primary.

The control plane (drill locks, the active-site register, the failover DNS zone —
:attr:`Topology.control`) must survive what takes a primary out: a failover that needs the
register cannot run when the failure that killed the primary also killed the register. This
flags every service whose primary shares a failure domain with the control plane — the same
site, or a zone (power region, seismic area, conduit) both belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from georesil.model import Topology

__all__ = ["ControlPlaneFinding", "control_plane_findings"]


@dataclass(frozen=True)
class ControlPlaneFinding:
    """A service whose primary shares failure domains with the control plane.

    Attributes:
        service: The service.
        primary: Its primary site.
        control: Where the control plane lives (a witness site id, or ``control``).
        shared: The shared failure domains, ``site:X`` / ``zone:Z``, sorted.
        declared: Whether the topology names the placement (``control:``); an undeclared one
            is the first site able to hold it.
    """

    service: str
    primary: str
    control: str
    shared: tuple[str, ...]
    declared: bool

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "primary": self.primary, "control": self.control,
                "shared": list(self.shared), "declared": self.declared}


def control_plane_findings(topology: Topology) -> list[ControlPlaneFinding]:
    """Every service (file order) whose primary shares a failure domain with the control
    plane; empty when the topology places no control plane.

    Notes:
        One set intersection per service: O(N·Z) for N services and Z zones per site.
    """
    placement = topology.control
    if placement is None:
        return []
    control_domains = {f"zone:{z}" for z in placement.zones}
    if placement.site is not None:
        control_domains.add(f"site:{placement.site}")
    found = []
    for service in topology.services:
        primary = topology.primary(service).site
        domains = {f"site:{primary}"} | {f"zone:{z}" for z in topology.site(primary).zones}
        shared = domains & control_domains
        if shared:
            found.append(ControlPlaneFinding(service, primary, placement.name,
                                             tuple(sorted(shared)), placement.declared))
    return found
