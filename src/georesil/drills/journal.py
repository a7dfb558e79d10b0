"""The drill journal: one JSON object per line, appended, flushed and fsynced per event.

A crash loses at most the event being written: :meth:`Journal.load` ignores a torn last line.
Every event has ``ts`` (Unix seconds, wall clock, so that a resumed run in another process
measures on the same scale), ``event`` and its own keys:

=====================  ===============================================================
event                  keys
=====================  ===============================================================
drill.started          run_id, runbook, runbook_sha256, name, mode, services, from_sites,
                       to_site, targets {rto_s, rpo_s}, predicted {rto_s, rpo_s},
                       active {service: site}, epochs {service: n}, workdir, pid
lock.acquired          service, run_id, expires_at
probe.result           phase, index, step, probe, ok, result, tolerance
step.started           phase, index, step, name, kind, safe_to_repeat
step.succeeded         phase, index, step, name, duration_s, result, active, epochs
step.failed            phase, index, step, name, duration_s, error, error_type
fault                  service, site (the moment the from-site was taken out)
cutover                service, from_site, to_site
measurement            service, what (rpo|rto), value_s, objects, bytes, method, ...
invariant.violated     services {service: [sites]}, where
drill.interrupted      reason (signal name or abort)
drill.resumed          pid, after_index
drill.finished         status, rto_s, rpo_s, rpo_objects, rpo_bytes, duration_s, split_brain
=====================  ===============================================================
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from georesil._atomic import open_private
from georesil._process import pid_alive as _alive
from georesil._read import JOURNAL, parse_json, read_text
from georesil.errors import InvalidInput

__all__ = ["Journal", "JournalView"]


class Journal:
    """An open journal file; every :meth:`append` is durable when it returns."""

    def __init__(self, path: Path, fh: IO[str]) -> None:
        self.path = path
        self._fh = fh

    @classmethod
    def create(cls, path: str | Path) -> Journal:
        """Start a new journal; refuses to overwrite an existing one."""
        path = Path(path)
        try:
            fh = open_private(path, "x", encoding="utf-8")  # closed by close()
        except FileExistsError:
            raise InvalidInput(f"{path}: a journal already exists there; choose another "
                               "--journal path or resume it with `georesil drill resume`",
                               path=str(path)) from None
        return cls(path, fh)

    @classmethod
    def reopen(cls, path: str | Path) -> Journal:
        """Continue an existing journal (resume)."""
        path = Path(path)
        return cls(path, open_private(path, "a", encoding="utf-8"))

    def append(self, event: str, *, ts: float | None = None, **fields: Any) -> dict[str, Any]:
        """Write one event durably and return it."""
        record = {"ts": time.time() if ts is None else ts, "event": event, **fields}
        self._fh.write(json.dumps(record, default=str, sort_keys=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        return record

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def load(path: str | Path) -> JournalView:
        """Read a journal back (a torn last line, from a crash mid-write, is dropped).

        Raises:
            InvalidInput: no such file, not a journal, or a corrupt line before the last.
        """
        path = Path(path)
        try:
            lines = read_text(path, JOURNAL).splitlines()
        except FileNotFoundError:
            raise InvalidInput(f"{path}: no such journal", path=str(path)) from None
        events: list[dict[str, Any]] = []
        torn = False
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                event = parse_json(line, str(path), line=number)
            except ValueError:
                if number == len(lines):
                    torn = True
                    continue
                raise InvalidInput(f"{path}:{number}: not a journal line (invalid JSON)",
                                   path=str(path), line=number) from None
            if not isinstance(event, dict):
                raise InvalidInput(f"{path}:{number}: not a journal line (JSON, but not an "
                                   "object)", path=str(path), line=number)
            events.append(event)
        if not events or events[0].get("event") != "drill.started":
            raise InvalidInput(f"{path}: not a drill journal (it does not start with "
                               "drill.started)", path=str(path))
        return JournalView(path, events, torn)


@dataclass
class JournalView:
    """A journal read back: the events and what they say about the run."""

    path: Path
    events: list[dict[str, Any]]
    torn: bool = False
    _started: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._started = self.events[0]

    @property
    def started(self) -> dict[str, Any]:
        return self._started

    @property
    def run_id(self) -> str:
        return str(self._started["run_id"])

    def of(self, event: str) -> Iterator[dict[str, Any]]:
        """Events of one kind, in order."""
        return (e for e in self.events if e.get("event") == event)

    @property
    def finished(self) -> dict[str, Any] | None:
        """The last ``drill.finished`` event, ``None`` while running or after a crash."""
        found = list(self.of("drill.finished"))
        return found[-1] if found else None

    @property
    def status(self) -> str:
        """``completed``, ``failed``, ... from ``drill.finished``; ``running`` or ``crashed``
        when there is none (``crashed`` when the recorded process is gone)."""
        if self.finished is not None:
            return str(self.finished["status"])
        pid = self.events[-1].get("pid") or self._last_pid()
        return "running" if pid and _alive(int(pid)) else "crashed"

    def _last_pid(self) -> int | None:
        pids = [e["pid"] for e in self.events if "pid" in e]
        return int(pids[-1]) if pids else None

    def completed(self, phase: str = "method") -> list[int]:
        """Indices of the steps of ``phase`` that succeeded."""
        return [int(e["index"]) for e in self.of("step.succeeded") if e.get("phase") == phase]

    def in_flight(self, phase: str = "method") -> dict[str, Any] | None:
        """The last ``step.started`` of ``phase`` with no outcome after it."""
        last = None
        for e in self.events:
            if e.get("phase") != phase:
                continue
            if e["event"] == "step.started":
                last = e
            elif e["event"] in ("step.succeeded", "step.failed") and last is not None \
                    and e["index"] == last["index"]:
                last = None
        return last

    def last_world(self) -> tuple[dict[str, str | None], dict[str, int]]:
        """Active site and register epoch per service after the last completed step."""
        active = dict(self._started.get("active", {}))
        epochs = {k: int(v) for k, v in self._started.get("epochs", {}).items()}
        for e in self.of("step.succeeded"):
            active.update(e.get("active") or {})
            epochs.update({k: int(v) for k, v in (e.get("epochs") or {}).items()})
        return active, epochs


