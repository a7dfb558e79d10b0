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

from georesil.drills.journal import Journal, JournalView
from georesil.drills.safety import drills_dir
from georesil.errors import InvalidInput

__all__ = ["HISTORY_KEYS", "drill_history", "journal_paths", "summarise"]

HISTORY_KEYS = ("run_id", "runbook", "mode", "status", "started_at", "rto_s", "rpo_s",
                "rpo_objects", "rto_target_s", "rpo_target_s", "predicted_rto_s",
                "predicted_rpo_s", "split_brain")


def journal_paths(workdir: str | Path = ".") -> list[Path]:
    """Every journal known in ``workdir``, without duplicates."""
    root = drills_dir(workdir)
    found: dict[Path, None] = {}
    index = root / "index.jsonl"
    if index.exists():
        for line in index.read_text(encoding="utf-8").splitlines():
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


def drill_history(workdir: str | Path = ".") -> list[dict[str, Any]]:
    """Every run in ``workdir``, oldest first (unreadable journals are skipped)."""
    entries = []
    for path in journal_paths(workdir):
        try:
            entries.append(summarise(Journal.load(path)))
        except InvalidInput:
            continue
    return sorted(entries, key=lambda e: (e["started_at"], e["run_id"]))
