"""Small topologies for the analysis tests, built from compact descriptions."""

from __future__ import annotations

from typing import Any

from georesil.model import Topology, topology_from_dict


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
