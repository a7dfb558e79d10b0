"""``build_stack``: every resource the topology calls for, one provider per site.

Nothing is created at import time. ``build_stack`` runs inside a Pulumi program — the real
engine through ``infra/__main__.py`` or ``georesil deploy``, or the moto-backed mocks in
:mod:`georesil.provision.moto_engine` — and exports the outputs named in
:mod:`georesil.provision.outputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from georesil.cloud.sessions import SiteEndpoint
from georesil.errors import InvalidInput
from georesil.model.schema import ServiceKind
from georesil.provision import naming
from georesil.provision import outputs as keys

if TYPE_CHECKING:
    import pulumi_aws as aws

    from georesil.model import Topology

__all__ = [
    "SiteEndpoint",
    "StackConfig",
    "build_stack",
    "load_configured_topology",
    "provisioned_sites",
    "resolve_endpoints",
]

#: Services an endpoint URL override points at: everything the components use.
ENDPOINT_SERVICES = ("s3", "iam", "kms", "route53", "dynamodb", "ssm", "sts")


@dataclass(frozen=True)
class StackConfig:
    """How to build a stack from a topology.

    Attributes:
        stack: Stack name; part of every physical name.
        endpoints: Site id -> endpoint URL, overriding the topology (moto servers in a lab).
        control_site: Site holding the control table, IAM roles and hosted zones; default:
            the first site in file order that has an endpoint.
        default_region: Region for sites without any endpoint (in-process moto only); when
            ``None`` such a site is an error.
        credentials: (access key, secret key) put on every provider — for labs; the secret is
            wrapped as a Pulumi secret. ``None`` uses the site profile or the environment.
        noncurrent_days: Days before a noncurrent object version expires.
        force_destroy: Let ``destroy`` remove non-empty buckets and zones (labs only).
        dns_ttl: TTL of failover records, seconds.
        topology_urls: Use the endpoint URLs written in the topology for sites without an
            override; when false such sites have no URL (the moto engine then uses
            in-process moto) — for dry demonstrations and benchmarks.
    """

    stack: str = "dev"
    endpoints: Mapping[str, str] = field(default_factory=dict)
    control_site: str | None = None
    default_region: str | None = None
    credentials: tuple[str, str] | None = None
    noncurrent_days: int = 30
    force_destroy: bool = False
    dns_ttl: int = 60
    topology_urls: bool = True

    @classmethod
    def from_pulumi(cls) -> StackConfig:
        """Read the ``georesil:*`` keys of the current Pulumi stack's configuration."""
        import pulumi

        conf = pulumi.Config("georesil")
        return cls(
            stack=pulumi.get_stack(),
            endpoints=conf.get_object("endpoints") or {},
            control_site=conf.get("controlSite"),
            noncurrent_days=conf.get_int("noncurrentDays") or 30,
            force_destroy=conf.get_bool("forceDestroy") or False,
        )


def load_configured_topology() -> Topology:
    """The topology named by the ``georesil:topology`` key (relative to the project)."""
    import pulumi

    from georesil.model import load_topology

    name = pulumi.Config("georesil").get("topology")
    return load_topology(None if name is None else Path(name))


def resolve_endpoints(topology: Topology, config: StackConfig) -> dict[str, SiteEndpoint]:
    """Every site's endpoint: the override, else the topology's, else ``default_region``.

    Raises:
        InvalidInput: an override names an unknown site, or a site has no endpoint at all.
    """
    unknown = sorted(set(config.endpoints) - set(topology.sites))
    if unknown:
        raise InvalidInput(
            f"endpoint override for unknown site(s) {', '.join(map(repr, unknown))}; known "
            f"sites: {', '.join(map(repr, topology.sites))}", field="endpoints")
    result = {}
    for site in topology.sites.values():
        ep = site.endpoint
        region = ep.signing_region if ep else (config.default_region or "")
        url = config.endpoints.get(site.id) or (
            ep.url if ep and config.topology_urls else None)
        if ep is None and url is None and config.default_region is None:
            result[site.id] = SiteEndpoint(site.id, "", None)
            continue
        result[site.id] = SiteEndpoint(site.id, region or "us-east-1", url,
                                       ep.profile if ep else None)
    return result


def provisioned_sites(topology: Topology, config: StackConfig | None = None) -> list[str]:
    """Sites that get a provider (and so need an endpoint), in file order.

    Replica sites of object-storage and database services and of services with a DNS name,
    plus the control site. A lab must give each of them an endpoint.
    """
    cfg = config or StackConfig(default_region="us-east-1")
    control = _control_site(topology, cfg, resolve_endpoints(topology, cfg))
    return _used_sites(topology, control)


def _used_sites(topology: Topology, control: str) -> list[str]:
    used = {control}
    for svc in topology.services.values():
        if svc.kind in (ServiceKind.OBJECT_STORAGE, ServiceKind.DATABASE) or svc.dns_name:
            used.update(r.site for r in svc.replicas)
    return [s for s in topology.sites if s in used]


def _control_site(topology: Topology, config: StackConfig,
                  endpoints: Mapping[str, SiteEndpoint]) -> str:
    if config.control_site is not None:
        return topology.site(config.control_site).id
    for site_id, ep in endpoints.items():
        if ep.region:
            return site_id
    return next(iter(topology.sites))


def _providers(topology: Topology, config: StackConfig, sites: list[str],
               endpoints: Mapping[str, SiteEndpoint]) -> dict[str, aws.Provider]:
    import pulumi
    import pulumi_aws as aws

    missing = [s for s in sites if not endpoints[s].region]
    if missing:
        raise InvalidInput(
            f"site(s) {', '.join(map(repr, missing))} hold provisioned replicas but have no "
            "endpoint; add 'endpoint:' to the site in the topology or pass --endpoint "
            "SITE=URL", field="sites.endpoint", sites=missing)
    providers = {}
    for site in sites:
        ep = endpoints[site]
        local = ep.url is not None  # an S3-compatible endpoint, not AWS: skip AWS-only checks
        key, secret = config.credentials or (None, None)
        providers[site] = aws.Provider(
            f"site-{site}", region=ep.region,
            endpoints=[aws.ProviderEndpointArgs(**{svc: ep.url for svc in ENDPOINT_SERVICES})]
            if local else None,
            s3_use_path_style=True if local else None,
            skip_credentials_validation=True if local else None,
            skip_requesting_account_id=True if local else None,
            skip_metadata_api_check=True if local else None,
            skip_region_validation=True if local else None,
            access_key=key, secret_key=pulumi.Output.secret(secret) if secret else None,
            profile=ep.profile if config.credentials is None else None,
        )
    return providers


def build_stack(topology: Topology, config: StackConfig) -> None:
    """Declare every resource of the stack and export its outputs.

    Call it inside a running Pulumi program (real engine or mocks).

    Raises:
        InvalidInput: a provisioned site has no endpoint, or the config names unknown sites.
    """
    import pulumi

    endpoints = resolve_endpoints(topology, config)
    control = _control_site(topology, config, endpoints)
    providers = _providers(topology, config, _used_sites(topology, control), endpoints)
    tags = {"georesil:stack": config.stack, "georesil:topology": topology.name}
    pulumi.export(keys.TOPOLOGY_NAME, topology.name)
    pulumi.export(keys.STACK_NAME, config.stack)
    pulumi.export(keys.CONTROL_SITE, control)
    _object_storage(topology, config, providers, providers[control], tags)
    _databases(topology, config, providers, tags)
    _dns(topology, config, endpoints, providers[control], tags)
    _control_plane(topology, config, providers[control], tags)


def _object_storage(topology: Topology, config: StackConfig,
                    providers: Mapping[str, aws.Provider], iam_provider: aws.Provider,
                    tags: Mapping[str, str]) -> None:
    import pulumi
    import pulumi_aws as aws

    from georesil.provision.components import BucketReplica, MirroredBucket, MirroredBucketArgs

    services = [s for s in topology.services.values() if s.kind is ServiceKind.OBJECT_STORAGE]
    sites = list(dict.fromkeys(r.site for s in services for r in s.replicas))
    kms = {}
    for site in sites:
        kms[site] = aws.kms.Key(
            f"kms-{site}", description=f"georesil {config.stack}: buckets at {site}",
            enable_key_rotation=True, deletion_window_in_days=7,
            tags={**tags, "georesil:site": site},
            opts=pulumi.ResourceOptions(provider=providers[site]))
        pulumi.export(keys.kms_key_arn_key(site), kms[site].arn)

    def replica(svc: str, site: str) -> BucketReplica:
        return BucketReplica(site, naming.bucket_name(topology.name, config.stack, svc, site),
                             providers[site], kms[site].arn)

    for svc in services:
        primary = topology.primary(svc.id).site
        component = MirroredBucket(svc.id, MirroredBucketArgs(
            service=svc.id, primary=replica(svc.id, primary),
            secondaries=[replica(svc.id, r.site) for r in topology.secondaries(svc.id)],
            iam_provider=iam_provider,
            role_name=naming.role_name(topology.name, config.stack, svc.id),
            noncurrent_days=config.noncurrent_days, force_destroy=config.force_destroy,
            tags=tags))
        pulumi.export(keys.bucket_sites_key(svc.id), list(component.buckets))
        for site, bucket in component.buckets.items():
            pulumi.export(keys.bucket_name_key(svc.id, site), bucket.bucket)
            pulumi.export(keys.bucket_arn_key(svc.id, site), bucket.arn)
        if component.role is not None:
            pulumi.export(keys.replication_role_arn_key(svc.id), component.role.arn)


def _databases(topology: Topology, config: StackConfig,
               providers: Mapping[str, aws.Provider], tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import Database, DatabaseArgs, TableReplica

    for svc in topology.services.values():
        if svc.kind is not ServiceKind.DATABASE:
            continue
        ordered = [topology.primary(svc.id), *topology.secondaries(svc.id)]
        component = Database(svc.id, DatabaseArgs(svc.id, [
            TableReplica(r.site, naming.database_table_name(topology.name, config.stack, svc.id,
                                                            r.site),
                         providers[r.site], r.role.value)
            for r in ordered], tags=tags))
        for site, table in component.tables.items():
            pulumi.export(keys.database_table_key(svc.id, site), table.name)


def dns_zone_of(record_name: str) -> str:
    """The zone a record belongs to: its name without the first label."""
    labels = record_name.rstrip(".").split(".")
    if len(labels) < 3:
        raise InvalidInput(
            f"dns_name {record_name!r} needs at least three labels (host.domain.tld) so that "
            "its zone is not a top-level domain", field="services.dns_name", value=record_name)
    return ".".join(labels[1:])


def _dns(topology: Topology, config: StackConfig, endpoints: Mapping[str, SiteEndpoint],
         provider: aws.Provider, tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import (
        FailoverDns,
        FailoverDnsArgs,
        FailoverService,
        SiteTarget,
    )

    zones: dict[str, list[FailoverService]] = {}
    for svc in topology.services.values():
        if not svc.dns_name:
            continue
        record = svc.dns_name.rstrip(".")
        zones.setdefault(dns_zone_of(record), []).append(FailoverService(
            svc.id, record, topology.primary(svc.id).site,
            [r.site for r in topology.secondaries(svc.id)]))
    for zone, services in zones.items():
        sites = {s for f in services for s in (f.primary, *f.secondaries)}
        targets = {s: SiteTarget(s, endpoints[s].host, endpoints[s].port, endpoints[s].scheme)
                   for s in sites}
        component = FailoverDns(f"dns-{zone.replace('.', '-')}", FailoverDnsArgs(
            zone, targets, services, provider, ttl=config.dns_ttl,
            force_destroy=config.force_destroy, tags=tags))
        pulumi.export(keys.zone_id_key(zone), component.zone.zone_id)
        for f in services:
            pulumi.export(keys.record_name_key(f.service), f.record_name)
            for site in (f.primary, *f.secondaries):
                pulumi.export(keys.health_check_key(f.service, site),
                              component.health_checks[site].id)


def _control_plane(topology: Topology, config: StackConfig, provider: aws.Provider,
                   tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import ControlPlane, ControlPlaneArgs

    serving = {svc: topology.primary(svc).site for svc, spec in topology.services.items()
               if spec.replicas}
    params = {svc: naming.parameter_name(topology.name, config.stack, svc) for svc in serving}
    component = ControlPlane("control", ControlPlaneArgs(
        naming.control_table_name(topology.name, config.stack), serving, params, provider,
        tags=tags))
    pulumi.export(keys.TABLE_NAME, component.table.name)
    for svc, parameter in component.parameters.items():
        pulumi.export(keys.parameter_name_key(svc), parameter.name)
