"""``FailoverDns``: a hosted zone (or an existing one), health checks and failover chains.

Route 53 allows one PRIMARY and one SECONDARY failover record per name, so a service with more
than one secondary gets a **chain**: its name's PRIMARY record points at the primary replica,
and its SECONDARY record is an alias (evaluating target health) to a second name whose PRIMARY
is the first secondary and whose SECONDARY is the next link, and so on::

    models.georesil.tw            PRIMARY  -> taipei's hostname   (health check taipei)
                                  SECONDARY-> alias models-failover-1.georesil.tw
    models-failover-1.georesil.tw PRIMARY  -> hsinchu's hostname  (health check hsinchu)
                                  SECONDARY-> tainan's hostname   (health check tainan)

Route 53 answers the first healthy replica in topology order. A record's set identifier is
``<service>-<site>`` on the service's own name (an alias names the site its chain continues
with) and ``<service>-<level>-<site>`` on the chain's further names. Every replica has its own
health check on its own hostname, port and path.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from georesil.provision.plan import chain_names, set_identifier

__all__ = [
    "FailoverDns",
    "FailoverDnsArgs",
    "FailoverService",
    "ReplicaTarget",
    "chain_names",
]

TYPE_TOKEN = "georesil:provision:FailoverDns"


@dataclass(frozen=True)
class ReplicaTarget:
    """One replica as clients reach it and Route 53 probes it."""

    site: str
    host: str
    port: int = 443
    protocol: str = "HTTPS"
    path: str = "/"
    request_interval_s: int = 30
    failure_threshold: int = 3

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    @property
    def record_type(self) -> str:
        return "A" if self.is_ip else "CNAME"


@dataclass(frozen=True)
class FailoverService:
    """One service's failover chain: its record name and its replicas, primary first."""

    service: str
    record_name: str
    replicas: Sequence[ReplicaTarget]


@dataclass(frozen=True)
class FailoverDnsArgs:
    """Inputs of a :class:`FailoverDns`.

    Attributes:
        zone_name: The DNS zone, e.g. ``georesil.tw`` (no trailing dot).
        services: The chains to create.
        provider: Provider for Route 53 (a global service): the control placement's.
        zone_id: An existing hosted zone to use instead of creating one.
        ttl: Record TTL in seconds; short, so failover takes effect quickly.
    """

    zone_name: str
    services: Sequence[FailoverService]
    provider: aws.Provider
    zone_id: str | None = None
    ttl: int = 60
    force_destroy: bool = False
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


def _record_name(component: str, service: str, level: int, role: str) -> str:
    """A record's logical name: by its place in the chain, not by the replica it points at, so
    a changed chain updates records in place (Route 53 allows one record per name, type and set
    identifier: a new record cannot be created before the old one is gone)."""
    return f"{component}-{service}-{level}-{role.lower()}"


class FailoverDns(pulumi.ComponentResource):
    """A hosted zone with health-checked failover chains."""

    zone: aws.route53.Zone | None
    zone_id: pulumi.Output[str]
    health_checks: dict[tuple[str, str], aws.route53.HealthCheck]
    records: dict[str, list[aws.route53.Record]]

    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.zone = None
        if args.zone_id is None:
            self.zone = aws.route53.Zone(
                f"{name}-zone", name=args.zone_name, force_destroy=args.force_destroy,
                comment="georesil failover records", tags=dict(args.tags),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                    protect=args.protect, retain_on_delete=args.protect)))
            self.zone_id = self.zone.zone_id
        else:
            self.zone_id = pulumi.Output.from_input(args.zone_id)
        self.health_checks = {}
        self.records = {}
        for svc in args.services:
            for target in svc.replicas:
                self.health_checks[(svc.service, target.site)] = self._health_check(
                    name, svc.service, target, args, child)
            self.records[svc.service] = self._chain(name, svc, args, child)
        self.register_outputs({
            "zone_id": self.zone_id,
            "health_checks": {f"{s}/{site}": hc.id
                              for (s, site), hc in self.health_checks.items()},
        })

    @staticmethod
    def _health_check(name: str, service: str, target: ReplicaTarget, args: FailoverDnsArgs,
                      opts: pulumi.ResourceOptions) -> aws.route53.HealthCheck:
        return aws.route53.HealthCheck(
            f"{name}-{service}-{target.site}-health", type=target.protocol, port=target.port,
            resource_path=None if target.protocol == "TCP" else target.path,
            failure_threshold=target.failure_threshold,
            request_interval=target.request_interval_s,
            reference_name=f"{service}-{target.site}"[:28],
            ip_address=target.host if target.is_ip else None,
            fqdn=None if target.is_ip else target.host,
            tags={**args.tags, "georesil:service": service, "georesil:site": target.site},
            opts=opts,
        )

    def _chain(self, name: str, svc: FailoverService, args: FailoverDnsArgs,
               opts: pulumi.ResourceOptions) -> list[aws.route53.Record]:
        replicas = list(svc.replicas)
        names = chain_names(svc.record_name, len(replicas))
        records = []
        for level, record_name in enumerate(names):
            head = replicas[level]
            records.append(self._target_record(name, svc, level, record_name, "PRIMARY", head,
                                               args, opts))
            rest = replicas[level + 1:]
            if not rest:
                continue
            if level + 1 < len(names):  # more than one left: alias to the next link
                records.append(aws.route53.Record(
                    _record_name(name, svc.service, level, "SECONDARY"), zone_id=self.zone_id,
                    name=record_name, type=head.record_type,
                    set_identifier=set_identifier(svc.service, level, rest[0].site),
                    failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(
                        type="SECONDARY")],
                    aliases=[aws.route53.RecordAliasArgs(
                        name=names[level + 1], zone_id=self.zone_id,
                        evaluate_target_health=True)],
                    opts=opts))
            else:
                records.append(self._target_record(name, svc, level, record_name,
                                                   "SECONDARY", rest[0], args, opts))
        return records

    def _target_record(self, name: str, svc: FailoverService, level: int, record_name: str,
                       role: str, target: ReplicaTarget, args: FailoverDnsArgs,
                       opts: pulumi.ResourceOptions) -> aws.route53.Record:
        return aws.route53.Record(
            _record_name(name, svc.service, level, role), zone_id=self.zone_id,
            name=record_name, type=target.record_type, ttl=args.ttl, records=[target.host],
            set_identifier=set_identifier(svc.service, level, target.site),
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=role)],
            health_check_id=self.health_checks[(svc.service, target.site)].id, opts=opts)
