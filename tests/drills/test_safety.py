"""Drill locks, the split-brain invariant, conditional register writes, abort requests."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from georesil.drills import safety
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.errors import InvalidInput, SafetyViolation
from tests.drills._stack import promote


@pytest.fixture
def cp(env: Environment) -> ControlPlane:
    return ControlPlane(env.clients, env.outputs)


def test_lock_is_taken_when_free(cp: ControlPlane) -> None:
    """A free lock is taken and records the run id and expiry."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0, ttl_s=60)
    held = safety.read_lock(cp, "store")
    assert held is not None and (held.run_id, held.expires_at) == ("run-a", 1060.0)


def test_second_drill_is_refused_with_the_holders_run_id(cp: ControlPlane) -> None:
    """A second concurrent drill is refused and told the holder's run id."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0, ttl_s=60)
    with pytest.raises(SafetyViolation, match="run run-a") as caught:
        safety.acquire_lock(cp, "store", "run-b", now=1010.0)
    assert caught.value.holder == "run-a"


def test_stale_lock_is_taken_over_only_after_expiry(cp: ControlPlane) -> None:
    """An expired lock is taken over; an unexpired one is not."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0, ttl_s=60)
    with pytest.raises(SafetyViolation):
        safety.acquire_lock(cp, "store", "run-b", now=1059.0)
    safety.acquire_lock(cp, "store", "run-b", now=1061.0)
    assert safety.read_lock(cp, "store").run_id == "run-b"


def test_own_lock_is_renewed(cp: ControlPlane) -> None:
    """The holder (e.g. a resumed run) renews its own lock."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0, ttl_s=60)
    safety.acquire_lock(cp, "store", "run-a", now=1050.0, ttl_s=60)
    assert safety.read_lock(cp, "store").expires_at == 1110.0


def test_release_never_removes_another_runs_lock(cp: ControlPlane) -> None:
    """Releasing with the wrong run id leaves the lock in place."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0)
    assert safety.release_lock(cp, "store", "run-b") is False
    assert safety.read_lock(cp, "store").run_id == "run-a"


def test_release_frees_the_lock(cp: ControlPlane) -> None:
    """The holder's release removes the lock."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0)
    assert safety.release_lock(cp, "store", "run-a") is True
    assert safety.read_lock(cp, "store") is None


def test_consistent_control_plane_passes_the_invariant(cp: ControlPlane) -> None:
    """One active site per service passes."""
    assert safety.check_split_brain(cp, ["store", "api"], "here") == {
        "store": ["north"], "api": ["north"]}


def test_split_brain_is_detected(cp: ControlPlane, env: Environment) -> None:
    """Register and parameter naming different sites is a split brain, both sites named."""
    env.clients.call("north", "ssm", "put_parameter", Name=env.outputs.parameter_name("store"),
                     Value="south", Type="String", Overwrite=True)
    with pytest.raises(SafetyViolation, match="split brain before step 'x'") as caught:
        safety.check_split_brain(cp, ["store"], "before step 'x'")
    assert caught.value.split == {"store": ["north", "south"]}


def _locked(cp: ControlPlane, run_id: str, now: float = 1000.0) -> float:
    safety.acquire_lock(cp, "store", run_id, now=now)
    return now


def test_set_active_moves_register_and_parameter(cp: ControlPlane) -> None:
    """A conditional write moves the register, and the parameter follows."""
    cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=_locked(cp, "run-a"))
    assert (cp.active("store").site, cp.active("store").epoch) == ("south", 1)
    assert cp.parameter_site("store") == "south"


def test_set_active_needs_the_lock(cp: ControlPlane) -> None:
    """A run that does not hold the service's lock cannot promote; nothing changes."""
    _locked(cp, "holder")
    with pytest.raises(SafetyViolation, match="does not hold the drill lock"):
        cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=1001.0)
    assert cp.active_sites("store") == {"north"} and cp.active("store").epoch == 0


def test_set_active_refuses_after_the_lock_expired(cp: ControlPlane) -> None:
    """A lock that expired (the run lost it) does not allow a promotion."""
    safety.acquire_lock(cp, "store", "run-a", now=1000.0, ttl_s=10)
    with pytest.raises(SafetyViolation, match="does not hold the drill lock"):
        cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=1011.0)
    assert cp.active("store").site == "north"


def test_set_active_fails_when_someone_else_changed_it(cp: ControlPlane) -> None:
    """The write is refused when the epoch moved under the drill."""
    promote(cp, "store", "south", "someone")
    with pytest.raises(SafetyViolation, match="changed by someone"):
        cp.set_active("store", "north", expect_epoch=0, run_id="run-a",
                      now=_locked(cp, "run-a", time.time()))


def test_set_active_is_idempotent_for_its_own_run(cp: ControlPlane) -> None:
    """Repeating the run's own write changes nothing (epoch stays)."""
    now = _locked(cp, "run-a")
    cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=now)
    again = cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=now)
    assert again.epoch == 1 and cp.active("store").epoch == 1


def test_set_active_undoes_its_own_write(cp: ControlPlane) -> None:
    """A rollback that never learned its promotion landed (stale epoch) still undoes it."""
    now = _locked(cp, "run-a")
    cp.set_active("store", "south", expect_epoch=0, run_id="run-a", now=now)
    back = cp.set_active("store", "north", expect_epoch=0, run_id="run-a", now=now,
                         expect_site="north")
    assert (back.site, back.epoch) == ("north", 2) and cp.active_sites("store") == {"north"}


def test_set_active_checks_the_expected_site(cp: ControlPlane) -> None:
    """``expect_site`` that does not match is refused."""
    with pytest.raises(SafetyViolation, match="expected epoch 0 at 'south'"):
        cp.set_active("store", "north", expect_epoch=0, run_id="r", now=_locked(cp, "r"),
                      expect_site="south")


def test_abort_with_nothing_running_says_so(tmp_path: Path) -> None:
    """``drill abort`` with no running drill is bad input that names the directory."""
    with pytest.raises(InvalidInput, match="no running drill"):
        safety.request_abort(tmp_path)


def test_abort_request_reaches_the_running_drill(tmp_path: Path) -> None:
    """An abort request is seen by the named run's stop flag, not by others."""
    safety.register_running(tmp_path, "run-a", tmp_path / "j.jsonl")
    assert safety.request_abort(tmp_path) == ["run-a"]
    assert safety.StopFlag(tmp_path, "run-a").reason == "abort"
    assert safety.StopFlag(tmp_path, "run-b").reason is None


def test_abort_of_unknown_run_is_refused(tmp_path: Path) -> None:
    """Naming a run that is not running lists the ones that are."""
    safety.register_running(tmp_path, "run-a", tmp_path / "j.jsonl")
    with pytest.raises(InvalidInput, match="running: run-a"):
        safety.request_abort(tmp_path, "run-zz")


def test_refusal_names_a_command_that_works(cp: ControlPlane, tmp_path: Path) -> None:
    """The refusal says what works: resume a crashed holder (or repair), repair a finished
    one's orphaned lock, abort a live one."""
    crashed = tmp_path / "crashed.jsonl"
    crashed.write_text('{"event": "drill.started", "run_id": "run-a"}\n')
    dead = f"{socket.gethostname()}:{2**22 + 7}"  # beyond pid_max on Linux: no such process
    cp.try_lock("store", "run-a", owner=dead, now=1000.0, expires_at=1600.0,
                journal=str(crashed))
    with pytest.raises(SafetyViolation, match=f"drill resume {crashed}.*drill repair store"):
        safety.acquire_lock(cp, "store", "run-b", now=1010.0)
    crashed.write_text(crashed.read_text() + '{"event": "drill.finished"}\n')
    with pytest.raises(SafetyViolation, match="run is over: release the lock with "
                       "`georesil drill repair store`"):
        safety.acquire_lock(cp, "store", "run-b", now=1010.0)
    cp.try_lock("store", "run-a", owner=safety.owner_id(), now=1000.0, expires_at=1600.0,
                journal=str(crashed))
    with pytest.raises(SafetyViolation, match="drill abort --run-id run-a"):
        safety.acquire_lock(cp, "store", "run-b", now=1010.0)
