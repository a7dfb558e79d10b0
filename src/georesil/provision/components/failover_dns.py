"""``FailoverDns``: a hosted zone, a health check per replica site, PRIMARY/SECONDARY records.

Route 53 allows one PRIMARY and one SECONDARY record per name, so a service's record set points
at its primary and its first secondary; further secondaries get health checks but no record.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

__all__ = ["FailoverDns", "FailoverDnsArgs", "FailoverService", "SiteTarget"]

TYPE_TOKEN = "georesil:provision:FailoverDns"


@dataclass(frozen=True)
class SiteTarget:
    """A replica site's endpoint as Route 53 probes it."""

    site: str
    host: str
    port: int = 443
    protocol: str = "HTTPS"
    path: str = "/"

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


@dataclass(frozen=True)
class FailoverService:
    """One service's failover record: its name and its replica sites, primary first."""

    service: str
    record_name: str
    primary: str
    secondaries: Sequence[str]


@dataclass(frozen=True)
class FailoverDnsArgs:
    """Inputs of a :class:`FailoverDns`.

    Attributes:
        zone_name: The DNS zone, e.g. ``georesil.tw`` (no trailing dot).
        targets: Every replica site that appears in ``services``, by site id.
        services: The records to create.
        provider: Provider for Route 53 (a global service).
        ttl: Record TTL in seconds; short, so failover takes effect quickly.
    """

    zone_name: str
    targets: Mapping[str, SiteTarget]
    services: Sequence[FailoverService]
    provider: aws.Provider
    ttl: int = 60
    force_destroy: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


class FailoverDns(pulumi.ComponentResource):
    """A hosted zone with health-checked failover records."""

    zone: aws.route53.Zone
    health_checks: dict[str, aws.route53.HealthCheck]
    records: dict[str, list[aws.route53.Record]]

    def __init__(
        self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.zone = aws.route53.Zone(
            f"{name}-zone", name=args.zone_name, force_destroy=args.force_destroy,
            comment="georesil failover records", tags=dict(args.tags), opts=child,
        )
        self.health_checks = {}
        for site in dict.fromkeys(s for svc in args.services for s in (svc.primary,
                                                                        *svc.secondaries)):
            self.health_checks[site] = self._health_check(name, args.targets[site], args, child)
        self.records = {svc.service: self._records(name, svc, args, child)
                        for svc in args.services}
        self.register_outputs({
            "zone_id": self.zone.zone_id,
            "health_checks": {s: hc.id for s, hc in self.health_checks.items()},
        })

    @staticmethod
    def _health_check(
        name: str, target: SiteTarget, args: FailoverDnsArgs, opts: pulumi.ResourceOptions
    ) -> aws.route53.HealthCheck:
        return aws.route53.HealthCheck(
            f"{name}-{target.site}-health", type=target.protocol, port=target.port,
            resource_path=target.path, failure_threshold=3, request_interval=30,
            reference_name=f"{target.site}"[:28],
            ip_address=target.host if target.is_ip else None,
            fqdn=None if target.is_ip else target.host,
            tags={**args.tags, "georesil:site": target.site}, opts=opts,
        )

    def _records(
        self, name: str, svc: FailoverService, args: FailoverDnsArgs,
        opts: pulumi.ResourceOptions,
    ) -> list[aws.route53.Record]:
        records = []
        pairs = [("PRIMARY", svc.primary)]
        if svc.secondaries:
            pairs.append(("SECONDARY", svc.secondaries[0]))
        for role, site in pairs:
            target = args.targets[site]
            records.append(aws.route53.Record(
                f"{name}-{svc.service}-{role.lower()}", zone_id=self.zone.zone_id,
                name=svc.record_name, type="A" if target.is_ip else "CNAME", ttl=args.ttl,
                records=[target.host], set_identifier=f"{svc.service}-{site}",
                failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(
                    type=role)],
                health_check_id=self.health_checks[site].id, opts=opts,
            ))
        return records
