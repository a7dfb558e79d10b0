"""How each replica pair is kept in step: the mechanism chosen per pair, and the RPO it can back.

For every service and every (primary, secondary) pair:

* object storage, both sites AWS regions: **S3 replication** with Replication Time Control and
  replication metrics. RTC's SLA replicates 99.99 % of objects within 15 minutes
  (docs/sources.md#s3-rtc), so it backs an RPO of 900 s or more;
* object storage, either site an S3-compatible store: **georesil's mirror**
  (``georesil mirror run --every INTERVAL``), S3 replication reaching only AWS buckets. It
  backs an RPO of its interval (``mirror_interval_s`` on the secondary replica, default
  :data:`DEFAULT_MIRROR_INTERVAL_S`) — the interval is what the RPO prediction should use;
* a database whose replica sites are all AWS regions: **a DynamoDB global table**
  (replicas in the other regions; sites sharing a region share the regional table);
* a database with a replica at a site that cannot host DynamoDB: **external** — georesil
  provisions tables where it can and the database's own replication (e.g. PostgreSQL
  streaming) is outside the stack;
* any other service kind: external.

Pure functions of the topology: part of the model so that the analyses (RPO prediction) and
provisioning read the same choice. A site without an endpoint counts as an AWS region (in-process
moto plays one).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from georesil.model.schema import EndpointKind, ReplicaSpec, ServiceKind

if TYPE_CHECKING:
    from georesil.model.topology import Topology

__all__ = [
    "DEFAULT_MIRROR_INTERVAL_S",
    "S3_RTC_THRESHOLD_S",
    "Mechanism",
    "PairPlan",
    "mirror_interval_s",
    "pair_plan",
    "replication_plan",
]

#: S3 Replication Time Control: 99.99 % of objects within 15 minutes (docs/sources.md#s3-rtc).
S3_RTC_THRESHOLD_S = 900.0
#: Interval of a scheduled mirror run when the replica names none.
DEFAULT_MIRROR_INTERVAL_S = 60.0


class Mechanism(enum.StrEnum):
    """What keeps a secondary replica in step with its primary."""

    S3_REPLICATION = "s3-replication"
    MIRROR = "georesil-mirror"
    GLOBAL_TABLE = "dynamodb-global-table"
    SHARED_TABLE = "dynamodb-regional-table"
    EXTERNAL = "external"


@dataclass(frozen=True)
class PairPlan:
    """The mechanism chosen for one (primary, secondary) pair of a service.

    Attributes:
        service: Service id.
        source: The primary's site.
        target: The secondary's site.
        mechanism: What replicates.
        rpo_bound_s: The data loss the mechanism itself can guarantee (RTC's threshold, the
            mirror interval, 0 for a regional table); ``None`` when it promises nothing.
        reason: Why this mechanism, in words.
    """

    service: str
    source: str
    target: str
    mechanism: Mechanism
    rpo_bound_s: float | None
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"service": self.service, "from": self.source, "to": self.target,
                "mechanism": self.mechanism.value, "rpo_bound_s": self.rpo_bound_s,
                "reason": self.reason}


def mirror_interval_s(replica: ReplicaSpec) -> float:
    """The scheduled mirror's interval for a secondary replica (seconds)."""
    interval = replica.mirror_interval_s
    return DEFAULT_MIRROR_INTERVAL_S if interval is None else float(interval)


def _kind(topology: Topology, site: str) -> EndpointKind:
    ep = topology.site(site).endpoint
    return ep.effective_kind if ep is not None else EndpointKind.AWS


def _region(topology: Topology, site: str) -> str:
    ep = topology.site(site).endpoint
    return ep.signing_region if ep is not None else ""


def replication_plan(topology: Topology) -> tuple[PairPlan, ...]:
    """The mechanism for every (primary, secondary) pair, services in file order."""
    pairs: list[PairPlan] = []
    for svc in topology.services.values():
        if not svc.replicas or len(svc.replicas) < 2:
            continue
        primary = topology.primary(svc.id).site
        for replica in topology.secondaries(svc.id):
            pairs.append(_pair(topology, svc.id, svc.kind, primary, replica))
    return tuple(pairs)


def pair_plan(topology: Topology, service: str, replica: ReplicaSpec) -> PairPlan:
    """The mechanism that keeps ``replica`` (a secondary of ``service``) in step."""
    svc = topology.service(service)
    return _pair(topology, service, svc.kind, topology.primary(service).site, replica)


def _pair(topology: Topology, service: str, kind: ServiceKind, primary: str,
          replica: ReplicaSpec) -> PairPlan:
    target = replica.site
    kinds = {_kind(topology, primary), _kind(topology, target)}
    if kind is ServiceKind.OBJECT_STORAGE:
        if kinds == {EndpointKind.AWS}:
            return PairPlan(service, primary, target, Mechanism.S3_REPLICATION,
                            S3_RTC_THRESHOLD_S, "both sites are AWS regions: S3 replication "
                            "with Replication Time Control and metrics")
        interval = mirror_interval_s(replica)
        return PairPlan(service, primary, target, Mechanism.MIRROR, interval,
                        "an S3-compatible store takes part (S3 replication reaches only AWS "
                        f"buckets): georesil mirror run --every {interval:g}s")
    if kind is ServiceKind.DATABASE:
        sites = [s.site for s in topology.service(service).replicas]
        if all(_kind(topology, s) is EndpointKind.AWS for s in sites):
            if _region(topology, primary) == _region(topology, target):
                return PairPlan(service, primary, target, Mechanism.SHARED_TABLE, 0.0,
                                "both sites are in one AWS region: they share its table "
                                "(replicated across availability zones by DynamoDB)")
            return PairPlan(service, primary, target, Mechanism.GLOBAL_TABLE, None,
                            "every replica site is an AWS region: a DynamoDB global table "
                            "(asynchronous, typically within seconds)")
        return PairPlan(service, primary, target, Mechanism.EXTERNAL, None,
                        "a replica site cannot host DynamoDB: the database replicates itself "
                        "(outside this stack)")
    return PairPlan(service, primary, target, Mechanism.EXTERNAL, None,
                    f"kind {kind.value!r}: the service replicates itself (outside this "
                    "stack); the stack provisions its failover DNS only")
