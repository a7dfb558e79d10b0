"""``Topology``: the one immutable model every part of georesil reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar

import networkx as nx

from georesil.errors import InvalidReference
from georesil.model._positions import did_you_mean, quoted_list
from georesil.model.schema import (
    CONTROL_APIS,
    Endpoint,
    LinkSpec,
    ReplicaRole,
    ReplicaSpec,
    ScenarioSpec,
    ServiceSpec,
    SiteSpec,
    TopologyDoc,
    ZoneSpec,
)
from georesil.model.validate import REF_KINDS, parse_ref

__all__ = ["CONTROL_NAME", "ControlPlacement", "FailureSet", "Topology"]

#: Name of a control plane that lives outside the modelled sites (an external region, or the
#: lab's own control endpoint): the key of its endpoint wherever endpoints are keyed by site.
CONTROL_NAME = "control"

_Spec = TypeVar("_Spec")


@dataclass(frozen=True)
class FailureSet:
    """Base elements that fail together: sites, links, and services failing by themselves."""

    sites: frozenset[str] = frozenset()
    links: frozenset[str] = frozenset()
    services: frozenset[str] = frozenset()

    def __or__(self, other: FailureSet) -> FailureSet:
        return FailureSet(
            self.sites | other.sites, self.links | other.links, self.services | other.services
        )

    def __bool__(self) -> bool:
        return bool(self.sites or self.links or self.services)

    @property
    def refs(self) -> list[str]:
        """The base references, sorted: ``['link:a', 'service:b', 'site:c']``."""
        return sorted(
            [f"site:{s}" for s in self.sites]
            + [f"link:{k}" for k in self.links]
            + [f"service:{v}" for v in self.services]
        )


@dataclass(frozen=True)
class ControlPlacement:
    """Where the DR control plane (drill locks, active-site register, DNS zone) lives.

    Attributes:
        name: The witness site's id, or ``"control"`` for an endpoint outside the modelled sites.
        site: The witness site, or ``None`` for an external endpoint.
        endpoint: Where the control plane's APIs answer.
        zones: Failure domains the control plane shares with modelled elements (a witness
            site's own zones plus the ``zones`` the topology lists).
        declared: Whether the topology names the placement; when ``False`` it is the first site
            whose endpoint offers the control APIs, kept for topologies written before
            ``control:`` existed.
    """

    name: str
    site: str | None
    endpoint: Endpoint
    zones: frozenset[str]
    declared: bool


class Topology:
    """Sites, links, zones and services, wrapping a frozen networkx ``MultiGraph``.

    Nodes are site ids (attribute ``spec``); edges are links keyed by link id (attribute
    ``spec``). Parallel links between the same two sites are kept apart.

    Build one with :func:`georesil.load_topology` or :func:`georesil.topology_from_dict`.
    """

    def __init__(self, doc: TopologyDoc, source: str | None = None) -> None:
        self.doc = doc
        self.source = source
        self.sites: Mapping[str, SiteSpec] = MappingProxyType({s.id: s for s in doc.sites})
        self.links: Mapping[str, LinkSpec] = MappingProxyType({k.id: k for k in doc.links})
        self.services: Mapping[str, ServiceSpec] = MappingProxyType(
            {v.id: v for v in doc.services}
        )
        self.zones: Mapping[str, ZoneSpec] = MappingProxyType({z.id: z for z in doc.zones})
        self.scenarios: Mapping[str, ScenarioSpec] = MappingProxyType(
            {c.id: c for c in doc.scenarios}
        )
        srlgs: dict[str, list[str]] = {}
        for link in doc.links:
            for group in link.srlg:
                srlgs.setdefault(group, []).append(link.id)
        self.srlgs: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {g: tuple(ids) for g, ids in sorted(srlgs.items())}
        )
        graph: nx.MultiGraph[str] = nx.MultiGraph(name=doc.name)
        for site in doc.sites:
            graph.add_node(site.id, spec=site)
        for link in doc.links:
            graph.add_edge(link.a, link.b, key=link.id, spec=link)
        self.graph: nx.MultiGraph[str] = nx.freeze(graph)

    def __repr__(self) -> str:
        return (f"<Topology {self.name!r}: {len(self.sites)} sites, {len(self.links)} links, "
                f"{len(self.services)} services>")

    @property
    def name(self) -> str:
        return self.doc.name

    # -- lookups -------------------------------------------------------------------------
    def site(self, ident: str) -> SiteSpec:
        return self._lookup(self.sites, "site", ident)

    def link(self, ident: str) -> LinkSpec:
        return self._lookup(self.links, "link", ident)

    def service(self, ident: str) -> ServiceSpec:
        return self._lookup(self.services, "service", ident)

    def zone(self, ident: str) -> ZoneSpec:
        return self._lookup(self.zones, "zone", ident)

    def scenario(self, ident: str) -> ScenarioSpec:
        return self._lookup(self.scenarios, "scenario", ident)

    @staticmethod
    def _lookup(table: Mapping[str, _Spec], what: str, ident: str) -> _Spec:
        try:
            return table[ident]
        except KeyError:
            raise InvalidReference(
                f"unknown {what} {ident!r}; known {what}s: {quoted_list(table)}"
                + did_you_mean(ident, table),
                field=what, value=ident,
            ) from None

    # -- derived structure ---------------------------------------------------------------
    @cached_property
    def control(self) -> ControlPlacement | None:
        """Where the control plane lives, or ``None`` when no site can hold it."""
        spec = self.doc.control
        if spec is not None and spec.endpoint is not None:
            return ControlPlacement(CONTROL_NAME, None, spec.endpoint, frozenset(spec.zones), True)
        if spec is not None and spec.site is not None:
            witness = self.site(spec.site)
            assert witness.endpoint is not None  # checked by validation
            return ControlPlacement(witness.id, witness.id, witness.endpoint,
                                    frozenset(spec.zones) | frozenset(witness.zones), True)
        for site in self.doc.sites:
            if site.endpoint is not None and all(site.endpoint.offers(a) for a in CONTROL_APIS):
                return ControlPlacement(site.id, site.id, site.endpoint, frozenset(site.zones),
                                        False)
        return None

    @cached_property
    def regions(self) -> tuple[str, ...]:
        """Region labels in order of first appearance."""
        return tuple(dict.fromkeys(s.region for s in self.sites.values()))

    @cached_property
    def service_order(self) -> tuple[str, ...]:
        """Service ids with every service after the services it depends on (file order on ties)."""
        deps: nx.DiGraph[str] = nx.DiGraph()
        deps.add_nodes_from(self.services)
        for svc in self.services.values():
            deps.add_edges_from((d, svc.id) for d in svc.depends_on)
        position = {sid: i for i, sid in enumerate(self.services)}
        return tuple(nx.lexicographical_topological_sort(deps, key=position.__getitem__))

    def primary(self, service: str) -> ReplicaSpec:
        """The primary replica of a service."""
        return next(r for r in self.service(service).replicas if r.role is ReplicaRole.PRIMARY)

    def secondaries(self, service: str) -> tuple[ReplicaSpec, ...]:
        """Secondary replicas of a service, in file order."""
        return tuple(r for r in self.service(service).replicas if r.role is ReplicaRole.SECONDARY)

    def clients(self, service: str) -> tuple[str, ...]:
        """Sites whose users need the service (its replica sites unless declared)."""
        svc = self.service(service)
        if svc.clients is not None:
            return svc.clients
        return tuple(r.site for r in svc.replicas)

    def zone_members(self, zone: str) -> FailureSet:
        """Every site and link in a zone."""
        self.zone(zone)
        return FailureSet(
            sites=frozenset(s.id for s in self.sites.values() if zone in s.zones),
            links=frozenset(k.id for k in self.links.values() if zone in k.zones),
        )

    @cached_property
    def elements(self) -> tuple[str, ...]:
        """Every base element as a reference: sites then links, in file order."""
        return tuple([f"site:{s}" for s in self.sites] + [f"link:{k}" for k in self.links])

    # -- failure references --------------------------------------------------------------
    def resolve(self, ref: str) -> FailureSet:
        """The base elements one reference fails (``zone:X`` → its sites and links, ...).

        Raises:
            InvalidReference: malformed or unknown reference.
        """
        parsed = parse_ref(ref)
        if parsed is None:
            raise InvalidReference(
                f"malformed failure reference {ref!r}; allowed: "
                + ", ".join(f"{k}:ID" for k in REF_KINDS),
                field="fail", value=ref,
            )
        kind, ident = parsed
        if kind == "site":
            return FailureSet(sites=frozenset([self.site(ident).id]))
        if kind == "link":
            return FailureSet(links=frozenset([self.link(ident).id]))
        if kind == "service":
            return FailureSet(services=frozenset([self.service(ident).id]))
        if kind == "zone":
            return self.zone_members(ident)
        if ident not in self.srlgs:
            self._lookup(self.srlgs, "SRLG", ident)
        return FailureSet(links=frozenset(self.srlgs[ident]))

    def expand(self, refs: Iterable[str]) -> FailureSet:
        """The union of the base elements of several references."""
        out = FailureSet()
        for ref in refs:
            out = out | self.resolve(ref)
        return out

    def with_primary(self, service: str, site: str) -> Topology:
        """A new topology in which ``site`` holds the primary of ``service``.

        The old primary becomes a secondary replicating the way the new primary did (the
        direction of replication reverses, its mode and lag stay): the state after a failover,
        which is where a failback starts from.

        Raises:
            InvalidReference: the service has no replica at that site.
        """
        svc = self.service(service)
        target = next((r for r in svc.replicas if r.site == site), None)
        if target is None:
            raise InvalidReference(
                f"service {service!r} has no replica at {site!r}; its replicas: "
                + quoted_list(r.site for r in svc.replicas),
                field="site", value=site,
            )
        if target.role is ReplicaRole.PRIMARY:
            return self
        old = self.primary(service).site
        replicas = tuple(
            ReplicaSpec(site=r.site, role=ReplicaRole.PRIMARY) if r.site == site
            else ReplicaSpec(site=r.site, role=ReplicaRole.SECONDARY,
                             replication=target.replication, lag_s=target.lag_s) if r.site == old
            else r
            for r in svc.replicas
        )
        services = tuple(
            v.model_copy(update={"replicas": replicas}) if v.id == service else v
            for v in self.doc.services
        )
        return Topology(self.doc.model_copy(update={"services": services}), source=self.source)

    # -- output --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The normalised model as JSON-ready data (defaults filled in, ``None`` left out)."""
        return self.doc.model_dump(mode="json", exclude_none=True)

    def summary(self) -> str:
        """One line: counts of everything."""
        counts = [
            (len(self.sites), "site"), (len(self.links), "link"),
            (len(self.services), "service"), (len(self.zones), "zone"),
            (len(self.srlgs), "SRLG"), (len(self.scenarios), "scenario"),
        ]
        return f"{self.name}: " + ", ".join(f"{n} {w}{'' if n == 1 else 's'}" for n, w in counts)
