"""lab up / status / kill / revive / down with real server processes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from georesil.errors import InvalidInput, Unavailable
from georesil.lab import (
    LabState,
    kill_site,
    lab_clients,
    lab_down,
    lab_status,
    lab_up,
    load_state,
    revive_site,
)
from georesil.lab.lifecycle import _alive, _refused, probe
from georesil.lab.state import lab_lock, save_state
from tests.lab._topologies import lab_topology


def test_up_records_every_site_and_its_server(lab: LabState) -> None:
    """state.json records each site's (and the control plane's) loopback endpoint and a PID
    that answers as that site."""
    saved = load_state(lab.workdir)
    assert saved is not None and set(saved.sites) == {"north", "south", "control"}
    for s in saved.sites.values():
        assert s.endpoint == f"http://127.0.0.1:{s.port}" and s.up
        health = probe(s.endpoint)
        assert health == {"site": s.site, "pid": s.pid, "faults": health["faults"]}


def test_up_provisions_buckets_and_seeds_the_primary(lab: LabState) -> None:
    """Provisioning creates a bucket per replica; seeding fills only the primary's."""
    status = lab_status(lab.workdir).to_json()
    store = status["services"]["store"]
    assert set(store["buckets"]) == {"north", "south"}
    assert store["objects"] == {"north": 20, "south": 0}


def test_status_json_has_the_documented_shape(lab: LabState) -> None:
    """lab status --json: sites with endpoint, region, up; storage services' buckets per site."""
    status = lab_status(lab.workdir).to_json()
    assert set(status["services"]) == {"store"}  # the database service has no buckets
    assert status["sites"]["south"]["endpoint"] == lab.sites["south"].endpoint
    assert status["sites"]["south"]["region"] == "ap-east-2"
    assert status["sites"]["south"]["up"] is True
    assert all(isinstance(name, str) for name in status["services"]["store"]["buckets"].values())


def test_up_again_reuses_a_healthy_lab(lab: LabState) -> None:
    """A second lab up with the same topology keeps the running servers."""
    again = lab_up(lab_topology(), workdir=lab.workdir)
    assert {s: v.pid for s, v in again.sites.items()} == {s: v.pid for s, v in lab.sites.items()}


def test_kill_refuses_connections_and_revive_keeps_the_data(lab: LabState,
                                                            fast_policy: Any) -> None:
    """A killed site refuses connections; revived, it serves the data it had."""
    clients = lab_clients(lab, policy=fast_policy)
    bucket = lab_status(lab.workdir).buckets["store"]["south"]
    clients.call("south", "s3", "put_object", Bucket=bucket, Key="before-kill", Body=b"kept")
    kill_site("south", lab.workdir)
    try:
        assert _refused(lab.sites["south"].port)
        assert lab_status(lab.workdir, count_objects=False).sites["south"].up is False
        with pytest.raises(Unavailable):
            clients.call("south", "s3", "head_object", Bucket=bucket, Key="before-kill")
    finally:
        revive_site("south", lab.workdir)
    body = clients.call("south", "s3", "get_object", Bucket=bucket, Key="before-kill")["Body"]
    assert body.read() == b"kept"
    clients.call("south", "s3", "delete_object", Bucket=bucket, Key="before-kill")


def test_kill_cuts_kept_alive_connections(lab: LabState, fast_policy: Any) -> None:
    """A client holding an open connection is not served after the kill."""
    clients = lab_clients(lab, policy=fast_policy)
    clients.call("north", "s3", "list_buckets")  # opens a pooled keep-alive connection
    kill_site("north", lab.workdir)
    try:
        with pytest.raises(Unavailable):
            clients.call("north", "s3", "list_buckets")
    finally:
        revive_site("north", lab.workdir)
    assert clients.call("north", "s3", "list_buckets")["Buckets"]


def test_unknown_site_is_invalid_input(lab: LabState) -> None:
    """Killing a site the lab does not have names the lab's sites."""
    with pytest.raises(InvalidInput, match="unknown lab site 'tainan'.*north, south"):
        kill_site("tainan", lab.workdir)


def test_lock_excludes_a_concurrent_lab_command(tmp_path: Path) -> None:
    """While one command holds the lab lock, another times out with a clear message."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with lab_lock(tmp_path):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    try:
        with pytest.raises(InvalidInput, match="another `georesil lab` command"), \
                lab_lock(tmp_path, timeout_s=0.1):
            pass
    finally:
        release.set()
        thread.join()


def test_negative_seed_count_is_invalid_input(tmp_path: Path) -> None:
    """--seed-objects below zero is rejected before anything starts."""
    with pytest.raises(InvalidInput, match="--seed-objects: got -1"):
        lab_up(lab_topology(), seed_objects=-1, workdir=tmp_path)


def test_a_stale_lab_is_replaced_cleanly(bare_lab: LabState) -> None:
    """When a recorded server died, lab up stops the rest and starts a fresh lab."""
    dead, other = bare_lab.sites["north"].pid, bare_lab.sites["south"].pid
    os.kill(dead, signal.SIGKILL)
    _wait(lambda: not _alive(dead))
    fresh = lab_up(lab_topology(), workdir=bare_lab.workdir, provision=False)
    assert fresh.sites["north"].pid != dead and fresh.sites["south"].pid != other
    _wait(lambda: not _alive(other))
    assert all(probe(s.endpoint) for s in fresh.sites.values())


def test_replace_starts_new_servers(bare_lab: LabState) -> None:
    """lab up with replace=True stops a healthy lab and starts new servers."""
    fresh = lab_up(lab_topology(), workdir=bare_lab.workdir, provision=False, replace=True)
    assert {s.pid for s in fresh.sites.values()}.isdisjoint(
        {s.pid for s in bare_lab.sites.values()})


def test_down_stops_exactly_the_recorded_servers(bare_lab: LabState) -> None:
    """lab down never signals a recorded PID that is not our server (e.g. a reused PID)."""
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        state = load_state(bare_lab.workdir)
        assert state is not None
        south, north = state.sites["south"].pid, state.sites["north"].pid
        control = state.sites["control"].pid
        state.sites["north"].pid = stranger.pid
        save_state(state)
        stopped = lab_down(bare_lab.workdir)
        # The real north server is still found by its command line (ours, this lab's
        # directory); the stranger holding its recorded PID is never signalled.
        assert stopped == sorted([south, north, control]) and stranger.poll() is None
        _wait(lambda: not _alive(south) and not _alive(north) and not _alive(control))
    finally:
        stranger.kill()
        stranger.wait()
    assert load_state(bare_lab.workdir) is None


def test_down_stops_servers_of_a_start_cut_short(tmp_path: Path) -> None:
    """Servers started by a `lab up` that died before saving the lab's state are stopped."""
    from georesil.lab.lifecycle import _start_servers
    from georesil.lab.state import lab_dir

    sites = _start_servers(lab_topology(), lab_dir(tmp_path), 30.0)
    pids = sorted(s.pid for s in sites.values())
    assert load_state(tmp_path) is None and all(_alive(p) for p in pids)
    assert lab_down(tmp_path) == pids
    _wait(lambda: not any(_alive(p) for p in pids))


def test_down_without_a_lab_is_a_no_op(tmp_path: Path) -> None:
    """lab down where there is no lab stops nothing."""
    assert lab_down(tmp_path) == []


def _wait(condition: Any, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)




def test_only_sites_with_an_endpoint_or_a_replica_get_a_server() -> None:
    """A landing station with no endpoint and no replica gets no lab server."""
    from georesil.lab.lifecycle import lab_sites
    from georesil.model import topology_from_dict
    from tests.lab._topologies import lab_doc

    doc = lab_doc()
    doc["sites"].append({"id": "cls", "region": "north",
                         "location": {"lat": 25.2, "lon": 121.4}})
    doc["links"].append({"id": "l-cls", "a": "north", "b": "cls"})
    assert lab_sites(topology_from_dict(doc)) == ["north", "south"]


def test_up_on_a_lab_with_a_killed_site_revives_it(bare_lab: LabState) -> None:
    """Reusing a lab brings a killed site back, with the same server."""
    kill_site("south", bare_lab.workdir)
    again = lab_up(lab_topology(), workdir=bare_lab.workdir, provision=False)
    assert again.sites["south"].pid == bare_lab.sites["south"].pid
    assert again.sites["south"].up and probe(again.sites["south"].endpoint) is not None
