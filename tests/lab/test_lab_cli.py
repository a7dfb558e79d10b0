"""georesil lab commands, run as separate processes like a person would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from georesil.lab import lab_down, lab_status, load_state
from tests.lab._topologies import lab_doc

_MAIN = "from georesil.cli.main import main; main()"


def georesil(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _MAIN, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cli_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A lab started by `georesil lab up` in a process that has exited."""
    workdir = tmp_path_factory.mktemp("cli-lab")
    (workdir / "topo.json").write_text(json.dumps(lab_doc()))
    done = georesil(workdir, "lab", "up", "--topology", "topo.json", "--seed-objects", "5",
                    "--json")
    assert done.returncode == 0, done.stderr
    yield workdir
    lab_down(workdir)


def test_lab_outlives_the_process_that_started_it(cli_lab: Path) -> None:
    """After `lab up` exits, its servers still answer."""
    status = lab_status(cli_lab)
    assert all(s.up for s in status.sites.values())
    assert status.objects["store"]["north"] == 5


def test_status_json_is_printed_on_stdout(cli_lab: Path) -> None:
    """`lab status --json` prints the stable document."""
    done = georesil(cli_lab, "lab", "status", "--json")
    data = json.loads(done.stdout)
    assert done.returncode == 0 and set(data) == {"sites", "services"}
    assert set(data["services"]["store"]["buckets"]) == {"north", "south"}


def test_fault_command_writes_settings_the_server_reads(cli_lab: Path) -> None:
    """`lab fault SITE --throttle 0.3 --latency-ms 5` reaches the running server; --clear undoes."""
    assert georesil(cli_lab, "lab", "fault", "south", "--throttle", "0.3", "--latency-ms",
                    "5").returncode == 0
    from georesil.lab.lifecycle import probe

    state = load_state(cli_lab)
    assert state is not None
    assert probe(state.sites["south"].endpoint)["faults"]["throttle"] == 0.3  # type: ignore[index]
    assert georesil(cli_lab, "lab", "fault", "south", "--clear").returncode == 0
    assert probe(state.sites["south"].endpoint)["faults"]["throttle"] == 0.0  # type: ignore[index]


def test_kill_and_revive_commands(cli_lab: Path) -> None:
    """`lab kill SITE` takes the site down and `lab revive SITE` brings it back."""
    assert georesil(cli_lab, "lab", "kill", "south").returncode == 0
    assert lab_status(cli_lab, count_objects=False).sites["south"].up is False
    assert georesil(cli_lab, "lab", "revive", "south").returncode == 0
    assert lab_status(cli_lab, count_objects=False).sites["south"].up is True


def test_bad_site_exits_2_with_a_message(cli_lab: Path) -> None:
    """An unknown site is bad input: exit code 2 and the known sites on stderr."""
    done = georesil(cli_lab, "lab", "kill", "nowhere")
    assert done.returncode == 2 and "lab sites: control, north, south" in done.stderr


def test_status_without_a_lab_exits_2(tmp_path: Path) -> None:
    """`lab status` where no lab exists says how to start one."""
    done = georesil(tmp_path, "lab", "status")
    assert done.returncode == 2 and "georesil lab up" in done.stderr


def test_up_on_a_running_lab_says_it_reuses_it(cli_lab: Path) -> None:
    """A second `lab up` says it reuses the lab and that a new --seed-objects is ignored."""
    pids = {s.pid for s in lab_status(cli_lab, count_objects=False).sites.values()}
    done = georesil(cli_lab, "lab", "up", "--topology", "topo.json", "--seed-objects", "9")
    assert done.returncode == 0, done.stderr
    assert f"reusing the lab in {cli_lab.resolve() / '.georesil' / 'lab'}" in done.stderr
    assert "--seed-objects 9 ignored (the lab was seeded with 5)" in done.stderr
    assert "lab down" in done.stderr
    assert {s.pid for s in lab_status(cli_lab, count_objects=False).sites.values()} == pids
