"""Benchmark ``georesil analyze`` end to end at real network sizes; prints a table.

    python bench/bench_analysis.py [--sample 200] [--repeat 1] [--only NAME] [--no-pin]

Each case is a topology written by bench/gen_topology.py (JSON, seed 1) and the command a user
runs, ``georesil analyze FILE ... --json``, timed as a fresh process pinned to one core
(``taskset -c 0``) under ``/usr/bin/time -v``: wall seconds, CPU seconds (user + system) and
peak memory. Loading is timed on its own (``load_topology(FILE)`` in a fresh process) and
reported beside it, as is the wall time without it.

The networkx reference is measured in the same run: the reference evaluator
(``analysis.reference.evaluate``) on a random sample of the failure sets of sites and links,
its time per set times the number of such sets (what a plain sweep would evaluate); the ratio
is that over the command's wall time. The sample's outcomes must agree with the compiled
kernel's on the full topology, and with the kernel's on the reduced topology of failure
classes (each set replaced by the classes it touches), which is what the command sweeps:
sum_k C(c, k) class sets for c classes, also shown (with ``--max-order 1`` every site and
link is its own class).

Targets (issue 12 item 4, issue 16 item 5, issue 17 item 5):

- 200 sites / 600 links / 20 services (mesh), ``--max-order 2``: < 2 s
- 750 / 1,000 / 20 sparse backbone, ``analyze`` (K = 2): < 10 s
- 750 / 1,000 / 20 sparse backbone, ``--max-order 3``: < 60 s
- 2,000 / 8,000 / 20, ``--max-order 1``: < 10 s
- 5,000 / 15,000 / 20, ``--max-order 1``: < 60 s
- peak memory of each < 2 GB
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from gen_topology import generate  # noqa: E402

from georesil.analysis import Status  # noqa: E402
from georesil.analysis._classes import FailureClasses, sweep_classes  # noqa: E402
from georesil.analysis._sweep import count_sets  # noqa: E402
from georesil.analysis.kernel import compile_topology, evaluate_sets, unpack  # noqa: E402
from georesil.analysis.reference import evaluate  # noqa: E402
from georesil.model import FailureSet, Topology, topology_from_dict  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    sites: int
    links: int
    shape: str
    order: int
    target_s: float


CASES = (
    Case("mesh-200", 200, 600, "mesh", 2, 2.0),
    Case("backbone-750", 750, 1000, "backbone", 2, 10.0),
    Case("backbone-750-k3", 750, 1000, "backbone", 3, 60.0),
    Case("mesh-2000", 2000, 8000, "mesh", 1, 10.0),
    Case("mesh-5000", 5000, 15000, "mesh", 1, 60.0),
)
MEMORY_LIMIT_KB = 2 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    code: int
    wall_s: float
    cpu_s: float
    peak_kb: int
    stderr_tail: str


def _timed(argv: list[str], pin: bool) -> Run:
    """Run ``argv`` under /usr/bin/time -v (on core 0 when ``pin``)."""
    prefix = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(["/usr/bin/time", "-v", *prefix, *argv], capture_output=True,
                          text=True, env=env, check=False)
    err = done.stderr

    def field(label: str) -> str:
        found = re.search(rf"{re.escape(label)}: (.+)", err)
        return found.group(1).strip() if found else "0"

    parts = [float(x) for x in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")]
    wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    tail = "\n".join(line for line in err.splitlines()
                     if not line.startswith(("\t", "Command exited")))[-300:]
    return Run(done.returncode, wall, cpu, int(field("Maximum resident set size (kbytes)")),
               tail)


def load_seconds(path: Path, pin: bool) -> float:
    """Seconds ``load_topology(path)`` takes in a fresh process (imports excluded)."""
    code = ("import time; from georesil.model import load_topology; t = time.perf_counter(); "
            f"load_topology({str(path)!r}); print(time.perf_counter() - t)")
    prefix = ["taskset", "-c", "0"] if pin and shutil.which("taskset") else []
    out = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def reference(topology: Topology, classes: FailureClasses, order: int, sample: int, seed: int
              ) -> tuple[float, int, int]:
    """(reference seconds per failure set, disagreements with the kernel, disagreements with
    the kernel on the failure classes) on a sample."""
    elements = topology.elements
    rng = random.Random(seed)
    picks = [rng.sample(elements, rng.randint(1, order)) for _ in range(sample)]
    sets = [topology.expand(p) for p in picks]
    start = time.perf_counter()
    impacts = [evaluate(topology, failure) for failure in sets]
    per_set = (time.perf_counter() - start) / sample
    reduced = classes.topology
    index = {ref: i for i, ref in enumerate(elements)}
    as_classes = [reduced.expand(reduced.elements[c] for c in
                                 {int(classes.of_element[index[ref]]) for ref in p} - {-1})
                  for p in picks]
    return (per_set, _disagreements(topology, sets, impacts),
            _disagreements(reduced, as_classes, impacts))


def _disagreements(topology: Topology, sets: list[FailureSet], impacts: list) -> int:  # type: ignore[type-arg]
    out = evaluate_sets(compile_topology(topology), sets)
    down, breach = unpack(out.down, len(sets)), unpack(out.breach, len(sets))
    bad = 0
    for t, impact in enumerate(impacts):
        for i, o in enumerate(impact.services.values()):
            bad += down[i, t] != (o.status is Status.DOWN)
            bad += breach[i, t] != (o.status is Status.BREACH)
    return bad


def run_case(case: Case, workdir: Path, args: argparse.Namespace) -> list[tuple[str, str, str,
                                                                             bool | None]]:
    doc = generate(case.sites, case.links, 20, 5, 1, case.shape)
    path = workdir / f"{case.name}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    topology = topology_from_dict(doc)
    argv = [sys.executable, "-m", "georesil", "analyze", str(path), "--max-order",
            str(case.order), "--json"]
    runs = [_timed(argv, not args.no_pin) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r.wall_s)
    load = min(load_seconds(path, not args.no_pin) for _ in range(args.repeat))
    n_sets = count_sets(len(topology.elements), case.order)
    classes = sweep_classes(topology, case.order)
    n_class_sets = count_sets(len(classes), case.order)
    if best.code != 0:  # e.g. exit 2 past --max-sets: say why, and skip the reference
        message = best.stderr_tail.strip().splitlines()[-1] if best.stderr_tail.strip() else ""
        return [(f"{case.name}: {case.sites}/{case.links}/20 {case.shape}, analyze "
                 f"--max-order {case.order} ({n_sets:,} sets)", f"exit {best.code}",
                 f"< {case.target_s:g} s", False),
                ("  " + message[:100], "", "", None)]
    per_set, bad, bad_classes = reference(topology, classes, case.order, args.sample, seed=1)
    ref_total = per_set * n_sets
    ok_time = best.wall_s < case.target_s
    label = (f"{case.name}: {case.sites}/{case.links}/20 {case.shape}, "
             f"analyze --max-order {case.order}")
    rows: list[tuple[str, str, str, bool | None]] = [
        (label, f"{best.wall_s:.2f} s", f"< {case.target_s:g} s", ok_time),
        ("  CPU (user + sys)", f"{best.cpu_s:.2f} s", "", None),
        ("  of which loading the file", f"{load:.2f} s", "", None),
        ("  wall without loading", f"{best.wall_s - load:.2f} s", "", None),
        ("  peak memory", f"{best.peak_kb / 1024:.0f} MB", "< 2048 MB",
         best.peak_kb < MEMORY_LIMIT_KB),
        (f"  class sets swept ({len(classes):,} failure classes)", f"{n_class_sets:,}", "",
         None),
        (f"  networkx reference, {n_sets:,} sets", f"{ref_total:,.0f} s", "", None),
        ("  speed-up vs the reference", f"{ref_total / best.wall_s:,.0f}x", "", None),
        (f"  kernel/reference disagreements ({args.sample} sets)", str(bad), "0", bad == 0),
        ("  same, sets as failure classes", str(bad_classes), "0", bad_classes == 0),
    ]
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=200, help="Reference sample size.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs per case (best is shown).")
    parser.add_argument("--only", action="append", help="Run only this case (repeatable).")
    parser.add_argument("--no-pin", action="store_true", help="Do not pin to one core.")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-analysis-") as tmp:
        for case in cases:
            rows += run_case(case, Path(tmp), args)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>14}  {'target':>10}  ok")
    print("-" * (width + 33))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>14}  {target:>10}  {mark}")
    return 0 if all(r[3] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
