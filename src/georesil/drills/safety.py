"""Safety: the drill lock, the split-brain invariant, and the ways to stop a drill.

- **Lock** per service: a conditional update of the service's register item
  (:mod:`georesil.drills.control`) with the owner (host and pid), the run id, its journal and
  an expiry. It succeeds when there is no lock, when the
  lock has expired (a stale lock is taken over only then), or when it is this run's own lock
  (a resumed run keeps its run id). Otherwise :class:`SafetyViolation` names the holder's run.
- **Split-brain invariant**: at every step boundary each service is active at one site at most
  in the control plane (register and parameter agree; :meth:`ControlPlane.active_sites`).
- **Stopping**: ``georesil drill abort`` writes ``.georesil/drills/abort/RUN_ID`` for running
  drills (registered under ``.georesil/drills/running/``); SIGINT and SIGTERM set a flag. The
  runner looks at both at every step boundary (and inside ``wait``), then rolls back.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from georesil._atomic import write_atomic
from georesil._process import pid_alive as _alive
from georesil._read import JOURNAL, read_text
from georesil.drills.control import ControlPlane, LockInfo
from georesil.errors import InvalidInput, SafetyViolation

__all__ = [
    "DEFAULT_LOCK_TTL_S",
    "LockInfo",
    "StopFlag",
    "abort_requested",
    "acquire_lock",
    "check_split_brain",
    "control_plane_state",
    "drills_dir",
    "holder_running",
    "owner_id",
    "read_lock",
    "register_running",
    "release_lock",
    "request_abort",
    "running_runs",
    "unregister_running",
]

#: Seconds a lock lives unless renewed; the runner renews it at every step boundary.
DEFAULT_LOCK_TTL_S = 600.0


def drills_dir(workdir: str | Path = ".") -> Path:
    """``WORKDIR/.georesil/drills``: journals, the run index, abort and running markers."""
    return (Path(workdir) / ".georesil" / "drills").resolve()


def owner_id() -> str:
    """``host:pid`` of this process, as locks record it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def read_lock(cp: ControlPlane, service: str) -> LockInfo | None:
    """The current lock on ``service``, expired or not; ``None`` when there is none."""
    return cp.read_lock(service)


def acquire_lock(cp: ControlPlane, service: str, run_id: str, *, now: float,
                 ttl_s: float = DEFAULT_LOCK_TTL_S, journal: str | None = None) -> LockInfo:
    """Take (or renew) the drill lock on ``service`` for ``run_id``.

    Raises:
        SafetyViolation: another run holds an unexpired lock; ``holder`` is its run id and
            the message names a command that works: ``drill abort`` while the holder runs,
            ``drill repair`` when its process is gone.
    """
    info = LockInfo(service, run_id, owner_id(), now + ttl_s, journal)
    if cp.try_lock(service, run_id, owner=info.owner, now=now, expires_at=info.expires_at,
                   journal=journal):
        return info
    holder = cp.read_lock(service)
    who = holder.describe() if holder else "another run"
    rid = holder.run_id if holder else "RUN_ID"
    if holder is not None and holder_running(holder):
        what = (f"wait for it to finish, or stop it with `georesil drill abort --run-id "
                f"{rid}`")
    else:
        what = (f"its process is gone: continue it with `georesil drill resume "
                f"{holder.journal}` or release the lock with `georesil drill repair {service}`"
                if holder is not None and holder.journal and _resumable(holder.journal)
                else f"its run is over: release the lock with `georesil drill repair "
                f"{service}`")
    raise SafetyViolation(f"{service}: another drill holds the lock: {who}; {what}",
                          service=service, holder=holder.run_id if holder else None)


def holder_running(lock: LockInfo) -> bool:
    """Whether the run holding ``lock`` is alive (its process, on this host, runs)."""
    host, _, pid = lock.owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another host: it cannot be checked from here, so assume it runs
    return _alive(int(pid))


def _resumable(journal: str) -> bool:
    """A journal with no ``drill.finished`` (the run crashed)."""
    try:
        text = read_text(journal, JOURNAL)
    except (OSError, UnicodeDecodeError, InvalidInput):
        return False
    return '"event": "drill.finished"' not in text


def release_lock(cp: ControlPlane, service: str, run_id: str) -> bool:
    """Release ``run_id``'s lock on ``service``; ``False`` when it was not ours (any more)."""
    return cp.release_lock(service, run_id)


def active_sites(cp: ControlPlane, services: Iterable[str]) -> dict[str, list[str]]:
    """Every site the control plane names as active, per service (sorted)."""
    return {svc: sorted(cp.active_sites(svc)) for svc in services}


def check_split_brain(cp: ControlPlane, services: Iterable[str],
                      where: str) -> dict[str, list[str]]:
    """Raise :class:`SafetyViolation` when any service is active at two sites.

    Returns:
        The active sites per service (each a one-element list when all is well).
    """
    seen = active_sites(cp, services)
    split = {svc: sites for svc, sites in seen.items() if len(sites) > 1}
    if split:
        listed = "; ".join(f"{svc} at {', '.join(map(repr, sites))}"
                           for svc, sites in split.items())
        fix = " ".join(f"`georesil drill repair {svc}`" for svc in split)
        raise SafetyViolation(
            f"split brain {where}: {listed} — two sites are active for one service in the "
            f"control plane (register and serving-site parameter disagree); make them agree "
            f"with {fix}",
            split=split, where=where, split_brain=True,
        )
    return seen


def control_plane_state(cp: ControlPlane, services: Iterable[str]) -> dict[str, Any]:
    """The exact state of each service's control-plane entry, for the record."""
    out: dict[str, Any] = {}
    for svc in services:
        record = cp.active(svc)
        lock = cp.read_lock(svc)
        out[svc] = {"register": record.site, "epoch": record.epoch, "by": record.by,
                    "parameter": cp.parameter_site(svc),
                    "lock": lock.run_id if lock else None}
    return out


# -- stopping a drill -------------------------------------------------------------------------
def register_running(workdir: str | Path, run_id: str, journal: Path) -> None:
    """Record a running drill so that ``drill abort`` can find it."""
    write_atomic(drills_dir(workdir) / "running" / f"{run_id}.json",
                 json.dumps({"run_id": run_id, "pid": os.getpid(), "journal": str(journal)}))


def unregister_running(workdir: str | Path, run_id: str) -> None:
    (drills_dir(workdir) / "running" / f"{run_id}.json").unlink(missing_ok=True)
    (drills_dir(workdir) / "abort" / run_id).unlink(missing_ok=True)


def running_runs(workdir: str | Path = ".") -> list[dict[str, Any]]:
    """Drills registered as running in ``workdir`` whose process is alive."""
    out = []
    for path in sorted((drills_dir(workdir) / "running").glob("*.json")):
        try:
            info = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if _alive(int(info.get("pid", 0))):
            out.append(info)
    return out


def request_abort(workdir: str | Path = ".", run_id: str | None = None) -> list[str]:
    """Ask running drills (all, or ``run_id``) to stop at the next step boundary.

    Returns:
        The run ids asked.

    Raises:
        InvalidInput: no drill is running (or not the one named).
    """
    running = [r["run_id"] for r in running_runs(workdir)]
    targets = [run_id] if run_id else running
    if not targets or (run_id and run_id not in running):
        what = f"drill {run_id!r}" if run_id else "drill"
        raise InvalidInput(
            f"no running {what} in {Path(workdir).resolve()}; running: "
            f"{', '.join(running) or 'none'}", run_id=run_id)
    for rid in targets:
        write_atomic(drills_dir(workdir) / "abort" / rid, "abort\n")
    return targets


def abort_requested(workdir: str | Path, run_id: str) -> bool:
    return (drills_dir(workdir) / "abort" / run_id).exists()


class StopFlag:
    """Why the drill must stop, if it must: an abort request or a signal."""

    def __init__(self, workdir: str | Path, run_id: str) -> None:
        self.workdir = workdir
        self.run_id = run_id
        self.signal_name: str | None = None
        self.event = threading.Event()

    @property
    def reason(self) -> str | None:
        """``None`` to go on, else ``abort`` or the signal's name."""
        if self.signal_name:
            return self.signal_name
        if abort_requested(self.workdir, self.run_id):
            return "abort"
        return None

    @contextmanager
    def catching_signals(self) -> Iterator[StopFlag]:
        """Turn SIGINT/SIGTERM into a stop request for the block (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return

        def handler(signum: int, _frame: Any) -> None:
            self.signal_name = signal.Signals(signum).name
            self.event.set()

        previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for s, h in previous.items():
                signal.signal(s, h)


