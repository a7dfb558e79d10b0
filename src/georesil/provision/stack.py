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
from georesil.model import load_topology
from georesil.model.replication import Mechanism, replication_plan
from georesil.model.schema import HealthCheckSpec, ReplicaSpec, ServiceKind
from georesil.provision import naming
from georesil.provision import outputs as keys
from georesil.provision.placement import Place, control_placement, resolve_places

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from georesil.model import Topology
    from georesil.provision.components import ReplicaTarget

__all__ = [
    "SiteEndpoint",
    "StackConfig",
    "build_stack",
    "load_configured_topology",
    "places_for",
    "provisioned_sites",
    "resolve_endpoints",
]

@dataclass(frozen=True)
class StackConfig:
    """How to build a stack from a topology.

    Attributes:
        stack: Stack name; part of every physical name.
        endpoints: Site id (or ``"control"``) -> endpoint URL, overriding the topology: a
            stand-in (moto server) serving every API — a lab.
        lab: A lab or in-process moto run: a topology without ``control:`` gets the lab's own
            control endpoint (see :mod:`georesil.provision.placement`).
        default_region: Region for sites without any endpoint (in-process moto only); when
            ``None`` such a site is an error.
        credentials: (access key, secret key) put on every provider — for labs; the secret is
            wrapped as a Pulumi secret. ``None`` uses the site profile or the environment.
        noncurrent_days: Days before a noncurrent object version expires.
        force_destroy: Let ``destroy`` remove non-empty buckets and zones (labs only).
        protect: Protect buckets, KMS keys, DR tables, the control table and hosted zones
            (``pulumi destroy`` refuses them) and retain them when they leave the program;
            on by default, off in labs. Override with the ``georesil:protect`` config key.
        dns_ttl: TTL of failover records, seconds.
        topology_urls: Use the endpoint URLs written in the topology for sites without an
            override; when false such sites have no URL (the moto engine then uses
            in-process moto) — for dry demonstrations and benchmarks.
    """

    stack: str = "dev"
    endpoints: Mapping[str, str] = field(default_factory=dict)
    lab: bool = False
    default_region: str | None = None
    credentials: tuple[str, str] | None = None
    noncurrent_days: int = 30
    force_destroy: bool = False
    protect: bool = True
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
            noncurrent_days=conf.get_int("noncurrentDays") or 30,
            force_destroy=conf.get_bool("forceDestroy") or False,
            protect=_bool(conf.get_bool("protect"), True),
            dns_ttl=conf.get_int("dnsTtl") or 60,
        )


def _bool(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def load_configured_topology() -> Topology:
    """The topology named by the ``georesil:topology`` key (relative to the project)."""
    import pulumi

    name = pulumi.Config("georesil").get("topology")
    return load_topology(None if name is None else Path(name))


def places_for(topology: Topology, config: StackConfig) -> dict[str, Place]:
    """Every site's (and the control plane's) place under ``config``."""
    return resolve_places(topology, config.endpoints, default_region=config.default_region,
                          topology_urls=config.topology_urls, lab=config.lab)


def resolve_endpoints(topology: Topology, config: StackConfig) -> dict[str, SiteEndpoint]:
    """Every site's endpoint (and the control plane's, under ``"control"``) under ``config``.

    Raises:
        InvalidInput: an override names an unknown site.
    """
    return {name: place.endpoint for name, place in places_for(topology, config).items()}


def provisioned_sites(topology: Topology, config: StackConfig | None = None) -> list[str]:
    """Places that get a provider (and so need an endpoint), sites in file order first.

    Replica sites of object-storage services, replica sites of database services that can
    host a table, and the control placement. A lab must give each of them an endpoint.
    """
    cfg = config or StackConfig(default_region="us-east-1", lab=True)
    control = control_placement(topology, cfg.endpoints, lab=cfg.lab)
    return _used_places(topology, control.name, places_for(topology, cfg))


def _used_places(topology: Topology, control: str, places: Mapping[str, Place]) -> list[str]:
    used = {control}
    for svc in topology.services.values():
        if svc.kind is ServiceKind.OBJECT_STORAGE:
            used.update(r.site for r in svc.replicas)
        elif svc.kind is ServiceKind.DATABASE:
            used.update(r.site for r in svc.replicas
                        if r.site not in places or places[r.site].offers("dynamodb"))
    ordered = [s for s in topology.sites if s in used]
    return ordered + sorted(used - set(ordered))


def _providers(config: StackConfig, names: list[str], places: Mapping[str, Place],
               tags: Mapping[str, str]) -> dict[str, aws.Provider]:
    import pulumi
    import pulumi_aws as aws

    missing = [s for s in names if s not in places]
    if missing:
        raise InvalidInput(
            f"site(s) {', '.join(map(repr, missing))} hold provisioned replicas but have no "
            "endpoint; add 'endpoint:' to the site in the topology or pass --endpoint "
            "SITE=URL", field="sites.endpoint", sites=missing)
    providers = {}
    key, secret = config.credentials or (None, None)
    for name in names:
        place = places[name]
        ep = place.endpoint
        urls = place.provider_endpoints()
        # Not AWS itself (an S3-compatible store, or a stand-in): no STS, IAM or metadata
        # service to validate credentials or look up the account with.
        foreign = bool(urls) or ep.url is not None
        providers[name] = aws.Provider(
            f"site-{name}", region=ep.region,
            endpoints=[aws.ProviderEndpointArgs(**urls)] if urls else None,
            s3_use_path_style=(ep.addressing == "path") if foreign else None,
            custom_ca_bundle=ep.ca_bundle,
            skip_credentials_validation=True if foreign else None,
            skip_requesting_account_id=True if foreign else None,
            skip_metadata_api_check=True if foreign else None,
            skip_region_validation=True if foreign else None,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)),
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

    places = places_for(topology, config)
    control = control_placement(topology, config.endpoints, lab=config.lab)
    tags = {"georesil:stack": config.stack, "georesil:topology": topology.name}
    providers = _providers(config, _used_places(topology, control.name, places), places, tags)
    pulumi.export(keys.TOPOLOGY_NAME, topology.name)
    pulumi.export(keys.STACK_NAME, config.stack)
    pulumi.export(keys.CONTROL_SITE, control.name)
    pulumi.export(keys.CONTROL_REGION, places[control.name].endpoint.region)
    pulumi.export(keys.CONTROL_DECLARED, control.declared)
    ctl = providers[control.name]
    _object_storage(topology, config, places, control.name, providers, ctl, tags)
    _databases(topology, config, places, providers, tags)
    _dns(topology, config, places, ctl, tags)
    _control_plane(topology, config, ctl, tags)


def _account_id(control: Place, provider: aws.Provider) -> pulumi.Output[str]:
    """The deploying account's id (from STS at the control placement), for bucket names."""
    import pulumi
    import pulumi_aws as aws

    if not control.offers("sts"):
        return pulumi.Output.from_input("")
    return aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(provider=provider)).account_id


def _object_storage(topology: Topology, config: StackConfig, places: Mapping[str, Place],
                    control_name: str, providers: Mapping[str, aws.Provider],
                    iam_provider: aws.Provider, tags: Mapping[str, str]) -> None:
    import pulumi
    import pulumi_aws as aws

    from georesil.provision.components import BucketReplica, MirroredBucket, MirroredBucketArgs

    services = [s for s in topology.services.values() if s.kind is ServiceKind.OBJECT_STORAGE]
    sites = list(dict.fromkeys(r.site for s in services for r in s.replicas))
    kms = {}
    for site in sites:
        if not places[site].offers("kms"):
            continue  # an S3-compatible store encrypts with its own keys (SSE-S3)
        kms[site] = aws.kms.Key(
            f"kms-{site}", description=f"georesil {config.stack}: buckets at {site}",
            enable_key_rotation=True, deletion_window_in_days=30 if config.protect else 7,
            tags={**tags, "georesil:site": site},
            opts=pulumi.ResourceOptions(provider=providers[site], protect=config.protect,
                                        retain_on_delete=config.protect))
        pulumi.export(keys.kms_key_arn_key(site), kms[site].arn)
    plans = {(p.service, p.target): p for p in replication_plan(topology)}
    account = _account_id(places[control_name], iam_provider)

    def replica(svc: str, site: str) -> BucketReplica:
        name = account.apply(lambda acct: naming.bucket_name(topology.name, config.stack, svc,
                                                             site, acct))
        return BucketReplica(site, name, providers[site],
                             kms[site].arn if site in kms else None,
                             aws_region=places[site].is_aws)

    for svc in services:
        primary = topology.primary(svc.id).site
        secondaries = [r.site for r in topology.secondaries(svc.id)]
        component = MirroredBucket(svc.id, MirroredBucketArgs(
            service=svc.id, primary=replica(svc.id, primary),
            secondaries=[replica(svc.id, site) for site in secondaries],
            replicated_by_s3=[site for site in secondaries
                              if plans[(svc.id, site)].mechanism is Mechanism.S3_REPLICATION],
            iam_provider=iam_provider,
            role_name=naming.role_name(topology.name, config.stack, svc.id),
            noncurrent_days=config.noncurrent_days, force_destroy=config.force_destroy,
            protect=config.protect, tags=tags))
        pulumi.export(keys.bucket_sites_key(svc.id), list(component.buckets))
        for site, bucket in component.buckets.items():
            pulumi.export(keys.bucket_name_key(svc.id, site), bucket.bucket)
            pulumi.export(keys.bucket_arn_key(svc.id, site), bucket.arn)
        for site in secondaries:
            pulumi.export(keys.replication_mechanism_key(svc.id, site),
                          plans[(svc.id, site)].mechanism.value)
        if component.role is not None:
            pulumi.export(keys.replication_role_arn_key(svc.id), component.role.arn)


def _databases(topology: Topology, config: StackConfig, places: Mapping[str, Place],
               providers: Mapping[str, aws.Provider], tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import Database, DatabaseArgs, TableReplica

    plans = replication_plan(topology)
    for svc in topology.services.values():
        if svc.kind is not ServiceKind.DATABASE:
            continue
        ordered = [topology.primary(svc.id), *topology.secondaries(svc.id)]
        hosted = [r for r in ordered if places[r.site].offers("dynamodb")]
        if not hosted:
            continue
        everywhere = all(places[r.site].is_aws for r in ordered)
        home = places[ordered[0].site].endpoint.region
        regions = list(dict.fromkeys(places[r.site].endpoint.region for r in ordered))
        table = naming.database_table_name(topology.name, config.stack, svc.id,
                                           ordered[0].site)
        component = Database(svc.id, DatabaseArgs(svc.id, [
            TableReplica(r.site, table if everywhere else naming.database_table_name(
                topology.name, config.stack, svc.id, r.site), providers[r.site], r.role.value)
            for r in (ordered if everywhere else hosted)],
            global_regions=[r for r in regions if r != home] if everywhere else (),
            protect=config.protect, tags=tags))
        for site, t in component.tables.items():
            pulumi.export(keys.database_table_key(svc.id, site), t.name)
        for pair in plans:
            if pair.service == svc.id:
                pulumi.export(keys.replication_mechanism_key(svc.id, pair.target),
                              pair.mechanism.value)


def dns_zone_of(record_name: str) -> str:
    """The zone a record belongs to: its name without the first label."""
    labels = record_name.rstrip(".").split(".")
    if len(labels) < 3:
        raise InvalidInput(
            f"dns_name {record_name!r} needs at least three labels (host.domain.tld) so that "
            "its zone is not a top-level domain", field="services.dns_name", value=record_name)
    return ".".join(labels[1:])


def _dns(topology: Topology, config: StackConfig, places: Mapping[str, Place],
         provider: aws.Provider, tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import (
        FailoverDns,
        FailoverDnsArgs,
        FailoverService,
        chain_names,
    )

    zones: dict[str, list[FailoverService]] = {}
    for svc in topology.services.values():
        if not svc.dns_name:
            continue
        record = svc.dns_name.rstrip(".")
        ordered = [topology.primary(svc.id), *topology.secondaries(svc.id)]
        zones.setdefault(dns_zone_of(record), []).append(FailoverService(
            svc.id, record, [dns_target(topology, svc.id, r, places, lab=config.lab)
                             for r in ordered]))
    existing = topology.doc.control.hosted_zones if topology.doc.control else {}
    for zone, services in zones.items():
        component = FailoverDns(f"dns-{zone.replace('.', '-')}", FailoverDnsArgs(
            zone, services, provider, zone_id=existing.get(zone), ttl=config.dns_ttl,
            force_destroy=config.force_destroy, protect=config.protect, tags=tags))
        pulumi.export(keys.zone_id_key(zone), component.zone_id)
        if component.zone is not None:
            pulumi.export(keys.name_servers_key(zone), component.zone.name_servers)
        for f in services:
            pulumi.export(keys.record_name_key(f.service), f.record_name)
            pulumi.export(keys.record_chain_key(f.service),
                          chain_names(f.record_name, len(f.replicas)))
            for target in f.replicas:
                pulumi.export(keys.health_check_key(f.service, target.site),
                              component.health_checks[(f.service, target.site)].id)


def dns_target(topology: Topology, service: str, replica: ReplicaSpec,
               places: Mapping[str, Place], *, lab: bool) -> ReplicaTarget:
    """Where ``service``'s record points for ``replica``, and how Route 53 probes it.

    The replica's ``hostname`` and ``health_check``. In a lab, a site played by a stand-in
    server is reached at that server (the lab serves the site), and a replica without a
    hostname falls back to its site's endpoint.

    Raises:
        InvalidInput: outside a lab, the replica has no ``hostname``.
    """
    from georesil.provision.components import ReplicaTarget

    check = replica.health_check or HealthCheckSpec()
    place = places.get(replica.site)
    stand_in = lab and place is not None and place.stand_in
    if replica.hostname is not None and not stand_in:
        return ReplicaTarget(replica.site, replica.hostname.rstrip("."),
                             check.effective_port, check.protocol, check.path,
                             check.request_interval_s, check.failure_threshold)
    if not lab or place is None:
        index = [s.id for s in topology.doc.services].index(service)
        where = [r.site for r in topology.service(service).replicas].index(replica.site)
        raise InvalidInput(
            f"services[{index}].replicas[{where}].hostname: service {service!r} has a dns_name, "
            f"so its replica at {replica.site!r} needs the hostname clients use there (its "
            "load balancer or service endpoint) for the failover record and health check; "
            "the site's S3 API is not the service", field="hostname", service=service,
            site=replica.site)
    ep = place.endpoint
    protocol = "HTTPS" if ep.scheme == "HTTPS" else "HTTP"
    return ReplicaTarget(replica.site, ep.host, ep.port, protocol, check.path,
                         check.request_interval_s, check.failure_threshold)


def _control_plane(topology: Topology, config: StackConfig, provider: aws.Provider,
                   tags: Mapping[str, str]) -> None:
    import pulumi

    from georesil.provision.components import ControlPlane, ControlPlaneArgs

    serving = {svc: topology.primary(svc).site for svc, spec in topology.services.items()
               if spec.replicas}
    params = {svc: naming.parameter_name(topology.name, config.stack, svc) for svc in serving}
    component = ControlPlane("control", ControlPlaneArgs(
        naming.control_table_name(topology.name, config.stack), serving, params, provider,
        protect=config.protect, tags=tags))
    pulumi.export(keys.TABLE_NAME, component.table.name)
    for svc, parameter in component.parameters.items():
        pulumi.export(keys.parameter_name_key(svc), parameter.name)
