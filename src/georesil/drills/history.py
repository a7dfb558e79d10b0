"""``drill history``: past runs, read back from their journals.

Runs are found through ``.georesil/drills/index.jsonl`` (every run appends its run id and
journal path there, wherever ``--journal`` put the journal) and the journals under
``.georesil/drills/``. ``--json`` prints a list, oldest first, of objects with exactly these
keys (stable; the report reads it)::

    {"run_id", "runbook", "mode", "status", "started_at", "rto_s", "rpo_s", "rpo_objects",
     "rto_target_s", "rpo_target_s", "predicted_rto_s", "predicted_rpo_s", "split_brain"}

``runbook`` is the runbook's name; ``started_at`` ISO 8601 UTC; ``status`` one of completed,
deviated, failed, aborted, interrupted, refused — or running / crashed for a journal with no
``drill.finished``; measurements are ``null`` when not measured.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from georesil._read import JOURNAL, read_text
from georesil.drills.journal import Journal, JournalView
from georesil.drills.safety import drills_dir
from georesil.errors import InvalidInput

__all__ = ["HISTORY_KEYS", "drill_history", "find_run", "history_of_directory",
           "journal_paths", "summarise"]

HISTORY_KEYS = ("run_id", "runbook", "mode", "status", "started_at", "rto_s", "rpo_s",
                "rpo_objects", "rto_target_s", "rpo_target_s", "predicted_rto_s",
                "predicted_rpo_s", "split_brain")


def journal_paths(workdir: str | Path = ".") -> list[Path]:
    """Every journal known in ``workdir``, without duplicates."""
    root = drills_dir(workdir)
    found: dict[Path, None] = {}
    index = root / "index.jsonl"
    if index.exists():
        for line in read_text(index, JOURNAL).splitlines():
            try:
                found[Path(json.loads(line)["journal"]).resolve()] = None
            except (ValueError, KeyError):
                continue
    for path in sorted(root.glob("*.jsonl")):
        if path.name != "index.jsonl":
            found[path.resolve()] = None
    return [p for p in found if p.exists()]


def summarise(view: JournalView) -> dict[str, Any]:
    """One history entry from a journal."""
    started = view.started
    finished = view.finished or {}
    targets = started.get("targets") or {}
    predicted = started.get("predicted") or {}
    violated = any(True for _ in view.of("invariant.violated"))
    return {
        "run_id": view.run_id,
        "runbook": started.get("name"),
        "mode": started.get("mode"),
        "status": view.status,
        "started_at": datetime.fromtimestamp(float(started["ts"]), UTC).isoformat(
            timespec="seconds").replace("+00:00", "Z"),
        "rto_s": finished.get("rto_s"),
        "rpo_s": finished.get("rpo_s"),
        "rpo_objects": finished.get("rpo_objects"),
        "rto_target_s": targets.get("rto_s"),
        "rpo_target_s": targets.get("rpo_s"),
        "predicted_rto_s": predicted.get("rto_s"),
        "predicted_rpo_s": predicted.get("rpo_s"),
        "split_brain": bool(finished.get("split_brain", False) or violated),
    }


def _views(paths: list[Path]) -> list[JournalView]:
    views = []
    for path in paths:
        try:
            views.append(Journal.load(path))
        except InvalidInput:  # not a journal (or unreadable): skipped
            continue
    return views


def _history(paths: list[Path]) -> list[dict[str, Any]]:
    """Oldest first by the start time to the microsecond (``started_at`` shows seconds)."""
    views = sorted(_views(paths), key=lambda v: (float(v.started.get("ts", 0.0)), v.run_id))
    return [summarise(view) for view in views]


def drill_history(workdir: str | Path = ".") -> list[dict[str, Any]]:
    """Every run in ``workdir``, oldest first (unreadable journals are skipped)."""
    return _history(journal_paths(workdir))


def history_of_directory(directory: str | Path) -> list[dict[str, Any]]:
    """The history held in ``directory``: a working directory (its ``.georesil/drills``), or
    a directory of journals (``*.jsonl``, e.g. copied from CI).

    Raises:
        InvalidInput: ``directory`` is not a directory.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InvalidInput(f"{str(root)!r} is not a directory of drill journals",
                           path=str(root))
    if drills_dir(root).is_dir():
        return drill_history(root)
    return _history([p for p in sorted(root.glob("*.jsonl")) if p.name != "index.jsonl"])


def find_run(run_id: str, workdir: str | Path = ".") -> JournalView:
    """The journal of run ``run_id`` (a unique prefix will do) in ``workdir``.

    Raises:
        InvalidInput: no such run, or the prefix names several.
    """
    views = _views(journal_paths(workdir))
    found = [v for v in views if v.run_id == run_id] or [
        v for v in views if v.run_id.startswith(run_id)]
    if len(found) == 1:
        return found[0]
    if found:
        raise InvalidInput(f"run id {run_id!r} is ambiguous: it starts "
                           f"{', '.join(sorted(v.run_id for v in found))}; give more of it",
                           run_id=run_id)
    known = [v.run_id for v in views]
    raise InvalidInput(f"no drill run {run_id!r} in {drills_dir(workdir)}; recorded runs: "
                       f"{', '.join(known[-8:]) or 'none'} (see `georesil drill history`)",
                       run_id=run_id)
