"""The topology file format, as pydantic v2 models.

Every model forbids unknown keys and is frozen. Lists in the file become tuples, so a parsed
document is immutable and hashable where its parts are. Cross-references (a link's sites, a
service's replicas, ...) are checked by :mod:`georesil.model.validate`, not here: this module
only knows the shape of each record.
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "API_NAMES",
    "CONTROL_APIS",
    "Capacity",
    "ControlSpec",
    "Endpoint",
    "EndpointKind",
    "Fragility",
    "HealthCheckSpec",
    "LinkKind",
    "LinkSpec",
    "Location",
    "ReplicaRole",
    "ReplicaSpec",
    "Replication",
    "DEFAULT_MAX_DRILL_AGE_DAYS",
    "RESOURCES",
    "ReadinessPolicy",
    "ScenarioQuake",
    "ScenarioSpec",
    "SeismicSource",
    "SeismicSpec",
    "ServiceKind",
    "ServiceSpec",
    "SiteSpec",
    "TopologyDoc",
    "UNASSIGNED_REGION",
    "ZoneKind",
    "ZoneSpec",
]

#: The region of a site that names none.
UNASSIGNED_REGION = "unassigned"

#: Resources a site can offer and a service can demand, in report order.
RESOURCES: tuple[str, ...] = ("power_mw", "gpus", "storage_pb")

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=63),
]
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Probability = Annotated[float, Field(ge=0, lt=1)]


class _Model(BaseModel):
    # allow_inf_nan=False: every number in the file is finite (.inf, .nan, Infinity and NaN are
    # refused with the field's location), so derived figures and `show --json` stay finite.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False,
                              allow_inf_nan=False)


class ZoneKind(enum.StrEnum):
    """What kind of correlated failure a zone stands for."""

    POWER = "power"
    SEISMIC = "seismic"
    WEATHER = "weather"
    CONDUIT = "conduit"
    OTHER = "other"


class LinkKind(enum.StrEnum):
    """The physical medium of a link."""

    TERRESTRIAL = "terrestrial"
    SUBMARINE = "submarine"
    MICROWAVE = "microwave"
    SATELLITE = "satellite"


class ServiceKind(enum.StrEnum):
    """What a service does; provisioning builds different resources per kind."""

    OBJECT_STORAGE = "object-storage"
    DATABASE = "database"
    COMPUTE = "compute"
    DNS = "dns"
    IDENTITY = "identity"
    QUEUE = "queue"
    OTHER = "other"


class ReplicaRole(enum.StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class Replication(enum.StrEnum):
    """How a secondary receives writes: synchronously, asynchronously, or from backups."""

    SYNC = "sync"
    ASYNC = "async"
    BACKUP = "backup"


class Location(_Model):
    """A WGS84 position."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]


class Capacity(_Model):
    """Resources a site offers or a service demands; any subset of the keys."""

    power_mw: NonNeg | None = None
    gpus: Annotated[int, Field(ge=0)] | None = None
    storage_pb: NonNeg | None = None

    def get(self, resource: str) -> float | None:
        value = getattr(self, resource)
        return None if value is None else float(value)


class EndpointKind(enum.StrEnum):
    """What answers at a site's endpoint."""

    #: An AWS region: every AWS service (S3, KMS, IAM, DynamoDB, SSM, Route 53, ...) is there.
    AWS = "aws"
    #: An S3-compatible store (Ceph RGW, MinIO, ...): the S3 API only, plus any ``apis`` listed.
    S3_COMPATIBLE = "s3-compatible"


#: AWS service names an endpoint's ``apis`` map may list.
API_NAMES: tuple[str, ...] = ("dynamodb", "iam", "kms", "route53", "s3", "ssm", "sts")

Url = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(/\S*)?$")]


class Endpoint(_Model):
    """Where a site's APIs live: an AWS region, or an S3-compatible store at a URL.

    ``kind`` may be left out: ``aws_region`` means ``aws``, ``url`` means ``s3-compatible``.
    """

    kind: EndpointKind | None = None
    aws_region: str | None = None
    url: Url | None = None
    region: str | None = None
    profile: str | None = None
    ca_bundle: str | None = None
    addressing: Literal["path", "virtual"] = "path"
    apis: dict[str, Url] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> Endpoint:
        if self.aws_region is None and self.url is None:
            raise ValueError("an endpoint needs 'aws_region', or 'url' with 'region'")
        if self.aws_region is not None and self.url is not None:
            raise ValueError("give either 'aws_region' or 'url', not both")
        kind = self.effective_kind
        if self.kind is EndpointKind.AWS and self.aws_region is None:
            raise ValueError("kind 'aws' needs 'aws_region' (an AWS region name)")
        if self.kind is EndpointKind.S3_COMPATIBLE and self.url is None:
            raise ValueError("kind 's3-compatible' needs 'url' (the store's S3 API) and 'region'")
        if kind is EndpointKind.AWS and self.ca_bundle is not None:
            raise ValueError("'ca_bundle' is for an S3-compatible store; AWS regions use "
                             "the system trust store")
        unknown = sorted(set(self.apis) - set(API_NAMES))
        if unknown:
            raise ValueError(f"apis names unknown API(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(map(repr, API_NAMES))}")
        return self

    @property
    def effective_kind(self) -> EndpointKind:
        """``kind``, or what ``aws_region`` / ``url`` imply when it is left out."""
        if self.kind is not None:
            return self.kind
        return EndpointKind.AWS if self.aws_region is not None else EndpointKind.S3_COMPATIBLE

    @property
    def signing_region(self) -> str:
        """The region requests are signed for."""
        return self.aws_region or self.region or "us-east-1"

    def offers(self, api: str) -> bool:
        """Whether ``api`` (an AWS service name such as ``"dynamodb"``) answers here."""
        if self.effective_kind is EndpointKind.AWS:
            return True
        return api == "s3" or api in self.apis

    def url_for(self, api: str) -> str | None:
        """The URL to send ``api`` requests to: its own entry in ``apis``, else ``url``."""
        return self.apis.get(api, self.url)


#: APIs the control plane needs where it lives (drill locks, the active-site register).
CONTROL_APIS: tuple[str, ...] = ("dynamodb", "ssm")


class ControlSpec(_Model):
    """Where the DR control plane lives: drill locks, the active-site register, the DNS zone.

    A witness ``site`` of the topology, or an ``endpoint`` (an AWS region outside the modelled
    sites). It should share no failure domain with a service's primary: ``zones`` names the
    modelled zones an external endpoint still shares (a witness site's own zones count too).
    """

    site: str | None = None
    endpoint: Endpoint | None = None
    zones: tuple[str, ...] = ()
    #: DNS zone name -> id of an existing Route 53 hosted zone to put the failover records in
    #: (instead of creating the zone).
    hosted_zones: dict[str, Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{1,31}$")]] = \
        Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_of(self) -> ControlSpec:
        if (self.site is None) == (self.endpoint is None):
            raise ValueError("the control plane needs exactly one of 'site' (a witness site "
                             "of this topology) or 'endpoint' (e.g. {aws_region: ap-northeast-1})")
        if self.endpoint is not None:
            missing = [api for api in CONTROL_APIS if not self.endpoint.offers(api)]
            if missing:
                raise ValueError(f"the control endpoint must offer {', '.join(CONTROL_APIS)}; "
                                 f"missing {', '.join(missing)} (use an AWS region, or list "
                                 "them under 'apis')")
        return self


class Fragility(_Model):
    """A lognormal fragility curve: P(fail | PGA) = Φ(ln(PGA / median_g) / beta)."""

    median_g: Positive
    beta: Positive


class _Reliability(_Model):
    """Intrinsic (independent) failure inputs shared by sites and links."""

    unavailability: Probability | None = None
    mtbf_h: Positive | None = None
    mttr_h: NonNeg | None = None
    fragility: Fragility | None = None
    repair_h: NonNeg | None = None


class ZoneSpec(_Model):
    """A correlated-failure group: a power region, a seismic area, a conduit, ..."""

    id: Id
    kind: ZoneKind
    name: str | None = None
    description: str | None = None
    annual_rate: NonNeg | None = None
    mean_duration_h: NonNeg | None = None
    unavailability: Probability | None = None


class SiteSpec(_Reliability):
    """A data centre, cable landing station or other place that hosts replicas."""

    id: Id
    name: str | None = None
    #: Left out: the site belongs to no known region; reports group such sites under
    #: :data:`UNASSIGNED_REGION`.
    region: str = UNASSIGNED_REGION
    #: ``None``: position unknown; such a site is out of reach of positional hazards (quakes)
    #: and the map places it by the graph layout, drawn apart.
    location: Location | None = None
    zones: tuple[str, ...] = ()
    capacity: Capacity = Capacity()
    backup_power_h: NonNeg = 0.0
    endpoint: Endpoint | None = None
    vs30_m_s: Positive = 760.0
    tags: tuple[str, ...] = ()


class LinkSpec(_Reliability):
    """A network link between two sites; parallel links between the same sites are normal."""

    id: Id
    a: str
    b: str
    kind: LinkKind = LinkKind.TERRESTRIAL
    length_km: NonNeg | None = None
    latency_ms: NonNeg | None = None
    bandwidth_gbps: NonNeg | None = None
    srlg: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    path: tuple[Location, ...] = ()
    cut_rate_per_1000km_yr: NonNeg | None = None


class HealthCheckSpec(_Model):
    """How DNS failover probes one replica: its own service endpoint, not the site's API.

    ``port`` defaults to 443 for HTTPS and 80 for HTTP/TCP. Route 53 accepts a request
    interval of 10 or 30 seconds and a failure threshold of 1 to 10.
    """

    protocol: Literal["HTTPS", "HTTP", "TCP"] = "HTTPS"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    path: Annotated[str, StringConstraints(pattern=r"^/\S*$", max_length=255)] = "/"
    request_interval_s: Literal[10, 30] = 30
    failure_threshold: Annotated[int, Field(ge=1, le=10)] = 3

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else (443 if self.protocol == "HTTPS" else 80)


Hostname = Annotated[str, StringConstraints(
    pattern=r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
            r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$", max_length=253)]


class ReplicaSpec(_Model):
    """Where a copy of a service runs.

    ``hostname`` is the name clients use for this replica (its load balancer or service
    endpoint): failover DNS points the service's ``dns_name`` at it and ``health_check`` probes
    it. ``mirror_interval_s`` is how often georesil's mirror copies the primary to this replica
    when the pair involves an S3-compatible store (see docs/provisioning.md).
    """

    site: str
    role: ReplicaRole
    replication: Replication | None = None
    lag_s: NonNeg | None = None
    hostname: Hostname | None = None
    health_check: HealthCheckSpec | None = None
    mirror_interval_s: Positive | None = None


class ServiceSpec(_Model):
    """A replicated service with its recovery objectives."""

    id: Id
    name: str | None = None
    kind: ServiceKind = ServiceKind.OTHER
    tier: Annotated[int, Field(ge=1, le=4)] = 2
    rto_s: NonNeg
    rpo_s: NonNeg
    failover_s: NonNeg = 0.0
    clients: tuple[str, ...] | None = None
    depends_on: tuple[str, ...] = ()
    demand: Capacity = Capacity()
    dns_name: str | None = None
    replicas: tuple[ReplicaSpec, ...]


class ScenarioQuake(_Model):
    """A scenario earthquake: epicentre, moment magnitude and hypocentral depth."""

    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    magnitude: Annotated[float, Field(ge=3, le=9.5)]
    depth_km: NonNeg = 10.0


class ScenarioSpec(_Model):
    """A named failure: the elements it takes out, and optionally the quake behind it."""

    id: Id
    description: str | None = None
    fail: tuple[str, ...] = ()
    quake: ScenarioQuake | None = None


class SeismicSource(_Model):
    """A Gutenberg–Richter seismic source: a point or a line (fault trace)."""

    id: Id
    kind: Literal["point", "line"] = "point"
    location: Location | None = None
    trace: tuple[Location, ...] = ()
    depth_km: NonNeg = 10.0
    b_value: Positive = 1.0
    m_min: Annotated[float, Field(ge=3, le=9.5)] = 5.0
    m_max: Annotated[float, Field(ge=3, le=9.5)] = 7.5
    annual_rate: NonNeg
    mechanism: Literal["strike-slip", "normal", "reverse"] = "reverse"

    @model_validator(mode="after")
    def _geometry(self) -> SeismicSource:
        if self.kind == "point" and self.location is None:
            raise ValueError("a point source needs 'location'")
        if self.kind == "line" and len(self.trace) < 2:
            raise ValueError("a line source needs a 'trace' of at least 2 points")
        if self.m_max < self.m_min:
            raise ValueError(f"m_max {self.m_max} is below m_min {self.m_min}")
        return self


class SeismicSpec(_Model):
    """Seismic hazard inputs: sources and ground-motion scatter."""

    sources: tuple[SeismicSource, ...] = ()
    sigma_ln: Positive = 0.5363
    inter_event_fraction: Annotated[float, Field(ge=0, le=1)] = 0.5
    default_site_fragility: Fragility = Fragility(median_g=0.7, beta=0.55)
    default_link_fragility: Fragility = Fragility(median_g=0.5, beta=0.6)
    default_repair_h: NonNeg = 72.0


#: Days since the last successful drill before readiness fails it, by service tier (1 = most
#: critical): at least annually for every tier (NIST SP 800-34 Rev. 1,
#: docs/sources.md#nist-sp800-34), quarterly and half-yearly for tiers 1 and 2 (georesil's
#: choice; docs/readiness.md).
DEFAULT_MAX_DRILL_AGE_DAYS: dict[int, float] = {1: 90.0, 2: 180.0, 3: 365.0, 4: 365.0}


class ReadinessPolicy(_Model):
    """What ``georesil readiness`` holds the deployment to."""

    max_drill_age_days: dict[Annotated[int, Field(ge=1, le=4)], Positive] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_DRILL_AGE_DAYS))
    lag_sample_keys: Annotated[int, Field(ge=1, le=100_000)] = 1000

    def drill_age_limit_s(self, tier: int) -> float:
        """The longest a tier-``tier`` service may go without a successful drill, seconds."""
        days = self.max_drill_age_days.get(tier, DEFAULT_MAX_DRILL_AGE_DAYS[tier])
        return days * 86400.0


class TopologyDoc(_Model):
    """A whole topology file."""

    version: Literal[1]
    name: Id
    description: str | None = None
    zones: tuple[ZoneSpec, ...] = ()
    sites: tuple[SiteSpec, ...]
    links: tuple[LinkSpec, ...] = ()
    services: tuple[ServiceSpec, ...] = ()
    scenarios: tuple[ScenarioSpec, ...] = ()
    seismic: SeismicSpec | None = None
    control: ControlSpec | None = None
    readiness: ReadinessPolicy = ReadinessPolicy()
