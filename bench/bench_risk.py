"""End-to-end speed of ``georesil simulate`` (load → compute → JSON), against networkx.

    python bench/bench_risk.py [--quick] [--keep DIR]

Each case writes a generated topology (``bench/gen_topology.py``, seed 1: every site in three
zones, site unavailability 2·10⁻³–3·10⁻², link unavailability up to 2·10⁻², so most trials
fail several elements) to a JSON file and times the command a user runs, in a subprocess, on
one core (``--workers 1``; numba and BLAS single-threaded; pinned to CPU 0 when ``taskset``
exists), with the default options — importance measures included:

====================  ==============================================  =======================
case                  command                                         target (issue 12)
====================  ==============================================  =======================
mesh 200/600/20       ``simulate FILE --trials 20000000 --json``      ≥ 3 M trials/s, ≥ 2,000×
backbone 750/1000     ``simulate FILE --trials 1000000 --json``       < 10 s
mesh 2000/8000        ``simulate FILE --trials 1000000 --json``       ≥ 300 k trials/s
====================  ==============================================  =======================

and peak memory < 2 GB for each (``/usr/bin/time -v`` when present, else the children's
``ru_maxrss``). The machine may be shared: wall-clock figures are printed beside the CPU time
(user + system) of the command and the load average, and the rate is given for both.

The **reference** is ``georesil.analysis.reference.evaluate`` (plain networkx), trial by trial,
on the same draws (the first trials of chunk 0), timed in this process in the same run; the
ratio is the command's trials/s over the reference's. The per-service down counts of the
reference and of the engine on those trials must be identical (asserted).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from gen_topology import generate  # noqa: E402

from georesil.analysis.impact import Status  # noqa: E402
from georesil.analysis.reference import evaluate  # noqa: E402
from georesil.model import FailureSet, Topology, topology_from_dict  # noqa: E402
from georesil.risk.chunks import draw_atoms, run_chunk  # noqa: E402
from georesil.risk.snapshot import build_snapshot, compose  # noqa: E402

SEED = 1


@dataclass(frozen=True)
class Case:
    name: str
    sites: int
    links: int
    shape: str
    trials: int
    ref_trials: int
    target: str

    def met(self, wall_rate: float, wall_s: float, ratio: float) -> bool:
        if self.sites == 200:
            return wall_rate >= 3e6 and ratio >= 2000
        if self.shape == "backbone":
            return wall_s < 10
        return wall_rate >= 3e5


CASES = [
    Case("mesh 200/600/20", 200, 600, "mesh", 20_000_000, 300, "≥ 3 M/s and ≥ 2,000×"),
    Case("backbone 750/1000", 750, 1000, "backbone", 1_000_000, 100, "< 10 s"),
    Case("mesh 2000/8000", 2000, 8000, "mesh", 1_000_000, 20, "≥ 300 k/s"),
]


def document(case: Case) -> dict[str, Any]:
    """The case's topology document (issue 12's failure model)."""
    return generate(case.sites, case.links, 20, 5, SEED, shape=case.shape)


def reference_rate(topo: Topology, n: int) -> float:
    """networkx trials/s on the first ``n`` trials of chunk 0; checks the engine's counts."""
    model = build_snapshot(topo)
    site_down, link_down = compose(model, draw_atoms(model, SEED, 0))
    sites, links = list(topo.sites), list(topo.links)
    down = np.zeros(len(topo.services), dtype=np.int64)

    def rows(words: np.ndarray, t: int) -> np.ndarray:
        return np.flatnonzero((words[:, t >> 6] >> np.uint64(t & 63)) & np.uint64(1))

    start = time.perf_counter()
    for t in range(n):
        fs = FailureSet(sites=frozenset(sites[i] for i in rows(site_down, t)),
                        links=frozenset(links[i] for i in rows(link_down, t)))
        impact = evaluate(topo, fs)
        down += [impact.services[s].status is Status.DOWN for s in topo.services]
    elapsed = time.perf_counter() - start
    engine = run_chunk(model, SEED, 0, n).down
    assert np.array_equal(engine, down), (engine, down)
    return n / elapsed


def run_command(args: list[str]) -> tuple[float, float, float, str]:
    """Wall s, CPU s (user + sys) and peak RSS MB of a command; its standard output."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    env.pop("CI", None)
    prefix = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*timer, *prefix, *args], capture_output=True, text=True, env=env,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    peak_mb = int(peak.group(1)) / 1024 if peak else after.ru_maxrss / 1024
    return wall, cpu, peak_mb, proc.stdout


def bench(case: Case, workdir: Path, quick: bool) -> dict[str, Any]:
    doc = document(case)
    path = workdir / f"{case.shape}-{case.sites}-{case.links}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    trials = case.trials // 10 if quick else case.trials
    ref = reference_rate(topology_from_dict(doc), max(10, case.ref_trials // (4 if quick else 1)))
    args = [sys.executable, "-m", "georesil", "simulate", str(path), "--trials", str(trials),
            "--json"]
    wall, cpu, peak, out = run_command(args)
    result = json.loads(out)
    assert result["trials"] == trials
    return {"case": case, "trials": trials, "wall": wall, "cpu": cpu, "peak": peak, "ref": ref,
            "importance_trials": result["importance_trials"],
            "command": f"georesil simulate {path.name} --trials {trials} --json"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials")
    parser.add_argument("--keep", type=Path, help="write the topologies here (kept)")
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-risk-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for case in CASES:
        rows.append(bench(case, workdir, args.quick))
        print(f"done {case.name}", file=sys.stderr)
    head = (f"{'case':<18} {'trials':>11} {'wall s':>7} {'CPU s':>7} {'trials/s':>10} "
            f"{'(CPU)':>10} {'ref/s':>7} {'ratio':>8} {'peak MB':>8}  target")
    print(head)
    print("-" * len(head))
    for r in rows:
        case, rate, rate_cpu = r["case"], r["trials"] / r["wall"], r["trials"] / r["cpu"]
        ratio = rate / r["ref"]
        ok = case.met(rate, r["wall"], ratio) and r["peak"] < 2048
        print(f"{case.name:<18} {r['trials']:>11,} {r['wall']:>7.2f} {r['cpu']:>7.2f} "
              f"{rate:>10,.0f} {rate_cpu:>10,.0f} {r['ref']:>7,.0f} {ratio:>7,.0f}x "
              f"{r['peak']:>8,.0f}  {case.target} + < 2 GB: {'met' if ok else 'NOT met'}")
    print("commands (default options, importance included; importance trials used): "
          + "; ".join(f"{r['command']} ({r['importance_trials']:,})" for r in rows))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          "reference = networkx per trial on the same draws (counts identical)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
