"""Produce a report end to end: run the producers, assemble, render, publish a directory.

:func:`collect_inputs` runs the analysis, the snapshot and annual simulations and reads the
drill history — the same functions behind ``georesil analyze/simulate/drill history --json``.
:func:`write_report` renders the chosen formats into a temporary directory beside the target
and moves the finished files into place only when every one of them rendered, so a failure
leaves the previous report (or nothing) — never half a report.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from georesil._atomic import write_atomic
from georesil.errors import InvalidInput
from georesil.model import Topology

__all__ = [
    "FORMATS",
    "ReportInputs",
    "check_output_dir",
    "collect_inputs",
    "parse_formats",
    "write_report",
]

log = structlog.get_logger(__name__)

#: Output format → file name.
FORMATS: dict[str, str] = {"html": "report.html", "md": "report.md", "json": "report.json"}

#: Called with a stage name ("analyze", "simulate", "years", "drills", "render").
Stage = Callable[[str], None]


@dataclass(frozen=True)
class ReportInputs:
    """The JSON outputs a report is built from (``None`` where a producer was skipped)."""

    analysis: Mapping[str, Any] | None
    simulate: Mapping[str, Any] | None
    years: Mapping[str, Any] | None
    drills: Sequence[Mapping[str, Any]] | None


def parse_formats(text: str) -> tuple[str, ...]:
    """``"html,md"`` → ``("html", "md")``.

    Raises:
        InvalidInput: an unknown or empty format list.
    """
    names = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise InvalidInput(f"--format: got {text!r}; allowed: a comma-separated list of "
                           f"{', '.join(FORMATS)}", field="format", value=text)
    return names


def collect_inputs(
    topology: Topology, *, trials: int = 1_000_000, years: int = 20_000, seed: int = 0,
    journals: Path | None = None, stage: Stage | None = None,
) -> ReportInputs:
    """Run every producer the report reads.

    Args:
        topology: The model.
        trials: Snapshot Monte Carlo trials (0 skips the snapshot simulation).
        years: Simulated years for the annual risk (0 skips it).
        seed: Seed of both simulations.
        journals: Directory of drill journals (default: ``.georesil/drills`` if it exists).
        stage: Called with each stage's name as it starts (for a progress display).
    """
    from georesil.analysis.analyze import analyze
    from georesil.risk import simulate_snapshot, simulate_years

    tell = stage or (lambda _name: None)
    if trials < 0 or years < 0:
        raise InvalidInput(f"--trials and --years must be ≥ 0; got {trials} and {years}")
    tell("analyze")
    analysis = analyze(topology).to_json()
    tell("simulate")
    snapshot = simulate_snapshot(topology, trials, seed).to_json() if trials else None
    tell("years")
    annual = simulate_years(topology, years, seed).to_json() if years else None
    tell("drills")
    return ReportInputs(analysis, snapshot, annual, drill_records(journals))


def drill_records(journals: Path | None, workdir: Path | None = None) -> list[dict[str, Any]]:
    """The drill history, as ``georesil drill history --json`` prints it.

    Args:
        journals: A directory of journals (``*.jsonl``), or a working directory holding
            ``.georesil/drills``; ``None`` reads ``WORKDIR/.georesil/drills``.
        workdir: The working directory (default: the current one).

    Raises:
        InvalidInput: ``journals`` is not a directory.
    """
    from georesil.drills.history import drill_history, summarise
    from georesil.drills.journal import Journal
    from georesil.drills.safety import drills_dir

    if journals is None:
        return drill_history(workdir or Path.cwd())
    if not journals.is_dir():
        raise InvalidInput(f"--journals: {str(journals)!r} is not a directory",
                           field="journals", value=str(journals))
    if drills_dir(journals).is_dir():
        return drill_history(journals)
    entries = []
    for path in sorted(journals.glob("*.jsonl")):
        if path.name == "index.jsonl":
            continue
        try:
            entries.append(summarise(Journal.load(path)))
        except InvalidInput:  # not a journal: skipped, as drill history does
            continue
    return sorted(entries, key=lambda e: (e["started_at"], e["run_id"]))


def write_report(
    topology: Topology, inputs: ReportInputs, out_dir: Path,
    formats: Iterable[str] = ("html", "md", "json"),
) -> dict[str, Path]:
    """Render ``formats`` into ``out_dir``; returns format → written path.

    Everything is rendered into a temporary directory beside ``out_dir`` first, then moved in.
    """
    from georesil.report.data import build_report_data
    from georesil.report.figures import render_figures

    chosen = tuple(formats)
    data = build_report_data(topology, inputs.analysis, inputs.simulate, inputs.years,
                             inputs.drills)
    figures = render_figures(data, topology) if {"html", "md"} & set(chosen) else {}
    out_dir = check_output_dir(out_dir)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
        try:
            _render_into(tmp, data, figures, chosen)
            written = _publish(tmp, out_dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise InvalidInput(f"-o {out_dir}: cannot write the report there: {exc.strerror or exc}",
                           field="out", value=str(out_dir)) from exc
    log.info("report.written", path=str(out_dir), formats=list(chosen),
             figures=len(figures), risks=len(data.risks))
    return {fmt: out_dir / FORMATS[fmt] for fmt in chosen if fmt in FORMATS} | {
        k: v for k, v in written.items() if k not in FORMATS}


def check_output_dir(out_dir: Path) -> Path:
    """Make sure a report can be written to ``out_dir`` (before any work is done).

    Raises:
        InvalidInput: it is a file, or its parent cannot be created or written to.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InvalidInput(f"-o {out_dir}: is a file; give a directory for the report",
                           field="out", value=str(out_dir))
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.check-", dir=out_dir.parent))
        probe.rmdir()
    except OSError as exc:
        raise InvalidInput(f"-o {out_dir}: cannot write the report there: {exc.strerror or exc}",
                           field="out", value=str(out_dir)) from exc
    return out_dir


def _render_into(tmp: Path, data: Any, figures: Mapping[str, Any], formats: Sequence[str]) -> None:
    from georesil.report.html import render_html
    from georesil.report.json_out import render_json
    from georesil.report.markdown import render_markdown

    if "md" in formats:
        text, files = render_markdown(data, figures)
        for rel, svg in files.items():
            write_atomic(tmp / rel, svg)
        write_atomic(tmp / FORMATS["md"], text)
    if "json" in formats:
        write_atomic(tmp / FORMATS["json"], render_json(data))
    if "html" in formats:
        write_atomic(tmp / FORMATS["html"], render_html(data, figures))


def _publish(tmp: Path, out_dir: Path) -> dict[str, Path]:
    """Move the rendered entries into ``out_dir`` (the HTML last: it is what people open)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = sorted(tmp.iterdir(), key=lambda p: (p.name == FORMATS["html"], p.name))
    written = {}
    for entry in entries:
        dest = out_dir / entry.name
        if entry.is_dir():
            old = None
            if dest.exists():
                old = out_dir / f".{entry.name}.old-{os.getpid()}"
                os.replace(dest, old)
            os.replace(entry, dest)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(entry, dest)
        written[entry.name] = dest
    return written
