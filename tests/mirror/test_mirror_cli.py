"""georesil mirror verify / sync against a provisioned lab, run as a person would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from georesil.lab import FaultSettings, LabState, lab_clients, lab_down, lab_up, set_faults
from tests.lab._topologies import lab_topology

_MAIN = "from georesil.cli.main import main; main()"


def georesil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """A provisioned lab (rpo_s 0 for the store) with 30 objects at the primary."""
    workdir = tmp_path_factory.mktemp("mirror-cli")
    state = lab_up(lab_topology(), seed_objects=30, workdir=workdir)
    yield state
    lab_down(workdir)


def write_fresh_object(lab: LabState) -> str:
    from georesil.lab import lab_status

    bucket = lab_status(lab.workdir, count_objects=False).buckets["store"]["north"]
    key = f"fresh/{uuid.uuid4()}"
    lab_clients(lab).call("north", "s3", "put_object", Bucket=bucket, Key=key, Body=b"new")
    return key


def test_verify_exits_1_when_a_secondary_lags_beyond_rpo(lab: LabState) -> None:
    """verify --json reports the unreplicated writes and exits 1 past the RPO."""
    write_fresh_object(lab)
    done = georesil(Path(lab.workdir), "mirror", "verify", "store", "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr
    assert data["primary"] == "north" and data["secondaries"]["south"]["missing"] >= 1
    assert data["secondaries"]["south"]["oldest_unreplicated_age_s"] > 0


def test_sync_prints_one_summary_line_and_verify_then_passes(lab: LabState) -> None:
    """sync copies what is missing (one summary line); verify then exits 0."""
    write_fresh_object(lab)
    done = georesil(Path(lab.workdir), "mirror", "sync", "store", "--workers", "4")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mirrored store from north — south: ")
    after = georesil(Path(lab.workdir), "mirror", "verify", "store", "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["secondaries"]["south"][
        "missing"] == 0


def test_access_denied_exits_3_with_the_reason(lab: LabState) -> None:
    """A cloud error ends the command with exit code 3 and a message naming the site."""
    set_faults("south", FaultSettings(deny=1.0), lab.workdir)
    try:
        done = georesil(Path(lab.workdir), "mirror", "verify", "store")
    finally:
        set_faults("south", FaultSettings(), lab.workdir)
    assert done.returncode == 3 and "site 'south'" in done.stderr and "denied" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_service_exits_2(lab: LabState) -> None:
    """An unknown service is bad input (exit 2) naming the known services."""
    done = georesil(Path(lab.workdir), "mirror", "verify", "nosuch")
    assert done.returncode == 2 and "unknown service 'nosuch'" in done.stderr


def test_without_a_lab_or_stack_exits_2(tmp_path: Path) -> None:
    """Outside a lab and without --stack, verify says how to point it somewhere."""
    done = georesil(tmp_path, "mirror", "verify", "store")
    assert done.returncode == 2 and "georesil lab up" in done.stderr


def test_sync_with_keys_left_exits_1_and_lists_them(
        lab: LabState, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Keys a sync had to leave are listed on stderr, with what to do, and the exit is 1."""
    from georesil import mirror
    from georesil.cli.main import main
    from georesil.mirror import SiteSync, SyncResult

    def left_two(*args: object, **kwargs: object) -> SyncResult:
        site = SiteSync("south", "b", keys_planned=5, versions_copied=3,
                        failed={"a/1": "throttled", "b/2": "server error"})
        return SyncResult("store", "north", {"south": site})

    monkeypatch.setattr(mirror, "sync", left_two)
    monkeypatch.chdir(lab.workdir)
    try:
        with pytest.raises(SystemExit) as done:
            main(["mirror", "sync", "store"])
    finally:  # main() pointed structlog at this test's captured stderr, closed after it
        structlog.reset_defaults()
    err = capsys.readouterr().err
    assert done.value.code == 1
    assert "south: 2 key(s) not mirrored after their retries: a/1, b/2" in err
    assert "run `georesil mirror sync store` again" in err


def _wait_mirrored(lab: LabState, key: str, timeout_s: float = 90.0) -> None:
    from georesil.lab import lab_status
    from georesil.mirror import list_versions

    bucket = lab_status(lab.workdir, count_objects=False).buckets["store"]["south"]
    deadline = time.monotonic() + timeout_s
    while key not in list_versions(lab_clients(lab), "south", bucket):
        assert time.monotonic() < deadline, f"{key} was not mirrored in {timeout_s:g}s"
        time.sleep(0.2)


def _start_run(lab: LabState) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _MAIN, "mirror", "run", "store", "--every",
                             "0.3s", "--workers", "2"], cwd=lab.workdir, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_mirror_run_mirrors_new_writes_stops_cleanly_and_resumes(lab: LabState) -> None:
    """`mirror run --every` copies new writes; SIGTERM ends it (0), a restart goes on, and
    Ctrl-C ends it with 130 and one line saying so."""
    runner = _start_run(lab)
    try:
        _wait_mirrored(lab, write_fresh_object(lab))
        runner.send_signal(signal.SIGTERM)
        _, err = runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 0, err
    stops = [line for line in err.splitlines() if "mirror run store" in line]
    assert len(stops) == 1 and "stopped by SIGTERM after" in stops[0]

    runner = _start_run(lab)
    try:
        _wait_mirrored(lab, write_fresh_object(lab))
        runner.send_signal(signal.SIGINT)
        _, err = runner.communicate(timeout=60)
    finally:
        runner.kill()
    assert runner.returncode == 130, err
    stops = [line for line in err.splitlines() if "mirror run store" in line]
    assert len(stops) == 1 and "interrupted after" in stops[0] and "resume" in stops[0]
    assert "Traceback" not in err
    from georesil.mirror import read_checkpoint

    saved = read_checkpoint(lab.workdir, "store", "south")
    assert saved is not None and saved.heartbeat_at is not None
    assert saved.last_success_at is not None
