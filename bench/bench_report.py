"""End to end at scale: a 750-PoP GML backbone → `georesil import` → `georesil report`.

    python bench/bench_report.py [--sites 750] [--services 0] [--out /tmp/bench-report]

Generates the backbone (``bench/gen_backbone_gml.py``), imports it with ``--region-by
cluster:6``, optionally adds SERVICES random primary/secondary pairs, and times ``georesil
report`` (wall, CPU, peak memory) and the size of ``report.html`` (the budget: under 60 s and
1 MB for 750 sites). Prints the machine's load averages (1, 5, 15 minutes): figures on a busy
machine are not comparable with a quiet one.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

from ruamel.yaml import YAML

sys.path.insert(0, str(Path(__file__).parent))
from gen_backbone_gml import generate_gml  # noqa: E402


def _run(*args: str) -> tuple[float, float]:
    """Run ``georesil ARGS``; wall and CPU seconds of the child (peak memory: _peak_mb)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "georesil", *args], check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _peak_mb() -> float:
    """The largest resident set of any child so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _add_services(path: Path, count: int, seed: int = 1) -> None:
    yaml = YAML(typ="safe")
    doc = yaml.load(path.read_text("utf-8"))
    rng = random.Random(seed)
    located = [s["id"] for s in doc["sites"] if "location" in s]
    doc["services"] = []
    for i in range(count):
        a, b = rng.sample(located, 2)
        doc["services"].append({
            "id": f"svc-{i}", "tier": 1 if i < count // 3 + 1 else 2, "rto_s": 900,
            "rpo_s": 300, "replicas": [
                {"site": a, "role": "primary"},
                {"site": b, "role": "secondary", "replication": "async", "lag_s": 60}]})
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(doc, fh)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=750)
    parser.add_argument("--services", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-report"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    gml = args.out / "backbone.gml"
    gml.write_text(generate_gml(args.sites, seed=1), encoding="utf-8")
    topo = args.out / "backbone.yaml"
    wall, cpu = _run("import", str(gml), "--region-by", "cluster:6", "-o", str(topo))
    print(f"import: {wall:.1f} s wall, {cpu:.1f} s CPU")
    if args.services:
        _add_services(topo, args.services)
    wall, cpu = _run("report", str(topo), "-o", str(args.out / "report"))
    size = (args.out / "report" / "report.html").stat().st_size
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"report: {wall:.1f} s wall, {cpu:.1f} s CPU, peak memory {_peak_mb():.0f} MB; "
          f"report.html {size / 1e6:.2f} MB ({args.sites} sites, {args.services} services); "
          f"load average {load}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
