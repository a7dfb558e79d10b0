"""Progress on standard error (plain lines under CI) for analyze, and the shared pieces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from georesil.cli._progress import progress
from tests.unit._risk_build import mixed


def test_analyze_progress_lines_in_ci(tmp_path: Path) -> None:
    """analyze --json under CI: progress lines on stderr only, the JSON alone on stdout."""
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(mixed().to_dict()))
    result = subprocess.run([sys.executable, "-m", "georesil", "analyze", str(path), "--json"],
                            env={**os.environ, "CI": "1"}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("analyzing: ") for line in lines)
    assert lines[-1].startswith("analyzing: 100% (")
    json.loads(result.stdout)


def test_plain_lines_every_ten_percent(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Under CI, one line per 10 % step reached, however often progress is reported."""
    monkeypatch.setenv("CI", "1")
    with progress("working", "items") as tick:
        for done in range(0, 1001, 7):
            tick(done, 1000)
        tick(1000, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[1] for line in lines] == [f"{p}%" for p in range(0, 101, 10)]


def test_quiet_without_ci(monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """Without a terminal and without CI nothing is printed."""
    monkeypatch.delenv("CI", raising=False)
    with progress("working") as tick:
        tick(5, 10)
    assert capsys.readouterr() == ("", "")
