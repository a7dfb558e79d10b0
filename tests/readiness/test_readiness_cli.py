"""`georesil readiness` / `serve`: bad input is exit 2 with a message, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from georesil.errors import InvalidInput
from georesil.readiness import REGISTRY, CheckResult, CheckStatus, ReadinessReport, select_checks


def _georesil(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize(("args", "says"), [
    (["readiness"], "no lab"),
    (["readiness", "--check", "nope", "--outputs", "o.json"], "cannot read stack outputs"),
    (["readiness", "--outputs", "o.json", "--lab"], "not both"),
    (["serve", "--interval", "0s"], "--interval: got '0s'"),
    (["serve", "--interval", "soon"], "--interval: got 'soon'"),
])
def test_bad_input_is_exit_2(tmp_path: Path, args: list[str], says: str) -> None:
    done = _georesil(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_unknown_check_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as info:
        select_checks(["storage.nope"])
    assert "unknown check(s) 'storage.nope'" in str(info.value)
    assert "storage.lag" in str(info.value) and "areas: capacity, control" in str(info.value)
    assert {s.area for s in select_checks(["storage"])} == {"storage"}
    assert [s.id for s in select_checks(["dns.health"])] == ["dns.health"]
    assert len(select_checks()) == len(REGISTRY)


@pytest.mark.parametrize(("statuses", "code"), [
    ((), 0), ((CheckStatus.OK, CheckStatus.WARN, CheckStatus.SKIPPED), 0),
    ((CheckStatus.UNREACHABLE, CheckStatus.OK), 3),
    ((CheckStatus.UNREACHABLE, CheckStatus.FAIL), 1),
])
def test_exit_codes(statuses: tuple[CheckStatus, ...], code: int) -> None:
    results = tuple(CheckResult("c", s, None, None, "e") for s in statuses)
    report = ReadinessReport("t", 0.0, 0.0, results, ())
    assert report.exit_code == code
    assert json.loads(json.dumps(report.to_json()))["exit_code"] == code
    assert sum(report.counts().values()) == len(statuses)


def test_runs_are_kept_bounded_and_read_back(tmp_path: Path) -> None:
    from georesil.readiness.history import KEEP_RUNS, load_latest, load_runs, save_run

    assert load_latest(tmp_path) is None and load_runs(tmp_path) == []
    results = (CheckResult("storage.lag", CheckStatus.WARN, "s", "b", "late", "sync", 12.5),)
    for i in range(KEEP_RUNS + 3):
        save_run(ReadinessReport("t", float(i), 0.25, results, ()), tmp_path)
    latest = load_latest(tmp_path)
    assert latest is not None and latest.started_at == KEEP_RUNS + 2
    assert latest.results == results
    runs = load_runs(tmp_path)
    assert len(runs) == KEEP_RUNS and runs[0].started_at == 3.0
