"""``georesil report``: writes the files, refuses bad input, never leaves half a report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from georesil.model import load_topology
from georesil.report import ReportInputs, build, parse_formats, write_report
from tests.report.conftest import WHEN, readiness_runs, save_readiness_runs


def georesil(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args], capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.mark.slow
def test_report_command_writes_every_format(tmp_path: Path) -> None:
    """georesil report -o DIR writes report.html/md/json and prints their paths."""
    out = tmp_path / "rep"
    result = georesil("report", "-o", str(out), "--trials", "6400", "--years", "200",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(out / n) for n in
                                     ("report.html", "report.md", "report.json")]
    doc = json.loads((out / "report.json").read_text("utf-8"))
    assert doc["inputs"]["simulate"]["trials"] == 6400
    assert doc["inputs"]["years"]["years"] == 200
    assert "drills" in doc["missing"]  # no journals in a fresh directory
    assert "readiness" in doc["missing"] and doc["readiness"] is None  # nor readiness runs


def test_report_command_reads_saved_readiness_runs(tmp_path: Path) -> None:
    """georesil report shows the readiness runs saved in its working directory."""
    topology = load_topology()
    runs = readiness_runs(topology.name, WHEN.timestamp(), 3)
    save_readiness_runs(tmp_path, runs)
    out = tmp_path / "rep"
    result = georesil("report", "-o", str(out), "--format", "json", "--trials", "0",
                      "--years", "0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "report.json").read_text("utf-8"))
    assert [r["started_at"] for r in doc["readiness"]["runs"]] == [r.started_at for r in runs]
    assert doc["readiness"]["counts"] == runs[-1].counts()


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    """An unknown --format is bad input: exit 2 with the allowed list."""
    result = georesil("report", "-o", str(tmp_path / "x"), "--format", "html,pdf")
    assert result.returncode == 2
    assert "allowed: a comma-separated list of html, md, json" in result.stderr
    assert not (tmp_path / "x").exists()


def test_output_that_is_a_file_exits_2_before_any_work(tmp_path: Path) -> None:
    """-o naming a file is refused at once (no simulation first), exit 2, file untouched."""
    target = tmp_path / "notes.txt"
    target.write_text("keep")
    result = georesil("report", "-o", str(target), "--trials", "10000000")
    assert result.returncode == 2
    assert f"-o {target}: is a file" in result.stderr and "Traceback" not in result.stderr
    assert target.read_text() == "keep"


def test_unwritable_output_exits_2(tmp_path: Path) -> None:
    """-o under a directory that cannot be created is bad input, not an internal error."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = georesil("report", "-o", str(blocker / "rep"))
    assert result.returncode == 2
    assert "cannot write the report there" in result.stderr


def test_parse_formats_keeps_order_and_dedupes() -> None:
    """'md, HTML,md' means Markdown then HTML."""
    assert parse_formats("md, HTML,md") == ("md", "html")


def test_failure_leaves_previous_report_untouched(tmp_path: Path, bare_inputs: ReportInputs,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A renderer that fails leaves the old files as they were and no temp dir."""
    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.html").write_text("old report")

    def broken(*_args: Any) -> str:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(build, "render_html", broken)
    with pytest.raises(RuntimeError, match="renderer broke"):
        write_report(bare_inputs, out)
    assert (out / "report.html").read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_rewrite_keeps_unrelated_files(tmp_path: Path, bare_inputs: ReportInputs) -> None:
    """Writing into an existing directory replaces the report and leaves other files alone."""
    out = tmp_path / "rep"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    write_report(bare_inputs, out, ("json",))
    assert (out / "notes.txt").read_text() == "mine"
    assert json.loads((out / "report.json").read_text())["topology"] == bare_inputs.topology.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_help_imports_no_plotting() -> None:
    """Loading the CLI (and so this command) imports neither matplotlib nor jinja2."""
    code = ("import sys, georesil.cli.main; "
            "print(sorted(m for m in ('matplotlib', 'jinja2') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "[]", result.stderr
