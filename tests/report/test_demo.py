"""``georesil demo``: the whole tour in a fresh directory, under 3 minutes, nothing left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from georesil.app import DemoSettings, run_demo
from georesil.drills import load_runbook
from georesil.drills.catalog import find_runbook
from georesil.errors import InvalidInput
from georesil.lab.state import load_state

DOCS = Path(__file__).resolve().parents[2] / "docs"



def _processes_mentioning(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and int(proc.name) != os.getpid():
            found.append(int(proc.name))
    return found


@pytest.mark.slow
@pytest.mark.lab
def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    """The demo drills in the lab, prints report.html last, and leaves no server behind."""
    work = tmp_path / "demo"
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "georesil", "--log-level", "error", "demo",
                             "--dir", str(work)], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    took = time.monotonic() - start
    assert result.returncode == 0, result.stderr[-3000:]
    assert took < 180, f"demo took {took:.0f} s"
    report = Path(result.stdout.strip().splitlines()[-1])
    assert report == work / "report" / "report.html" and report.is_file()
    doc = json.loads((work / "report" / "report.json").read_text("utf-8"))
    drills = doc["drills"]
    assert [(d["runbook"], d["mode"], d["status"]) for d in drills] == [
        ("storage-failover-planned", "planned", "completed"),
        ("storage-failback", "planned", "completed"),
        ("storage-failover-unplanned", "unplanned", "completed")]
    assert drills[0]["rpo_s"] == 0
    assert drills[2]["rto_s"] is not None and drills[2]["rpo_objects"] is not None
    assert _processes_mentioning(str(work)) == []


@pytest.mark.slow
@pytest.mark.lab
def test_failed_stage_still_takes_the_lab_down(tmp_path: Path) -> None:
    """A drill stage that fails after the lab is up leaves no server process behind."""
    work = tmp_path / "demo"
    settings = DemoSettings(trials=6400, years=100, runbooks=("no-such-runbook",))
    with pytest.raises(InvalidInput, match="no runbook named 'no-such-runbook'"):
        run_demo(work, settings=settings)
    assert load_state(work) is None
    assert _processes_mentioning(str(work)) == []


def test_report_doc_names_the_site_the_unplanned_drill_kills() -> None:
    """docs/report.md says which site the demo's unplanned drill kills, as its runbook does."""
    doc = load_runbook(find_runbook(DemoSettings().runbooks[-1])).doc
    text = " ".join((DOCS / "report.md").read_text("utf-8").split())
    killed = " and ".join(f"`{site}`" for site in doc.from_sites)
    assert f"with {killed} killed mid-drill" in text
