"""Tiny topologies with closed-form risk, built in Python for the hazard and risk tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from georesil.model import Topology, topology_from_dict


def site(ident: str, lat: float = 24.0, lon: float = 121.0, **extra: Any) -> dict[str, Any]:
    return {"id": ident, "region": "r", "location": {"lat": lat, "lon": lon}, **extra}


def service(ident: str, primary: str, secondaries: tuple[str, ...] = (), tier: int = 1,
            clients: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    replicas = [{"site": primary, "role": "primary"}]
    replicas += [{"site": s, "role": "secondary", "replication": "sync"} for s in secondaries]
    out: dict[str, Any] = {"id": ident, "tier": tier, "rto_s": 600, "rpo_s": 60,
                           "replicas": replicas, **extra}
    if clients is not None:
        out["clients"] = clients
    return out


def topology(sites: list[dict[str, Any]], links: list[dict[str, Any]] = (),  # type: ignore[assignment]
             services: list[dict[str, Any]] = (),  # type: ignore[assignment]
             zones: list[dict[str, Any]] = (), **extra: Any) -> Topology:  # type: ignore[assignment]
    return topology_from_dict({"version": 1, "name": "t", "sites": list(sites),
                               "links": list(links), "services": list(services),
                               "zones": list(zones), **extra})


def series_pair(p_site: float = 0.02, p_link: float = 0.05) -> Topology:
    """Clients at perfect site a reach the only replica at b over link ab: down iff b or ab."""
    return topology(
        [site("a"), site("b", 23.1, 120.3, unavailability=p_site)],
        [{"id": "ab", "a": "a", "b": "b", "unavailability": p_link}],
        [service("svc", "b", clients=["a"])],
    )


def parallel_pair(p_a: float = 0.03, p_b: float = 0.04) -> Topology:
    """A service replicated on a and b (each its own client): down iff both sites are down."""
    return topology(
        [site("a", unavailability=p_a), site("b", 23.1, 120.3, unavailability=p_b)],
        [{"id": "ab", "a": "a", "b": "b", "unavailability": 0.0}],
        [service("svc", "a", ("b",))],
    )


def backup_zone(rate: float = 2.0, mean_h: float = 10.0, backup_a: float = 5.0,
                backup_b: float = 12.0) -> Topology:
    """Two sites in one power zone with different backups, one replicated service on both."""
    return topology(
        [site("a", zones=["grid"], backup_power_h=backup_a),
         site("b", 23.1, 120.3, zones=["grid"], backup_power_h=backup_b)],
        [{"id": "ab", "a": "a", "b": "b", "unavailability": 0.0}],
        [service("svc", "a", ("b",)), service("only-a", "a", tier=2)],
        [{"id": "grid", "kind": "power", "annual_rate": rate, "mean_duration_h": mean_h}],
    )


def mixed(n_links: int = 3) -> Topology:
    """A small mesh with a zone, a power zone and several services (≤ 24 stochastic atoms)."""
    sites = [site("n", 25.0, 121.5, unavailability=0.01, zones=["grid"], backup_power_h=4,
                  fragility={"median_g": 0.3, "beta": 0.5}),
             site("m", 24.1, 120.7, unavailability=0.02),
             site("s", 23.1, 120.3, unavailability=0.015, zones=["grid"], backup_power_h=8)]
    links = [{"id": f"nm{i}", "a": "n", "b": "m", "unavailability": 0.05 + 0.01 * i,
              "zones": ["quake"] if i == 0 else []} for i in range(n_links)]
    links += [{"id": "ms", "a": "m", "b": "s", "unavailability": 0.03},
              {"id": "ns", "a": "n", "b": "s", "unavailability": 0.08}]
    services = [service("db", "n", ("s",), clients=["n", "m"]),
                service("web", "m", clients=["n", "s"], depends_on=["db"]),
                service("batch", "s", tier=2)]
    zones = [{"id": "grid", "kind": "power", "annual_rate": 20.0, "mean_duration_h": 6.0},
             {"id": "quake", "kind": "seismic", "unavailability": 0.02}]
    return topology(sites, links, services, zones)


@st.composite
def documents(draw: st.DrawFn, sites: tuple[int, int] = (2, 5), max_links: int = 7,
              max_services: int = 3) -> dict[str, Any]:
    """Random small topology documents: 2–5 sites, a power zone with backups, a weather zone.

    Larger ``sites`` with few services give transit sites that host nothing (what importance
    pruning is about)."""
    n = draw(st.integers(*sites))
    probs = st.sampled_from([0.0, 0.002, 0.02, 0.05, 0.3])
    zones = [{"id": "grid", "kind": "power", "annual_rate": 200.0, "mean_duration_h": 6.0},
             {"id": "storm", "kind": "weather", "unavailability": 0.04}]
    sites = [site(f"s{i}", 23 + i * 0.3, 120.5, unavailability=draw(probs) or None,
                  zones=draw(st.lists(st.sampled_from(["grid", "storm"]), unique=True)),
                  backup_power_h=draw(st.sampled_from([0, 2, 8]))) for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda p: p[0] != p[1]), min_size=1, max_size=max_links))
    links = [{"id": f"l{i}", "a": f"s{a}", "b": f"s{b}", "unavailability": draw(probs),
              "zones": ["storm"] if draw(st.booleans()) else []}
             for i, (a, b) in enumerate(pairs)]
    services = []
    for i in range(draw(st.integers(1, max_services))):
        placed = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
        clients = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True))
        services.append(service(f"v{i}", f"s{placed[0]}", tuple(f"s{p}" for p in placed[1:]),
                                tier=draw(st.integers(1, 2)), clients=[f"s{c}" for c in clients]))
    return {"sites": sites, "links": links, "services": services, "zones": zones}
