"""Write a carrier-backbone-like GML file, shaped like the Internet Topology Zoo's large graphs.

    python bench/gen_backbone_gml.py --sites 750 --seed 1 -o /tmp/backbone.gml

PoPs sit around ~60 real metro areas on four continents (jittered a few tens of km). Each
metro's PoPs form a ring with chords; metros are joined to their nearest metros and by a few
long-haul routes (transatlantic, transpacific across the antimeridian, Europe–Asia). The file
has the Zoo's awkward cases, at the Zoo's rates: labels repeated across PoPs of a metro (the
754-PoP Zoo graph repeats 63), junction nodes labelled ``None`` without coordinates, labels
with non-ASCII, spaces and ``?``, parallel edges (``multigraph 1``), and a few self-loops.
Importable: ``generate_gml(sites, seed) -> str``.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

__all__ = ["METROS", "generate_gml"]

#: (label, latitude, longitude): real metro areas, to a tenth of a degree.
METROS: tuple[tuple[str, float, float], ...] = (
    ("London", 51.5, -0.1), ("Paris", 48.9, 2.4), ("Frankfurt am Main", 50.1, 8.7),
    ("Amsterdam", 52.4, 4.9), ("Zürich", 47.4, 8.5), ("München", 48.1, 11.6),
    ("Milano", 45.5, 9.2), ("Madrid", 40.4, -3.7), ("Barcelona", 41.4, 2.2),
    ("Wien", 48.2, 16.4), ("Praha", 50.1, 14.4), ("Kraków", 50.1, 19.9), ("Łódź", 51.8, 19.5),
    ("København", 55.7, 12.6), ("Malmö", 55.6, 13.0), ("Stockholm", 59.3, 18.1),
    ("Göteborg", 57.7, 12.0), ("Oslo", 59.9, 10.8), ("Helsinki", 60.2, 24.9),
    ("Dublin", 53.3, -6.3), ("Lisboa", 38.7, -9.1), ("Düsseldorf", 51.2, 6.8),
    ("Besançon", 47.2, 6.0), ("Bucureşti", 44.4, 26.1), ("Athína", 38.0, 23.7),
    ("Istanbul", 41.0, 29.0), ("Reykjavík", 64.1, -21.9),
    ("New York", 40.7, -74.0), ("Ashburn", 39.0, -77.5), ("Chicago", 41.9, -87.6),
    ("Dallas", 32.8, -96.8), ("Atlanta", 33.7, -84.4), ("Miami", 25.8, -80.2),
    ("Denver", 39.7, -105.0), ("Seattle", 47.6, -122.3), ("San Jose", 37.3, -121.9),
    ("Los Angeles", 34.1, -118.2), ("St. Louis?", 38.6, -90.2), ("Toronto", 43.7, -79.4),
    ("Montréal", 45.5, -73.6), ("México", 19.4, -99.1), ("São Paulo", -23.6, -46.6),
    ("Buenos Aires", -34.6, -58.4), ("Santiago", -33.4, -70.7), ("Bogotá", 4.7, -74.1),
    ("Tokyo", 35.7, 139.7), ("Osaka", 34.7, 135.5), ("Seoul", 37.6, 127.0),
    ("Taipei", 25.0, 121.5), ("Hong Kong", 22.3, 114.2), ("Singapore", 1.3, 103.8),
    ("Mumbai", 19.1, 72.9), ("Chennai", 13.1, 80.3), ("Sydney", -33.9, 151.2),
    ("Auckland", -36.8, 174.8), ("Honolulu", 21.3, -157.9), ("Guam", 13.4, 144.8),
    ("Johannesburg", -26.2, 28.0), ("Cairo", 30.0, 31.2), ("Dubai", 25.2, 55.3),
)
#: Long-haul routes between metros (by label), beyond the nearest-neighbour mesh.
LONG_HAUL = (
    ("London", "New York"), ("Paris", "Ashburn"), ("Dublin", "New York"),
    ("Lisboa", "São Paulo"), ("Los Angeles", "Tokyo"), ("San Jose", "Taipei"),
    ("Seattle", "Tokyo"), ("Los Angeles", "Sydney"), ("Honolulu", "Guam"),
    ("Los Angeles", "Honolulu"), ("Auckland", "Sydney"), ("Guam", "Taipei"),
    ("Singapore", "Mumbai"), ("Mumbai", "Dubai"), ("Dubai", "Cairo"), ("Cairo", "Athína"),
    ("Miami", "São Paulo"), ("Johannesburg", "Lisboa"), ("Reykjavík", "London"),
    ("Reykjavík", "New York"), ("Istanbul", "Dubai"),
)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(min(h, 1.0)))


def _quote(text: str) -> str:
    # GML strings cannot hold '"' or '&' raw; networkx reads HTML entities back.
    return '"' + text.replace("&", "&amp;").replace('"', "&quot;") + '"'


def generate_gml(sites: int = 750, seed: int = 1) -> str:
    """A Zoo-like GML backbone of ``sites`` PoPs (≥ the number of metros) as text."""
    rng = random.Random(seed)
    metros = METROS[:max(2, min(len(METROS), sites // 6))]
    per = [1] * len(metros)
    for _ in range(sites - len(metros)):
        per[rng.randrange(len(metros))] += 1
    nodes: list[tuple[str, float | None, float | None, int]] = []  # label, lat, lon, metro
    for m, ((label, lat, lon), count) in enumerate(zip(metros, per, strict=True)):
        for j in range(count):
            if j > 0 and rng.random() < 0.05:  # a junction without a name or a place
                nodes.append(("None", None, None, m))
                continue
            name = label if j == 0 or rng.random() < 0.1 else f"{label} {j}"
            jitter = 0.0 if j == 0 else 0.35
            nodes.append((name, lat + rng.uniform(-jitter, jitter),
                          lon + rng.uniform(-jitter, jitter), m))
    edges: list[tuple[int, int, float | None]] = []
    members: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        members.setdefault(node[3], []).append(i)
    for ring in members.values():  # each metro: a ring, a chord or two, a parallel pair
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
            if a != b:
                edges.append((a, b, rng.choice([1e10, 1e10, 1e11])))
        if len(ring) > 4:
            edges.append((ring[0], ring[len(ring) // 2], 1e11))
            edges.append((ring[0], ring[1], 1e10))  # parallel
    heads = [ring[0] for ring in members.values()]
    mesh: set[tuple[int, int]] = set()
    for m in range(len(metros)):  # each metro to its two nearest metros
        near = sorted(range(len(metros)), key=lambda o, m=m: _km(metros[m][1:], metros[o][1:]))
        mesh.update((min(m, o), max(m, o)) for o in near[1:3])
    edges.extend((heads[m], heads[o], 1e11) for m, o in sorted(mesh))
    index = {label: m for m, (label, _, _) in enumerate(metros)}
    edges.extend((heads[index[a]], heads[index[b]], 1e11) for a, b in LONG_HAUL
                 if a in index and b in index)
    for _ in range(max(1, sites // 300)):  # self-loops, as some Zoo files have
        i = rng.randrange(len(nodes))
        edges.append((i, i, None))
    lines = ["graph [", '  DateObtained "1/01/26"', '  GeoLocation "World"',
             f'  Network "Synthetic Backbone {sites}"', "  multigraph 1", '  Type "COM"']
    for i, (label, lat, lon, _m) in enumerate(nodes):
        lines.append("  node [")
        lines.append(f"    id {i}")
        lines.append(f"    label {_quote(label)}")
        lines.append("    Internal 1")
        if lat is not None and lon is not None:
            lines.append(f"    Latitude {lat:.5f}")
            lines.append(f"    Longitude {lon:.5f}")
        lines.append("  ]")
    for a, b, speed in edges:
        lines += ["  edge [", f"    source {a}", f"    target {b}"]
        if speed is not None:
            lines.append(f"    LinkSpeedRaw {speed:.1f}")
        lines.append("  ]")
    lines.append("]")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=750)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    args.output.write_text(generate_gml(args.sites, args.seed), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
