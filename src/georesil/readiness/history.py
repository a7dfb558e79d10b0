"""Readiness runs kept on file: the latest run and a bounded log of earlier ones.

``georesil readiness`` and ``georesil serve`` save each run under ``.georesil/readiness/``
(``latest.json``, and one line per run in ``runs.jsonl``, the newest :data:`KEEP_RUNS`);
the report shows the latest run and the trend. JSON exists here because these are files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from georesil._atomic import write_atomic
from georesil.readiness.results import CheckResult, CheckStatus, DriftItem, ReadinessReport

__all__ = ["KEEP_RUNS", "latest_path", "load_latest", "load_runs", "report_from_json",
           "save_run"]

#: How many earlier runs ``runs.jsonl`` keeps (a week of hourly runs).
KEEP_RUNS = 168


def _dir(workdir: Path) -> Path:
    return workdir / ".georesil" / "readiness"


def latest_path(workdir: Path) -> Path:
    return _dir(workdir) / "latest.json"


def save_run(report: ReadinessReport, workdir: Path) -> None:
    """Keep ``report`` as the latest run and append it to the bounded run log (atomic)."""
    data = report.to_json()
    write_atomic(latest_path(workdir), json.dumps(data, indent=1) + "\n")
    runs = [json.dumps(r.to_json()) for r in load_runs(workdir)][-(KEEP_RUNS - 1):]
    write_atomic(_dir(workdir) / "runs.jsonl", "\n".join([*runs, json.dumps(data)]) + "\n")


def load_latest(workdir: Path) -> ReadinessReport | None:
    """The latest saved run, or ``None`` when there is none (or it cannot be read)."""
    try:
        return report_from_json(json.loads(latest_path(workdir).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_runs(workdir: Path) -> list[ReadinessReport]:
    """Every saved run, oldest first (unreadable lines are skipped)."""
    try:
        lines = (_dir(workdir) / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            runs.append(report_from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return runs


def report_from_json(data: dict[str, Any]) -> ReadinessReport:
    """A report back from :meth:`ReadinessReport.to_json`."""
    results = tuple(
        CheckResult(c["check"], CheckStatus(c["status"]), c["service"], c["site"],
                    c["evidence"], c["fix"], c["value"]) for c in data["checks"])
    drift = tuple(DriftItem(d["kind"], d["resource"], d["name"], d["site"], d["detail"])
                  for d in data["drift"])
    return ReadinessReport(str(data["topology"]), float(data["started_at"]),
                           float(data["duration_s"]), results, drift)
