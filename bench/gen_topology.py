"""Write a random topology in the georesil format, for benchmarks and scale tests.

    python bench/gen_topology.py --sites 200 --links 600 --services 20 --zones 5 --seed 1 \
        -o /tmp/g.yaml

    python bench/gen_topology.py --shape backbone --sites 750 --links 1000 -o /tmp/b.json

Sites are scattered over western Taiwan and labelled north / central / south by latitude.
Every site is in three zones — a power area (a band of latitude), a seismic area (a band of
longitude) and a weather area (a grid cell) — and fails with unavailability 2e-3 to 3e-2; links
fail with unavailability up to 2e-2 (so most Monte Carlo trials fail several elements). About
a third of the links share an SRLG with others.

Shapes:

- ``mesh`` (default): a random spanning tree keeps the network connected and the remaining
  links (parallel ones included) join random pairs, nearer sites being likelier.
- ``backbone``: the shape of the largest Internet Topology Zoo graphs — a sparse core of
  branch sites (40 % of the sites, meshed to nearby sites), whose core links are then
  stretched into long chains through degree-2 sites (40 %), plus spurs of pendant sites
  (20 %) hanging off by bridges.

Services have a primary and one or two secondaries, a few depend on earlier services, and some
declare clients. Importable: ``generate(sites, links, services, zones, seed, shape) -> dict``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path
from typing import Any

__all__ = ["generate"]

_LAT = (22.3, 25.2)
_LON = (120.1, 121.6)


def _region(lat: float) -> str:
    return "north" if lat >= 24.4 else ("central" if lat >= 23.5 else "south")


def _km(p: dict[str, float], q: dict[str, float]) -> float:
    dlat = (p["lat"] - q["lat"]) * 111.0
    dlon = (p["lon"] - q["lon"]) * 111.0 * math.cos(math.radians(23.7))
    return math.hypot(dlat, dlon)


def _band(value: float, span: tuple[float, float], n: int) -> int:
    return min(int((value - span[0]) / (span[1] - span[0]) * n), n - 1)


def _zone_docs(n: int) -> list[dict[str, str]]:
    """n power areas, n seismic areas and n weather cells (none when n is 0)."""
    return [{"id": f"{kind}-{i}", "kind": kind} for kind in ("power", "seismic", "weather")
            for i in range(n)]


def _sites(rng: random.Random, n: int, zones: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        loc = {"lat": round(rng.uniform(*_LAT), 4), "lon": round(rng.uniform(*_LON), 4)}
        zone_ids = []
        if zones:
            lat_band, lon_band = _band(loc["lat"], _LAT, zones), _band(loc["lon"], _LON, zones)
            zone_ids = [f"power-{lat_band}", f"seismic-{lon_band}",
                        f"weather-{(lat_band + lon_band) % zones}"]
        out.append({
            "id": f"site-{i:03d}", "region": _region(loc["lat"]), "location": loc,
            "zones": zone_ids, "unavailability": round(rng.uniform(2e-3, 3e-2), 5),
            "capacity": {"power_mw": rng.choice([2, 5, 10, 15]), "gpus": rng.choice([0, 64, 512])},
        })
    return out


def _mesh_pairs(rng: random.Random, sites: list[dict[str, Any]], n: int
                ) -> list[tuple[int, int]]:
    order = list(range(len(sites)))
    rng.shuffle(order)
    pairs = [(order[i], rng.choice(order[:i])) for i in range(1, len(order))]  # spanning tree
    nearest: dict[int, list[int]] = {}  # each site's 8 nearest, computed once
    while len(pairs) < n and len(sites) > 1:
        a = rng.randrange(len(sites))
        if a not in nearest:
            nearest[a] = sorted(range(len(sites)), key=lambda b: _km(
                sites[a]["location"], sites[b]["location"]))[1:9]
        pairs.append((a, rng.choice(nearest[a])))
    return pairs[:max(n, len(sites) - 1)]


def _backbone_pairs(rng: random.Random, sites: list[dict[str, Any]], n: int
                    ) -> list[tuple[int, int]]:
    """A sparse core over 40 % of the sites, its links stretched into chains through 40 %,
    and the last 20 % as spurs (bridges). Needs links >= sites - 1."""
    n_sites = len(sites)
    n_spur = n_sites // 5
    n_core = max(2, (2 * n_sites) // 5)
    n_chain = n_sites - n_core - n_spur
    core_links = n - n_chain - n_spur  # every chain site and spur site adds one link
    core = _mesh_pairs(rng, sites[:n_core], max(core_links, n_core - 1))
    pairs: list[tuple[int, int]] = []
    chain_sites = list(range(n_core, n_core + n_chain))
    stretched = rng.sample(range(len(core)), k=min(len(core), max(1, n_chain // 4)))
    per_link: dict[int, list[int]] = {c: [] for c in stretched}
    for i, v in enumerate(chain_sites):
        per_link[stretched[i % len(stretched)]].append(v)
    for c, (a, b) in enumerate(core):
        path = [a, *per_link.get(c, []), b]
        pairs += list(zip(path, path[1:], strict=False))
    for v in range(n_core + n_chain, n_sites):  # spurs hang off any earlier site
        pairs.append((v, rng.randrange(v)))
    return pairs


def _links(rng: random.Random, sites: list[dict[str, Any]], n: int, shape: str
           ) -> list[dict[str, Any]]:
    pairs = (_backbone_pairs if shape == "backbone" else _mesh_pairs)(rng, sites, n)
    srlgs = [f"conduit-{i}" for i in range(max(1, n // 15))]
    out = []
    for i, (a, b) in enumerate(pairs):
        link: dict[str, Any] = {
            "id": f"link-{i:03d}", "a": sites[a]["id"], "b": sites[b]["id"],
            "length_km": round(_km(sites[a]["location"], sites[b]["location"]) + 1, 1),
            "unavailability": round(rng.uniform(0.0, 2e-2), 5),
        }
        if rng.random() < 0.35:
            link["srlg"] = [rng.choice(srlgs)]
        out.append(link)
    return out


def _services(rng: random.Random, sites: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        placed = rng.sample([s["id"] for s in sites], k=min(len(sites), rng.randint(2, 3)))
        replicas: list[dict[str, Any]] = [{"site": placed[0], "role": "primary"}]
        for site in placed[1:]:
            mode = rng.choice(["sync", "async", "backup"])
            rep: dict[str, Any] = {"site": site, "role": "secondary", "replication": mode}
            if mode != "sync":
                rep["lag_s"] = rng.choice([5, 60, 900, 3600])
            replicas.append(rep)
        svc: dict[str, Any] = {
            "id": f"svc-{i:02d}", "tier": rng.randint(1, 3),
            "rto_s": rng.choice([60, 300, 3600]), "rpo_s": rng.choice([0, 60, 900]),
            "failover_s": rng.choice([30, 120, 600]), "replicas": replicas,
            "demand": {"power_mw": rng.choice([0.5, 1, 2])},
        }
        if out and rng.random() < 0.3:
            svc["depends_on"] = [rng.choice(out)["id"]]
        if rng.random() < 0.4:
            svc["clients"] = rng.sample([s["id"] for s in sites], k=min(len(sites), 3))
        out.append(svc)
    return out


def generate(sites: int, links: int, services: int, zones: int, seed: int,
             shape: str = "mesh") -> dict[str, Any]:
    """A random, valid topology document (plain data) with the given counts.

    ``zones`` is the number of areas of each kind (power, seismic, weather).
    """
    rng = random.Random(seed)
    site_docs = _sites(rng, sites, zones)
    return {
        "version": 1,
        "name": f"generated-{shape}-{sites}-{links}-{services}-s{seed}",
        "description": "generated by bench/gen_topology.py",
        "zones": _zone_docs(zones),
        "sites": site_docs,
        "links": _links(rng, site_docs, links, shape),
        "services": _services(rng, site_docs, services),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--links", type=int, default=600)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--zones", type=int, default=5, help="Areas of each kind.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shape", choices=["mesh", "backbone"], default="mesh")
    parser.add_argument("-o", "--output", type=Path, help="Output file (.yaml or .json); "
                        "default: standard output as YAML.")
    args = parser.parse_args(argv)
    if args.sites < 2 or args.links < args.sites - 1 or args.services < 0 or args.zones < 0:
        parser.error("need --sites >= 2, --links >= sites - 1, non-negative --services, --zones")
    doc = generate(args.sites, args.links, args.services, args.zones, args.seed, args.shape)
    if args.output is not None and args.output.suffix == ".json":
        args.output.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        return 0
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = None
    if args.output is None:
        yaml.dump(doc, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8") as fh:
            yaml.dump(doc, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
