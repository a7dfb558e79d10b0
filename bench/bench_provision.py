"""Time to provision the Taiwan reference topology into moto through the moto-backed engine.

Usage: ``python bench/bench_provision.py [--runs N] [--servers]``

In-process moto by default (``mock_aws``); ``--servers`` starts one moto server process per
region of the topology on loopback instead and sends each site there. Each run uses a fresh
stack name. The first run pays for imports and cold botocore/moto service models; the table
shows every run and the target (< 10 s). Prints: run, mode, resources, wall seconds, and the
CPU seconds of this process (threads included; moto servers' CPU is not counted) — on a
shared machine the CPU time is the figure that does not depend on the load.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack

TARGET_S = 10.0


def _start_servers(topology, stack: ExitStack) -> dict[str, str]:  # type: ignore[no-untyped-def]
    urls: dict[str, str] = {}
    for region in topology.regions:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        # The reference topology signs for private regions (tw-north-1, ...): allow them.
        env = {**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true"}
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                 "-p", str(port)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env)
        stack.callback(proc.wait, 10)
        stack.callback(proc.terminate)
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline:
                raise SystemExit(f"moto server for {region} did not start")
            time.sleep(0.1)
        urls[region] = f"http://127.0.0.1:{port}"
    return {site.id: urls[site.region] for site in topology.sites.values()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--servers", action="store_true",
                        help="one moto server process per region instead of in-process moto")
    args = parser.parse_args()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[key] = "testing"
    os.environ.pop("AWS_PROFILE", None)

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    started = time.perf_counter()
    from moto import mock_aws

    from georesil.model import load_topology
    from georesil.provision.moto_engine import provision_moto

    topology = load_topology()
    import_s = time.perf_counter() - started
    rows = []
    with ExitStack() as stack:
        endpoints = _start_servers(topology, stack) if args.servers else {}
        if not args.servers:
            stack.enter_context(mock_aws())
        mode = f"{len(set(endpoints.values()))} servers" if args.servers else "in-process"
        for run in range(1, args.runs + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            result = provision_moto(topology, endpoints, stack=f"bench{run}",
                                    in_process=not args.servers)
            rows.append((run, mode, len(result.resources), time.perf_counter() - t0,
                         time.process_time() - c0))

    print(f"topology {topology.name!r}: {len(topology.sites)} sites, "
          f"{len(topology.services)} services; imports {import_s:.2f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'run':>3}  {'mode':<11} {'resources':>9}  {'seconds':>7}  {'cpu s':>6}")
    for run, mode, count, seconds, cpu in rows:
        flag = "" if seconds < TARGET_S else f"  (over the {TARGET_S:g} s target)"
        print(f"{run:>3}  {mode:<11} {count:>9}  {seconds:>7.2f}  {cpu:>6.2f}{flag}")
    worst = max(row[3] for row in rows)
    verdict = "met" if worst < TARGET_S else "MISSED"
    print(f"worst {worst:.2f} s; target < {TARGET_S:g} s: {verdict}")


if __name__ == "__main__":
    main()
