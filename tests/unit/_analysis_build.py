"""Small topologies for the analysis tests, built from compact descriptions."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from georesil.model import FailureSet, Topology, topology_from_dict


def site(ident: str, region: str = "north", **extra: Any) -> dict[str, Any]:
    return {"id": ident, "region": region, "location": {"lat": 24.0, "lon": 121.0}, **extra}


def link(ident: str, a: str, b: str, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "a": a, "b": b, **extra}


def service(ident: str, primary: str, *secondaries: tuple[str, str, float], rto_s: float = 600,
            rpo_s: float = 300, failover_s: float = 60, **extra: Any) -> dict[str, Any]:
    """``secondaries``: (site, replication, lag_s) triples."""
    replicas: list[dict[str, Any]] = [{"site": primary, "role": "primary"}]
    for where, mode, lag in secondaries:
        rep: dict[str, Any] = {"site": where, "role": "secondary", "replication": mode}
        if mode != "sync":
            rep["lag_s"] = lag
        replicas.append(rep)
    return {"id": ident, "rto_s": rto_s, "rpo_s": rpo_s, "failover_s": failover_s,
            "replicas": replicas, **extra}


def build(sites: list[dict[str, Any]], links: list[dict[str, Any]],
          services: list[dict[str, Any]], **extra: Any) -> Topology:
    return topology_from_dict({"version": 1, "name": "t", "sites": sites, "links": links,
                               "services": services, **extra})


def chain() -> Topology:
    """a — b — c; web: primary a, async secondary c (lag 30 s), used from b."""
    return build([site("a"), site("b"), site("c")],
                 [link("ab", "a", "b"), link("bc", "b", "c")],
                 [service("web", "a", ("c", "async", 30), clients=["b"])])


def ring() -> Topology:
    """r0 — r1 — r2 — r3 — r0; api: only replica at r0, used from r2."""
    return build([site(f"r{i}") for i in range(4)],
                 [link("l01", "r0", "r1"), link("l12", "r1", "r2"), link("l23", "r2", "r3"),
                  link("l30", "r3", "r0")],
                 [service("api", "r0", clients=["r2"])])


# -- random topologies for property tests ---------------------------------------------------

REGIONS = ["north", "central", "south"]



@st.composite
def topologies(draw: st.DrawFn, max_sites: int = 6, max_links: int = 8,
               max_services: int = 4) -> Topology:
    """Random valid topologies: parallel links, isolated sites, dependencies, custom clients."""
    n = draw(st.integers(1, max_sites))
    names = [f"s{i}" for i in range(n)]
    regions = draw(st.lists(st.sampled_from(["north", "south"]), min_size=n, max_size=n))
    sites = [site(x, r) for x, r in zip(names, regions, strict=True)]
    links = []
    if n > 1:
        for i in range(draw(st.integers(0, max_links))):
            a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
            groups = draw(st.lists(st.sampled_from(["g1", "g2"]), max_size=2, unique=True))
            links.append(link(f"l{i}", a, b, srlg=groups))
    n_svc = draw(st.integers(1, max_services))
    rank = draw(st.permutations(range(n_svc)))  # dependencies follow rank, not file order
    services = []
    for i in range(n_svc):
        where = draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, n), unique=True))
        secondaries = []
        for w in where[1:]:
            mode = draw(st.sampled_from(["sync", "async", "backup"]))
            secondaries.append((w, mode, draw(st.sampled_from([0, 5, 60]))))
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["clients"] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3,
                                             unique=True))
        earlier = [f"v{j}" for j in range(n_svc) if rank[j] < rank[i]]
        if earlier:
            extra["depends_on"] = draw(st.lists(st.sampled_from(earlier), max_size=2, unique=True))
        services.append(service(
            f"v{i}", where[0], *secondaries, rto_s=draw(st.sampled_from([0, 30, 100])),
            rpo_s=draw(st.sampled_from([0, 5, 60])), failover_s=draw(st.sampled_from([0, 20, 50])),
            **extra))
    return build(sites, links, services)


@st.composite
def failure_sets(draw: st.DrawFn, topology: Topology) -> FailureSet:
    """A random subset of sites, links and services."""
    def subset(items: Any) -> frozenset[str]:
        items = list(items)
        return frozenset(draw(st.lists(st.sampled_from(items), unique=True)) if items else [])

    return FailureSet(subset(topology.sites), subset(topology.links), subset(topology.services))


@st.composite
def zoned(draw: st.DrawFn, max_sites: int = 6, max_links: int = 9) -> Topology:
    """Random topologies with three regions, SRLGs and zones on sites and links."""
    n = draw(st.integers(2, max_sites))
    names = [f"s{i}" for i in range(n)]
    zones = ["z0", "z1", "z2", "z3"]
    sites = [site(x, draw(st.sampled_from(REGIONS)),
                  zones=draw(st.lists(st.sampled_from(zones), max_size=2, unique=True)))
             for x in names]
    links = []
    for i in range(draw(st.integers(0, max_links))):
        a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
        links.append(link(f"l{i}", a, b,
                          srlg=draw(st.lists(st.sampled_from(["g1", "g2", "g3"]), max_size=2,
                                             unique=True)),
                          zones=draw(st.lists(st.sampled_from(zones), max_size=1))))
    services = [service(f"v{i}", draw(st.sampled_from(names)), clients=draw(st.lists(
        st.sampled_from(names), min_size=1, max_size=3, unique=True)))
        for i in range(draw(st.integers(1, 3)))]
    return build(sites, links, services,
                 zones=[{"id": z, "kind": "power"} for z in zones])


@st.composite
def reducible(draw: st.DrawFn, max_services: int = 3) -> Topology:
    """Random topologies with what failure classes reduce: chains of pass-through sites
    (between two sites, or hanging off one as a cycle), pendant trees, parallel links and
    isolated sites; replicas and clients anywhere (chain interiors and pendants included),
    dependencies, objectives tight enough to breach, services down with nothing failed."""
    names = [f"c{i}" for i in range(draw(st.integers(1, 3)))]
    pairs: list[tuple[str, str]] = []
    if len(names) > 1:
        for _ in range(draw(st.integers(0, len(names) + 1))):
            a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
            pairs.append((a, b))
    for c in range(draw(st.integers(0, 2))):  # chains: a — h — … — b (a == b: a cycle)
        a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        inner = [f"h{c}{j}" for j in range(draw(st.integers(1, 2)))]
        path = [a, *inner, b]
        pairs += list(zip(path, path[1:], strict=False))
        names += inner
    for p in range(draw(st.integers(0, 2))):  # pendant trees, grown one leaf at a time
        names.append(f"p{p}")
        pairs.append((draw(st.sampled_from(names[:-1])), f"p{p}"))
    if pairs and draw(st.booleans()):
        pairs.append(draw(st.sampled_from(pairs)))  # a parallel link
    if draw(st.booleans()):
        names.append("lone")  # no links: a service used from here is down with nothing failed
    sites = [site(x) for x in draw(st.permutations(names))]  # file order decides ties
    links = [link(f"l{i}", a, b) for i, (a, b) in enumerate(draw(st.permutations(pairs)))]
    services = []
    for i in range(draw(st.integers(1, max_services))):
        where = draw(st.lists(st.sampled_from(names), min_size=1, max_size=min(3, len(names)),
                              unique=True))
        secondaries = [(w, draw(st.sampled_from(["sync", "async", "backup"])),
                        draw(st.sampled_from([0, 5, 60]))) for w in where[1:]]
        extra: dict[str, Any] = {"tier": draw(st.integers(1, 4))}
        if draw(st.booleans()):
            extra["clients"] = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2,
                                             unique=True))
        if i and draw(st.booleans()):
            extra["depends_on"] = [f"v{draw(st.integers(0, i - 1))}"]
        services.append(service(
            f"v{i}", where[0], *secondaries, rto_s=draw(st.sampled_from([0, 30, 100])),
            rpo_s=draw(st.sampled_from([0, 5, 60])), failover_s=draw(st.sampled_from([0, 50])),
            **extra))
    return build(sites, links, services)
