"""Benchmark the failure-injection analysis; prints a table.

    python bench/bench_analysis.py [--sample 300] [--repeat 3]

1. Full N-2 analysis of the bundled reference topology, end to end: ``georesil analyze --json``
   in a fresh process (interpreter start, imports, YAML parsing included). Target: < 2 s.
2. N-2 of a generated 200-site / 600-link / 20-service topology (bench/gen_topology.py, seed 1):
   every one of the ~320,000 failure sets through the compiled kernel (packing and unpacking
   included; numba's one-off start-up reported separately), against the networkx reference
   evaluator timed on a random subsample in the same run, whose outcomes must agree with the
   kernel's. Targets: >= 1000x the reference, < 2 s of compute.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from gen_topology import generate  # noqa: E402

from georesil.analysis import Status  # noqa: E402
from georesil.analysis._sweep import combinations, sweep  # noqa: E402
from georesil.analysis.kernel import compile_topology, evaluate_packed  # noqa: E402
from georesil.analysis.reference import evaluate  # noqa: E402
from georesil.model import FailureSet, Topology, topology_from_dict  # noqa: E402


def end_to_end(repeat: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``georesil analyze --json`` (N-2, bundled topology), fresh processes.

    CPU time (user + system of the child) is reported too: on a shared machine the wall time
    includes waiting for a core.
    """
    walls, cpus = [], []
    for _ in range(repeat + 1):  # the first run may write numba's or Python's caches
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "georesil", "analyze", "--json", "--max-order", "2"],
                       check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls[1:], cpus[1:]


def kernel_sweep(topology: Topology, repeat: int) -> tuple[float, float, int]:
    """(numba start-up s, best N-2 sweep s, sets) for the compiled kernel."""
    ct = compile_topology(topology)
    start = time.perf_counter()
    evaluate_packed(ct, np.zeros((ct.n_sites, 1), np.uint64), np.zeros((ct.n_links, 1), np.uint64),
                    engine="numba")
    startup = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = sweep(topology, 2)
        best = min(best, time.perf_counter() - start)
    return startup, best, sum(len(level.combos) for level in result.levels)


def reference_sample(topology: Topology, sample: int, seed: int) -> tuple[float, int]:
    """(seconds per set, disagreements) of the reference on random N-2 sets vs the kernel."""
    elements = topology.elements
    pairs = combinations(len(elements), 2)
    rng = random.Random(seed)
    picked = [pairs[i] for i in rng.sample(range(len(pairs)), sample)]
    sets = [topology.expand(elements[int(i)] for i in row) for row in picked]
    start = time.perf_counter()
    impacts = [evaluate(topology, failure) for failure in sets]
    per_set = (time.perf_counter() - start) / sample
    return per_set, _disagreements(topology, sets, impacts)


def _disagreements(topology: Topology, sets: list[FailureSet], impacts: list) -> int:  # type: ignore[type-arg]
    from georesil.analysis.kernel import evaluate_sets, unpack

    out = evaluate_sets(compile_topology(topology), sets, engine="numba")
    down = unpack(out.down, len(sets))
    breach = unpack(out.breach, len(sets))
    bad = 0
    for t, impact in enumerate(impacts):
        for i, o in enumerate(impact.services.values()):
            bad += down[i, t] != (o.status is Status.DOWN)
            bad += breach[i, t] != (o.status is Status.BREACH)
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=200, help="Reference sample size.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    e2e, e2e_cpu = end_to_end(args.repeat)
    generated = topology_from_dict(generate(200, 600, 20, 5, 1))
    startup, kernel_s, n_sets = kernel_sweep(generated, args.repeat)
    ref_per_set, bad = reference_sample(generated, args.sample, seed=1)
    ref_total = ref_per_set * n_sets
    ratio = ref_total / kernel_s

    rows = [
        ("reference topology, N-2 end to end (median)", f"{statistics.median(e2e):.2f} s",
         "< 2 s", statistics.median(e2e) < 2),
        ("  wall per run", ", ".join(f"{t:.2f}" for t in e2e) + " s", "", None),
        ("  CPU (user + sys) per run", ", ".join(f"{t:.2f}" for t in e2e_cpu) + " s", "", None),
        (f"generated 200/600/20, N-2 kernel ({n_sets:,} sets)", f"{kernel_s:.3f} s", "< 2 s",
         kernel_s < 2),
        ("  kernel per set", f"{kernel_s / n_sets * 1e6:.2f} µs", "", None),
        ("  numba start-up (once per process)", f"{startup:.2f} s", "", None),
        (f"  networkx reference per set ({args.sample} sampled)",
         f"{ref_per_set * 1e3:.2f} ms", "", None),
        ("  reference, extrapolated to all sets", f"{ref_total:.0f} s", "", None),
        ("  speed-up kernel vs reference", f"{ratio:,.0f}x", ">= 1000x", ratio >= 1000),
        ("  kernel/reference disagreements on the sample", str(bad), "0", bad == 0),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>14}  {'target':>9}  ok")
    print("-" * (width + 32))
    for name, value, target, ok in rows:
        mark = "" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<{width}}  {value:>14}  {target:>9}  {mark}")
    return 0 if all(r[3] is not False for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
