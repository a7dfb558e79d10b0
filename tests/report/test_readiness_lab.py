"""End to end in the lab: `georesil readiness` saves its runs, `georesil report` shows them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from georesil.lab import lab_down, lab_up
from georesil.readiness.context import lab_context
from tests.readiness.conftest import READY_DOC, ready_topology

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def georesil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", "--log-level", "error", *args],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Path]:
    """A small readiness lab (two storage sites with failover DNS) in its own directory."""
    lab_up(ready_topology(), seed_objects=0, workdir=tmp_path)
    try:
        yield tmp_path
    finally:
        lab_down(tmp_path)


def test_report_shows_the_runs_readiness_saved(lab: Path) -> None:
    """A green run, then one with versioning suspended: the report's readiness section has the
    second run's counts and failing row, and both runs in its trend."""
    first = georesil("readiness", "--json", cwd=lab)
    assert first.returncode == 0, first.stdout + first.stderr
    ctx = lab_context(lab)
    bucket = ctx.outputs.bucket("store", "south").name
    ctx.clients.call("south", "s3", "put_bucket_versioning", Bucket=bucket,
                     VersioningConfiguration={"Status": "Suspended"})
    second = georesil("readiness", "--json", cwd=lab)
    assert second.returncode == 1, second.stdout + second.stderr
    runs = [json.loads(first.stdout), json.loads(second.stdout)]

    topology = lab / "ready.yaml"
    topology.write_text(json.dumps(READY_DOC), "utf-8")  # JSON is YAML
    out = lab / "report"
    result = georesil("report", str(topology), "-o", str(out), "--format", "md,json",
                      "--trials", "0", "--years", "0", cwd=lab)
    assert result.returncode == 0, result.stderr

    ready = json.loads((out / "report.json").read_text("utf-8"))["readiness"]
    assert [r["counts"] for r in ready["runs"]] == [r["counts"] for r in runs]
    assert ready["counts"] == runs[1]["counts"] and ready["counts"]["fail"] >= 1
    failing = [(c["check"], c["evidence"], c["fix"]) for c in runs[1]["checks"]
               if c["status"] == "fail"]
    assert [(r["check"], r["evidence"], r["fix"]) for r in ready["rows"]
            if r["status"] == "fail"] == failing
    assert "storage.versioning" in {c for c, _, _ in failing}
    text = (out / "report.md").read_text("utf-8")
    section = text[text.index("Readiness: can it fail over now?"):]
    assert "storage.versioning" in section and "put-bucket-versioning" in section
    assert (out / "figures" / "readiness.svg").is_file()
