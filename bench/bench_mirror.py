"""Objects per second mirrored between two lab sites on loopback.

Usage: ``python bench/bench_mirror.py [--objects N] [--workers 1,4,8,16] [--size BYTES]``

Starts its own two-site lab in a temporary directory (stopped at the end), writes N small
objects to the primary, and times ``mirror sync`` into a fresh secondary bucket for each worker
count. Prints a table: workers, objects, seconds, objects/s, MB/s.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from georesil.lab import lab_clients, lab_down, lab_up
from georesil.mirror import sync, verify
from georesil.model import topology_from_dict

DOC = {
    "version": 1, "name": "bench",
    "sites": [
        {"id": "north", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
         "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}},
        {"id": "south", "region": "south", "location": {"lat": 23.0, "lon": 120.2},
         "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}},
    ],
    "links": [{"id": "l1", "a": "north", "b": "south"}],
    "services": [{"id": "store", "kind": "object-storage", "rto_s": 600, "rpo_s": 60,
                  "replicas": [{"site": "north", "role": "primary"},
                               {"site": "south", "role": "secondary", "replication": "async",
                                "lag_s": 5}]}],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2000)
    parser.add_argument("--workers", default="1,4,8,16")
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    topology = topology_from_dict(DOC)
    with tempfile.TemporaryDirectory() as workdir:
        state = lab_up(topology, workdir=workdir, provision=False)
        try:
            run(state, topology, args, workdir)
        finally:
            lab_down(workdir)


def run(state, topology, args, workdir) -> None:  # type: ignore[no-untyped-def]
    clients = lab_clients(state)
    names = itertools.count()

    def bucket(site: str) -> str:
        name = f"bench-{next(names)}-{site}"
        clients.call(site, "s3", "create_bucket", Bucket=name,
                     CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
        clients.call(site, "s3", "put_bucket_versioning", Bucket=name,
                     VersioningConfiguration={"Status": "Enabled"})
        return name

    source = bucket("north")
    rng = random.Random(0)
    payloads = [rng.randbytes(args.size) for _ in range(64)]
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: clients.call("north", "s3", "put_object", Bucket=source,
                                             Key=f"p{i % 10}/o{i:06d}", Body=payloads[i % 64]),
                      range(args.objects)))
    seed_s = time.perf_counter() - started
    print(f"seeded {args.objects} objects of {args.size} B in {seed_s:.1f} s "
          f"({args.objects / seed_s:.0f} puts/s, 8 threads)")
    print(f"{'workers':>7} {'objects':>8} {'seconds':>8} {'objects/s':>10} {'MB/s':>6} "
          f"{'verify s':>8}")
    for workers in (int(w) for w in args.workers.split(",")):
        buckets = {"north": source, "south": bucket("south")}
        t0 = time.perf_counter()
        result = sync(topology, "store", clients, buckets, workers=workers, workdir=workdir)
        took = time.perf_counter() - t0
        t1 = time.perf_counter()
        report = verify(topology, "store", clients, buckets)
        verify_s = time.perf_counter() - t1
        assert report.secondaries["south"].in_sync
        n = result.versions_copied
        print(f"{workers:>7} {n:>8} {took:>8.2f} {n / took:>10.0f} "
              f"{result.bytes_copied / took / 1e6:>6.2f} {verify_s:>8.2f}")


if __name__ == "__main__":
    main()
