"""Render a report and publish it as a directory.

:func:`write_report` takes typed :class:`~georesil.report.inputs.ReportInputs` (collected by
:func:`georesil.app.collect_inputs`), renders the chosen formats into a temporary directory
beside the target and moves the finished files into place only when every one of them
rendered, so a failure leaves the previous report (or nothing) — never half a report.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import structlog

from georesil._atomic import write_atomic
from georesil.errors import InvalidInput
from georesil.report.data import ReportData, build_report_data
from georesil.report.figures import ReportFigure, render_figures
from georesil.report.html import render_html
from georesil.report.inputs import ReportInputs
from georesil.report.json_out import render_json
from georesil.report.markdown import render_markdown

__all__ = [
    "FORMATS",
    "check_output_dir",
    "parse_formats",
    "write_report",
]

log = structlog.get_logger(__name__)

#: Output format → file name.
FORMATS: dict[str, str] = {"html": "report.html", "md": "report.md", "json": "report.json"}




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


def write_report(
    inputs: ReportInputs, out_dir: Path, formats: Iterable[str] = ("html", "md", "json"), *,
    generated_at: dt.datetime | None = None,
) -> dict[str, Path]:
    """Render ``formats`` into ``out_dir``; returns format → written path.

    Everything is rendered into a temporary directory beside ``out_dir`` first, then moved in.

    Raises:
        InvalidInput: ``out_dir`` cannot be written.
    """
    chosen = tuple(formats)
    data = build_report_data(inputs, generated_at=generated_at)
    figures = render_figures(data, inputs.topology) if {"html", "md"} & set(chosen) else {}
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


def _render_into(tmp: Path, data: ReportData, figures: Mapping[str, ReportFigure],
                 formats: Sequence[str]) -> None:
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
    written: dict[str, Path] = {}
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
