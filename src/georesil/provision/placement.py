"""Where each resource can live: the sites' endpoints and what they host, and the control plane.

A site is an AWS region (every AWS service answers there) or an S3-compatible store (the S3
API, plus whatever other APIs its endpoint lists). Provisioning creates at a site only what it
can host; KMS keys, DynamoDB tables and SSM parameters need their API at the site, and the
global pieces — IAM roles, the Route 53 zone, the control table and the active-site register —
live at the **control placement** (``Topology.control``): a witness site or an AWS region
outside the modelled sites.

A lab (or in-process moto) stands a moto server in for each endpoint: an override URL serves
every API, but the *kind* stays the topology's, so the lab creates exactly what a real deploy
would. When the topology declares no ``control:``, the lab runs its own control endpoint
(named :data:`~georesil.model.CONTROL_NAME`, signing for
:data:`~georesil.cloud.sessions.LAB_CONTROL_REGION`).

Pure functions of the topology and the stack configuration: nothing here imports pulumi or
boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from georesil.cloud.sessions import LAB_CONTROL_REGION, SiteEndpoint
from georesil.errors import InvalidInput
from georesil.model import CONTROL_NAME, ControlPlacement, Topology
from georesil.model.schema import CONTROL_APIS, Endpoint, EndpointKind

__all__ = [
    "ENDPOINT_SERVICES",
    "Place",
    "control_placement",
    "resolve_places",
]

#: Every AWS API the stack's resources use.
ENDPOINT_SERVICES: tuple[str, ...] = ("s3", "iam", "kms", "route53", "dynamodb", "ssm", "sts")


@dataclass(frozen=True)
class Place:
    """A site (or the control plane) as provisioning sees it.

    Attributes:
        name: Site id, or ``"control"`` for a control plane outside the modelled sites.
        endpoint: Where requests go (an override URL already applied).
        kind: What the topology says answers there; an override does not change it.
        stand_in: The URL is a stand-in (a moto server) serving every API.
    """

    name: str
    endpoint: SiteEndpoint
    kind: EndpointKind
    stand_in: bool = False

    @property
    def is_aws(self) -> bool:
        return self.kind is EndpointKind.AWS

    def offers(self, api: str) -> bool:
        """Whether the real endpoint (not a stand-in) answers ``api``."""
        return self.is_aws or api == "s3" or api in self.endpoint.apis

    def provider_endpoints(self) -> dict[str, str]:
        """Per-API URLs for the provider: all of them at a stand-in, none for AWS."""
        if self.stand_in and self.endpoint.url is not None:
            return {api: self.endpoint.url for api in ENDPOINT_SERVICES}
        if self.is_aws:
            return {}
        urls = {api: self.endpoint.url_for(api) for api in ENDPOINT_SERVICES
                if self.offers(api)}
        return {api: url for api, url in urls.items() if url}


def control_placement(topology: Topology, endpoints: Mapping[str, str],
                      *, lab: bool = False) -> ControlPlacement:
    """The control plane's placement: the topology's, else the lab's own control endpoint.

    Args:
        topology: The topology.
        endpoints: Endpoint overrides by site id (a lab's moto servers); a ``"control"`` entry
            is the lab's control endpoint.
        lab: A lab or in-process moto run: a topology without ``control:`` gets the lab's
            control endpoint instead of the first site that could hold it.

    Raises:
        InvalidInput: nothing can hold the control plane.
    """
    placement = topology.control
    if placement is not None and placement.declared:
        return placement
    if lab or CONTROL_NAME in endpoints:
        return ControlPlacement(CONTROL_NAME, None, Endpoint(aws_region=LAB_CONTROL_REGION),
                                frozenset(), False)
    if placement is None:
        raise InvalidInput(
            "no place can hold the control plane (drill locks, active-site register, DNS "
            f"zone): no site's endpoint offers {', '.join(CONTROL_APIS)}; add `control: "
            "{endpoint: {aws_region: REGION}}` (a region outside the services' failure "
            "domains) to the topology", field="control")
    return placement


def resolve_places(topology: Topology, endpoints: Mapping[str, str], *,
                   default_region: str | None = None, topology_urls: bool = True,
                   lab: bool = False) -> dict[str, Place]:
    """Every site with an endpoint, and the control plane when it is not a site.

    Args:
        topology: The topology.
        endpoints: ``{site or "control": URL}`` overrides (a lab's stand-in servers).
        default_region: Region for sites without an endpoint (in-process moto only).
        topology_urls: Use the topology's URLs for sites without an override; when false,
            such sites have no URL (in-process moto).
        lab: See :func:`control_placement`.

    Raises:
        InvalidInput: an override names an unknown site.
    """
    unknown = sorted(set(endpoints) - set(topology.sites) - {CONTROL_NAME})
    if unknown:
        raise InvalidInput(
            f"endpoint override for unknown site(s) {', '.join(map(repr, unknown))}; known "
            f"sites: {', '.join(map(repr, topology.sites))} (and {CONTROL_NAME!r}, the "
            "control plane)", field="endpoints")
    places: dict[str, Place] = {}
    for site in topology.sites.values():
        ep = site.endpoint
        if ep is None and default_region is not None:
            ep = Endpoint(aws_region=default_region)
        if ep is None:
            continue
        places[site.id] = _place(site.id, ep, endpoints.get(site.id), topology_urls)
    control = control_placement(topology, endpoints, lab=lab)
    if control.site is None:
        places[CONTROL_NAME] = _place(CONTROL_NAME, control.endpoint,
                                      endpoints.get(CONTROL_NAME), topology_urls)
    return places


def _place(name: str, ep: Endpoint, override: str | None, topology_urls: bool) -> Place:
    url = override or (ep.url if topology_urls else None)
    resolved = SiteEndpoint(name, ep.signing_region, url, ep.profile,
                            dict(ep.apis) if override is None and topology_urls else {},
                            ep.ca_bundle if override is None else None, ep.addressing)
    return Place(name, resolved, ep.effective_kind, stand_in=override is not None)
