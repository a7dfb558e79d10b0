"""georesil mirror verify / sync against a provisioned lab, run as a person would."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def write_fresh_object(lab: LabState) -> None:
    from georesil.lab import lab_status

    bucket = lab_status(lab.workdir, count_objects=False).buckets["store"]["north"]
    lab_clients(lab).call("north", "s3", "put_object", Bucket=bucket,
                          Key=f"fresh/{uuid.uuid4()}", Body=b"new")


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
