"""What a failure does to every service: the result types.

The semantics live in docs/semantics.md; :mod:`georesil.analysis.reference` implements them in
plain networkx (and :func:`~georesil.analysis.reference.inject` is the public entry point), and
:mod:`georesil.analysis.kernel` implements the same thing bit-parallel.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from georesil.model import FailureSet, Topology

__all__ = ["Impact", "Overflow", "ServiceImpact", "Status", "as_failure_set", "json_number"]


class Status(enum.StrEnum):
    """How a service fares under a failure, from best to worst."""

    OK = "ok"
    FAILOVER = "failover"
    BREACH = "breach"
    DOWN = "down"


def json_number(value: float | None) -> float | int | None:
    """A number as JSON shows it best: ``60`` rather than ``60.0``, sums rounded to 1e-9."""
    if value is None:
        return None
    value = round(float(value), 9)
    return int(value) if value.is_integer() else value


@dataclass(frozen=True)
class ServiceImpact:
    """The outcome for one service.

    Attributes:
        service: The service id.
        status: ok, failover, breach or down.
        serving_site: Site of the replica that serves, ``None`` when down.
        data_loss_s: Seconds of writes lost (0 on the primary or a sync secondary).
        recovery_s: Seconds until the service answers again, at least its dependencies'.
        split_brain_risk: It failed over while its primary's site is still up.
        clients_served: Fraction of up client sites that reach the serving replica.
        reason: Why, in words.
    """

    service: str
    status: Status
    serving_site: str | None
    data_loss_s: float | None
    recovery_s: float | None
    split_brain_risk: bool
    clients_served: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "serving_site": self.serving_site,
            "data_loss_s": json_number(self.data_loss_s),
            "recovery_s": json_number(self.recovery_s),
            "split_brain_risk": self.split_brain_risk,
            "clients_served": round(self.clients_served, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True, order=True)
class Overflow:
    """An up site whose served demand exceeds its declared capacity for one resource."""

    site: str
    resource: str
    demand: float
    capacity: float

    def to_json(self) -> dict[str, Any]:
        return {"site": self.site, "resource": self.resource,
                "demand": json_number(self.demand), "capacity": json_number(self.capacity)}


@dataclass(frozen=True)
class Impact:
    """What one failure set does.

    Attributes:
        failed: The expanded base elements and service references, sorted.
        services: Outcome per service, in topology file order.
        capacity_overflow: Overflowing (site, resource) pairs, in site file order.
    """

    failed: tuple[str, ...]
    services: Mapping[str, ServiceImpact]
    capacity_overflow: tuple[Overflow, ...]

    def with_status(self, *statuses: Status) -> list[str]:
        """Ids of the services in any of ``statuses``, in file order."""
        return [sid for sid, out in self.services.items() if out.status in statuses]

    def to_json(self) -> dict[str, Any]:
        return {
            "failed": list(self.failed),
            "services": {sid: out.to_json() for sid, out in self.services.items()},
            "capacity_overflow": [o.to_json() for o in self.capacity_overflow],
        }


def as_failure_set(topology: Topology, failure: FailureSet | Iterable[str]) -> FailureSet:
    """A failure set from either a :class:`FailureSet` or references such as ``zone:X``.

    Raises:
        InvalidReference: a reference that is malformed or names nothing in the topology.
    """
    if isinstance(failure, FailureSet):
        return failure
    if isinstance(failure, str):
        failure = [failure]
    return topology.expand(failure)
