"""The lab trusts nothing it reads back: its directory, its PIDs, its files, moto's control API."""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from georesil.errors import InvalidInput, Unavailable
from georesil.lab import (
    FaultSettings,
    LabState,
    kill_site,
    lab_clients,
    lab_down,
    lab_status,
    lab_up,
    load_state,
    moto_admin,
    probe,
    set_faults,
)
from georesil.lab.lifecycle import _alive
from georesil.lab.state import lab_dir, save_state, state_path
from tests.lab._topologies import lab_topology


@pytest.fixture
def other_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """A second bare lab in a directory of its own."""
    workdir = tmp_path_factory.mktemp("other-lab")
    state = lab_up(lab_topology(), workdir=workdir, provision=False)
    yield state
    lab_down(workdir)


def _pids(state: LabState) -> list[int]:
    return sorted(s.pid for s in state.sites.values())


def _post(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_state_pointing_at_another_lab_never_stops_that_lab(
        bare_lab: LabState, other_lab: LabState) -> None:
    """A crafted state.json naming another lab's directory and PIDs stops only our servers."""
    crafted = json.loads(state_path(bare_lab.workdir).read_text())
    crafted["workdir"] = other_lab.workdir
    crafted["sites"] = {k: {**vars(v)} for k, v in other_lab.sites.items()}
    state_path(bare_lab.workdir).write_text(json.dumps(crafted))

    with pytest.raises(Unavailable):
        kill_site("south", bare_lab.workdir)
    stopped = lab_down(bare_lab.workdir)

    assert stopped == _pids(bare_lab)  # our own servers, found by their command line
    assert all(_alive(p) for p in _pids(other_lab))
    assert all(s.up for s in lab_status(other_lab.workdir).sites.values())
    assert load_state(other_lab.workdir) is not None


def test_status_does_not_count_another_labs_server_as_ours(
        bare_lab: LabState, other_lab: LabState) -> None:
    """A recorded endpoint answering with the recorded PID is 'up' only if the server is ours."""
    state = load_state(bare_lab.workdir)
    assert state is not None
    state.sites["south"] = other_lab.sites["south"]
    save_state(state)
    sites = lab_status(bare_lab.workdir, count_objects=False).sites
    assert sites["north"].up and not sites["south"].up


def test_a_server_on_another_port_than_recorded_is_not_signalled(bare_lab: LabState) -> None:
    """PID, command line and directory match but the port does not: refuse to signal."""
    state = load_state(bare_lab.workdir)
    assert state is not None
    state.sites["south"].port = state.sites["north"].port
    save_state(state)
    with pytest.raises(Unavailable, match="no longer running"):
        kill_site("south", bare_lab.workdir)
    assert probe(bare_lab.sites["south"].endpoint) is not None  # still serving


def test_recorded_workdir_is_ignored(bare_lab: LabState, tmp_path_factory: Any) -> None:
    """The lab directory is the one the command runs in, whatever the file says."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    data = json.loads(state_path(bare_lab.workdir).read_text())
    data["workdir"] = str(elsewhere)
    state_path(bare_lab.workdir).write_text(json.dumps(data))
    state = load_state(bare_lab.workdir)
    assert state is not None and state.dir == lab_dir(bare_lab.workdir)


def test_state_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    """A FIFO in place of state.json is bad input, not a hang."""
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with pytest.raises(InvalidInput, match="not a regular file"):
        load_state(tmp_path)


def test_oversized_state_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state file above the lab-state size limit is refused before it is parsed."""
    monkeypatch.setenv("GEORESIL_MAX_LAB_STATE_BYTES", "1000")
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{" + " " * 1000 + "}")
    with pytest.raises(InvalidInput, match="1000 bytes"):
        load_state(tmp_path)


@pytest.mark.parametrize("content", ['{"version": 1, "sites": {"a": {"port": 1}}}', "[1]",
                                     '{"version": 1, "workdir": "x", "surprise": 1}'])
def test_state_of_the_wrong_shape_is_invalid_input(tmp_path: Path, content: str) -> None:
    """A state file with the wrong shape is InvalidInput naming the file, not a traceback."""
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(InvalidInput, match="state.json"):
        load_state(tmp_path)


def _modes(root: Path) -> tuple[dict[str, int], dict[str, int]]:
    """``({file: mode}, {directory: mode})`` under ``root``, ``root`` included."""
    found = [root, *root.rglob("*")]
    return ({str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
             for p in found if p.is_file()},
            {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
             for p in found if p.is_dir()})


def test_lab_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """With umask 000, .georesil/ and every directory in it are 0700, every file 0600."""
    old = os.umask(0)
    try:
        state = lab_up(lab_topology(), workdir=tmp_path, provision=False)
        try:
            set_faults("south", FaultSettings(latency_ms=1), tmp_path)
            files, dirs = _modes(tmp_path / ".georesil")
        finally:
            lab_down(tmp_path)
    finally:
        os.umask(old)
    assert {"lab/state.json", "lab/lock", "lab/admin-token", "lab/faults/south.json",
            "lab/ports/north.port", "lab/logs/north.log"} <= set(files)
    assert set(files.values()) == {0o600} and set(dirs.values()) == {0o700}
    assert state.sites  # the lab really started under umask 000


def test_moto_api_reset_without_the_admin_token_is_refused(bare_lab: LabState) -> None:
    """An unsigned POST /moto-api/reset (in any spelling) is refused; the data stays."""
    clients = lab_clients(bare_lab)
    clients.call("north", "s3", "create_bucket", Bucket="keep-me",
                 CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
    endpoint = bare_lab.sites["north"].endpoint
    for path in ("/moto-api/reset", "//moto-api/reset", "/%6Doto-api/reset",
                 "/moto-api/seed?a=42", "/MOTO-API/reset"):
        assert _post(endpoint + path) == 403, path
    assert _post(endpoint + "/moto-api/reset", {"X-Georesil-Lab-Admin": "guess"}) == 403
    names = [b["Name"] for b in clients.call("north", "s3", "list_buckets")["Buckets"]]
    assert names == ["keep-me"]


def test_moto_admin_reaches_the_control_api_with_the_token(bare_lab: LabState) -> None:
    """georesil's own admin call (with the lab's token) does reach moto's reset."""
    clients = lab_clients(bare_lab)
    clients.call("south", "s3", "create_bucket", Bucket="gone-soon",
                 CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
    moto_admin("south", "reset", bare_lab.workdir)
    assert clients.call("south", "s3", "list_buckets")["Buckets"] == []


def test_each_lab_gets_its_own_admin_token(bare_lab: LabState, other_lab: LabState) -> None:
    """One lab's token does not open another lab's control API."""
    token = (lab_dir(bare_lab.workdir) / "admin-token").read_text().strip()
    other = other_lab.sites["north"].endpoint
    assert _post(other + "/moto-api/reset", {"X-Georesil-Lab-Admin": token}) == 403
