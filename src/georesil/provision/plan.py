"""What a stack will look like, in words: where the control plane lives, what each site hosts,
the replication mechanism of every replica pair and every failover DNS chain.

``georesil provision --plan`` prints it. Pure: no pulumi, no boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from georesil.model.replication import PairPlan, replication_plan
from georesil.provision.placement import control_placement, resolve_places

if TYPE_CHECKING:
    from collections.abc import Mapping

    from georesil.model import ControlPlacement, Topology

__all__ = ["DnsChain", "SitePlan", "StackPlan", "chain_names", "set_identifier", "stack_plan"]


def chain_names(record_name: str, replicas: int) -> list[str]:
    """The record names of a failover chain over ``replicas`` replicas, the service's first.

    Route 53 allows one PRIMARY and one SECONDARY record per name, so n replicas need
    max(1, n - 1) names: each name's SECONDARY aliases the next name, the last name's
    SECONDARY is the last replica.
    """
    first, _, zone = record_name.rstrip(".").partition(".")
    return [record_name.rstrip(".")] + [f"{first}-failover-{i}.{zone}"
                                        for i in range(1, max(1, replicas - 1))]


def set_identifier(service: str, level: int, site: str) -> str:
    """A failover record's set identifier: ``<service>-<site>`` on the service's own name
    (level 0), ``<service>-<level>-<site>`` further down the chain: unique in the zone, so a
    change or delete names one record."""
    return f"{service}-{site}" if level == 0 else f"{service}-{level}-{site}"


@dataclass(frozen=True)
class SitePlan:
    """One site (or the control plane) and what provisioning may create there."""

    name: str
    kind: str
    region: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class DnsChain:
    """A service's failover chain: record names and the replica sites in failover order."""

    service: str
    names: tuple[str, ...]
    sites: tuple[str, ...]


@dataclass(frozen=True)
class StackPlan:
    """The plan of a stack (see the module docstring)."""

    control: ControlPlacement
    sites: tuple[SitePlan, ...]
    pairs: tuple[PairPlan, ...]
    dns: tuple[DnsChain, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "control": {"name": self.control.name, "site": self.control.site,
                        "region": self.control.endpoint.signing_region,
                        "declared": self.control.declared,
                        "zones": sorted(self.control.zones)},
            "sites": [{"name": s.name, "kind": s.kind, "region": s.region,
                       "hosts": list(s.hosts)} for s in self.sites],
            "replication": [p.to_json() for p in self.pairs],
            "dns": [{"service": d.service, "names": list(d.names), "sites": list(d.sites)}
                    for d in self.dns],
        }


_APIS = ("s3", "kms", "dynamodb", "ssm", "iam", "route53")


def stack_plan(topology: Topology, endpoints: Mapping[str, str] | None = None, *,
               lab: bool = False) -> StackPlan:
    """The plan of ``topology`` (``endpoints`` and ``lab`` as for
    :func:`~georesil.provision.placement.resolve_places`).

    Raises:
        InvalidInput: nothing can hold the control plane, or an override names an unknown site.
    """
    overrides = dict(endpoints or {})
    places = resolve_places(topology, overrides, lab=lab)
    control = control_placement(topology, overrides, lab=lab)
    sites = tuple(SitePlan(name, place.kind.value, place.endpoint.region,
                           tuple(api for api in _APIS if place.offers(api)))
                  for name, place in places.items())
    dns = tuple(DnsChain(svc.id, tuple(chain_names(svc.dns_name, len(svc.replicas))),
                         tuple([topology.primary(svc.id).site]
                               + [r.site for r in topology.secondaries(svc.id)]))
                for svc in topology.services.values() if svc.dns_name)
    return StackPlan(control, sites, replication_plan(topology), dns)
