"""Scheduled mirroring: :func:`sync` every interval, as a long-running, restartable process.

This is the replication mechanism for any replica pair that involves an S3-compatible store
(S3 replication only reaches AWS buckets). Each round is one :func:`~georesil.mirror.sync`
with the same checkpoints, so a stopped or crashed runner picks up where it left off when
started again. After every round — copied, idle or failed — the runner writes a heartbeat
(``heartbeat_at``) into each secondary's checkpoint; a round that leaves nothing behind
also sets ``last_success_at``. Readiness reads them (:func:`~georesil.mirror.read_checkpoint`).

Only one runner per service and working directory: ``.georesil/mirror/<service>/run.lock``
(an advisory ``flock``) holds the runner's PID. Stopping is the caller's: set ``stop``
between rounds; to interrupt a round, raise in the main thread (the CLI turns SIGINT and
SIGTERM into that) — the round's checkpoint is saved on the way out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

from georesil._atomic import open_private
from georesil.cloud import SiteClients
from georesil.errors import CloudError, InvalidInput
from georesil.mirror.sync import SyncResult, mark_heartbeat, sync
from georesil.mirror.verify import replica_sites
from georesil.model import Topology

__all__ = ["Round", "parse_interval", "run_every", "runner_lock"]

log = structlog.get_logger(__name__)

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


@dataclass(frozen=True)
class Round:
    """One round of a scheduled mirror."""

    number: int
    started_at: float
    duration_s: float
    result: SyncResult | None
    error: CloudError | None = None

    @property
    def keys_left(self) -> dict[str, list[str]]:
        return self.result.failed if self.result is not None else {}


def parse_interval(text: str) -> float:
    """Seconds in ``60s``, ``5m``, ``1h`` or a bare number of seconds (more than 0).

    Raises:
        InvalidInput: anything else.
    """
    match = _INTERVAL.match(text)
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if seconds <= 0:
        raise InvalidInput(f"--every: got {text!r}; allowed: a positive duration such as "
                           "'60s', '5m', '1h' or '30' (seconds)", field="every", value=text)
    return seconds


@contextlib.contextmanager
def runner_lock(workdir: str | Path, service: str) -> Iterator[Path]:
    """Hold the one-runner-per-service lock for the block.

    Raises:
        InvalidInput: another runner for ``service`` holds it (its PID is named).
    """
    path = Path(workdir) / ".georesil" / "mirror" / service / "run.lock"
    with open_private(path, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise InvalidInput(f"another `georesil mirror run {service}` (pid {holder}) is "
                               f"running in {Path(workdir).resolve()}; stop it first "
                               f"(lock {path})", path=str(path)) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield path
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def run_every(
    topology: Topology,
    service: str,
    clients: SiteClients,
    buckets: Mapping[str, str],
    *,
    every_s: float,
    stop: threading.Event,
    to: str | None = None,
    workers: int = 8,
    prune: bool = False,
    workdir: str | Path = ".",
    rounds: int | None = None,
    on_round: Callable[[Round], None] | None = None,
) -> int:
    """Mirror ``service`` every ``every_s`` seconds until ``stop`` is set (or ``rounds``).

    A round that fails with a :class:`~georesil.errors.CloudError` (a site down, access
    denied) is logged and reported through ``on_round``; the next round tries again. Rounds
    start ``every_s`` apart (a round longer than that is followed at once by the next).

    Returns:
        The number of rounds run.

    Raises:
        InvalidInput: a bad service, ``to``, ``workers`` or ``every_s``, or another runner
            holds the lock.
    """
    if every_s <= 0:
        raise InvalidInput(f"every_s: got {every_s}; must be more than 0", field="every")
    if rounds is not None and rounds < 1:
        raise InvalidInput(f"--rounds: got {rounds}; must be 1 or more", field="rounds")
    _, targets = replica_sites(topology, service, to)  # bad input is said before round one
    done = 0
    with runner_lock(workdir, service), \
            structlog.contextvars.bound_contextvars(service=service):
        log.info("mirror.run_started", every_s=every_s, sites=targets, pid=os.getpid())
        while not stop.is_set() and (rounds is None or done < rounds):
            began_wall, began = time.time(), time.monotonic()
            outcome = _one_round(topology, service, clients, buckets, to=to, workers=workers,
                                 prune=prune, workdir=workdir, number=done + 1,
                                 started_at=began_wall)
            for site in targets:
                mark_heartbeat(workdir, service, site, now=time.time())
            done += 1
            if on_round is not None:
                on_round(outcome)
            if rounds is not None and done >= rounds:
                break
            stop.wait(max(0.0, every_s - (time.monotonic() - began)))
        log.info("mirror.run_stopped", rounds=done)
    return done


def _one_round(topology: Topology, service: str, clients: SiteClients,
               buckets: Mapping[str, str], *, to: str | None, workers: int, prune: bool,
               workdir: str | Path, number: int, started_at: float) -> Round:
    began = time.monotonic()
    try:
        result = sync(topology, service, clients, buckets, to=to, workers=workers,
                      prune=prune, workdir=workdir)
    except CloudError as exc:
        log.warning("mirror.round_failed", round=number, error=str(exc),
                    site=getattr(exc, "site", None))
        return Round(number, started_at, time.monotonic() - began, None, exc)
    log.info("mirror.round_finished", round=number, versions=result.versions_copied,
             bytes=result.bytes_copied, keys_left=sum(len(k) for k in result.failed.values()),
             duration_s=round(result.duration_s, 3))
    return Round(number, started_at, time.monotonic() - began, result)
