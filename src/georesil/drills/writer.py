"""A background writer for drills, tests and demos: an application that keeps writing.

It writes small objects to the bucket of the site the control plane names as active for its
service, checks the write-freeze flag before every write (and writes nothing while frozen),
and records every write in a ledger — ``.georesil/writer/SERVICE.jsonl``, one JSON object per
line: ``ts`` (Unix seconds, when the write was acknowledged or given up), ``key``, ``site``,
``bucket``, ``etag``, ``bytes`` and ``status``: ``acked`` (the store said yes), ``unknown``
(the connection failed mid-request: it may or may not have landed) or ``failed`` (it certainly
did not). The ledger is what an unplanned drill's RPO is measured against when the old primary
is dead (:mod:`georesil.drills.measure`).

Run it as a thread (:class:`Writer`) or a process: ``python -m georesil.drills.writer
--service model-store [--interval 0.05] [--duration 60]`` in a lab's working directory.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import structlog

from georesil._atomic import open_private, private_dir
from georesil.cloud import SiteClients, retry_policy
from georesil.drills.control import ControlPlane
from georesil.errors import CloudError, Unavailable
from georesil.lab import lab_clients, require_state
from georesil.provision.outputs import StackOutputs

__all__ = ["Writer", "WriterStats", "ledger_path"]

log = structlog.get_logger(__name__)
WRITER_PREFIX = "writer/"


def ledger_path(workdir: str | Path, service: str) -> Path:
    """Where the writer of ``service`` keeps its ledger."""
    return Path(workdir).resolve() / ".georesil" / "writer" / f"{service}.jsonl"


@dataclass
class WriterStats:
    acked: int = 0
    unknown: int = 0
    failed: int = 0
    frozen_waits: int = 0
    by_site: dict[str, int] = field(default_factory=dict)


class Writer:
    """Writes ``size``-byte objects every ``interval_s`` to the active site of ``service``.

    Args:
        clients: Per-site clients (use a single-attempt retry policy: a writer that waits 30 s
            on a dead site tells nothing).
        outputs: Stack outputs (buckets, control table).
        service: An object-storage service.
        workdir: Where the ledger lives.
    """

    def __init__(self, clients: SiteClients, outputs: StackOutputs, service: str, *,
                 workdir: str | Path = ".", interval_s: float = 0.05, size: int = 256) -> None:
        self.clients = clients
        self.outputs = outputs
        self.control = ControlPlane(clients, outputs)
        self.service = service
        self.interval_s = interval_s
        self.size = size
        self.ledger = ledger_path(workdir, service)
        self.stats = WriterStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._tag = uuid.uuid4().hex[:6]

    def start(self) -> Writer:
        private_dir(self.ledger.parent)
        self._thread = threading.Thread(target=self.run, name=f"writer-{self.service}",
                                        daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Stop after the write in progress (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout_s: float = 10.0) -> WriterStats:
        """Stop the writer thread and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        return self.stats

    def run(self, duration_s: float | None = None) -> WriterStats:
        """Write until stopped (or for ``duration_s``)."""
        deadline = None if duration_s is None else time.monotonic() + duration_s
        with open_private(self.ledger, "a", encoding="utf-8") as fh:
            while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
                entry = self.write_once()
                if entry is not None:
                    fh.write(json.dumps(entry) + "\n")
                    fh.flush()
                self._stop.wait(self.interval_s)
        return self.stats

    def write_once(self) -> dict[str, Any] | None:
        """One write (or none while frozen); returns its ledger entry."""
        try:
            if self.control.frozen(self.service):
                self.stats.frozen_waits += 1
                return None
            site = self.control.active(self.service).site
        except CloudError:
            return None  # the control plane is unreachable: an application would wait
        if site is None:
            return None
        self._seq += 1
        key = f"{WRITER_PREFIX}{self._tag}-{self._seq:08d}"
        bucket = self.outputs.bucket(self.service, site).name
        body = (key.encode() + b"\n") * max(1, self.size // (len(key) + 1))
        entry: dict[str, Any] = {"key": key, "site": site, "bucket": bucket,
                                 "bytes": len(body), "etag": None}
        try:
            got = self.clients.call(site, "s3", "put_object", Bucket=bucket, Key=key,
                                    Body=body, idempotent=False)
            entry.update(status="acked", etag=got.get("ETag"))
            self.stats.acked += 1
            self.stats.by_site[site] = self.stats.by_site.get(site, 0) + 1
        except Unavailable as exc:
            entry["status"] = "unknown" if getattr(exc, "sent", True) else "failed"
            self._count(entry["status"])
        except CloudError:
            entry["status"] = "failed"
            self._count("failed")
        entry["ts"] = time.time()
        return entry

    def _count(self, status: str) -> None:
        setattr(self.stats, status, getattr(self.stats, status) + 1)


def single_attempt_clients(workdir: str | Path = ".") -> SiteClients:
    """Lab clients that never retry and give up on a dead site quickly."""
    return lab_clients(workdir, policy=partial(retry_policy, attempts=1),
                       connect_timeout_s=1.0, read_timeout_s=5.0)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m georesil.drills.writer``: write to a lab service until stopped."""
    parser = argparse.ArgumentParser(prog="python -m georesil.drills.writer")
    parser.add_argument("--service", required=True)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--workdir", default=".")
    args = parser.parse_args(argv)
    state = require_state(args.workdir)
    writer = Writer(single_attempt_clients(args.workdir), StackOutputs(state.outputs),
                    args.service, workdir=args.workdir, interval_s=args.interval)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: writer.request_stop())
    stats = writer.run(args.duration)
    print(json.dumps({"acked": stats.acked, "unknown": stats.unknown, "failed": stats.failed,
                      "by_site": stats.by_site}))


if __name__ == "__main__":
    main()
