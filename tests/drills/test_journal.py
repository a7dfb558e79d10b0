"""The journal: durable appends, reading back after a crash, what it says about the run."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from georesil.drills.journal import Journal
from georesil.errors import InvalidInput


def _journal(path: Path) -> Journal:
    j = Journal.create(path)
    j.append("drill.started", ts=1.0, run_id="r1", pid=os.getpid(),
             active={"store": "north"}, epochs={"store": 0})
    return j


def test_events_read_back_in_order(tmp_path: Path) -> None:
    """Appended events load back in order with their keys."""
    with _journal(tmp_path / "j.jsonl") as j:
        j.append("step.started", ts=2.0, phase="method", index=0, step="a")
    view = Journal.load(tmp_path / "j.jsonl")
    assert [e["event"] for e in view.events] == ["drill.started", "step.started"]
    assert view.run_id == "r1"


def test_each_event_is_on_disk_when_append_returns(tmp_path: Path) -> None:
    """An event is readable from the file before the journal is closed."""
    j = _journal(tmp_path / "j.jsonl")
    j.append("step.started", phase="method", index=0, step="a")
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    j.close()
    assert json.loads(lines[-1])["event"] == "step.started"


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    """A half-written last line (crash mid-write) is dropped, and flagged."""
    _journal(tmp_path / "j.jsonl").close()
    with open(tmp_path / "j.jsonl", "a") as fh:
        fh.write('{"event": "step.sta')
    view = Journal.load(tmp_path / "j.jsonl")
    assert view.torn and len(view.events) == 1


def test_corrupt_line_before_the_end_is_an_error(tmp_path: Path) -> None:
    """Garbage in the middle is reported with its line number."""
    path = tmp_path / "j.jsonl"
    _journal(path).close()
    path.write_text(path.read_text() + "garbage\n" + '{"event": "x", "ts": 1}\n')
    with pytest.raises(InvalidInput, match=r"j.jsonl:2: not a journal line"):
        Journal.load(path)


def test_a_journal_must_start_with_drill_started(tmp_path: Path) -> None:
    """Any other JSON-lines file is refused."""
    (tmp_path / "x.jsonl").write_text('{"event": "other", "ts": 1}\n')
    with pytest.raises(InvalidInput, match="not a drill journal"):
        Journal.load(tmp_path / "x.jsonl")


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    """An existing journal is never overwritten."""
    _journal(tmp_path / "j.jsonl").close()
    with pytest.raises(InvalidInput, match="already exists"):
        Journal.create(tmp_path / "j.jsonl")


def test_step_in_flight_is_found(tmp_path: Path) -> None:
    """A step started with no outcome is in flight; completed steps are listed."""
    with _journal(tmp_path / "j.jsonl") as j:
        j.append("step.started", phase="method", index=0, step="a")
        j.append("step.succeeded", phase="method", index=0, step="a")
        j.append("step.started", phase="method", index=1, step="b")
    view = Journal.load(tmp_path / "j.jsonl")
    assert view.completed() == [0]
    assert view.in_flight()["index"] == 1


def test_last_world_follows_completed_steps(tmp_path: Path) -> None:
    """The world after the last completed step overrides the starting one."""
    with _journal(tmp_path / "j.jsonl") as j:
        j.append("step.succeeded", phase="method", index=0, active={"store": "south"},
                 epochs={"store": 1})
    assert Journal.load(tmp_path / "j.jsonl").last_world() == ({"store": "south"},
                                                               {"store": 1})


def test_unfinished_journal_of_a_dead_process_is_crashed(tmp_path: Path) -> None:
    """No drill.finished and no live process: the status is crashed."""
    path = tmp_path / "j.jsonl"
    with Journal.create(path) as j:
        j.append("drill.started", run_id="r1", pid=2**22 + 12345)
    assert Journal.load(path).status == "crashed"


def test_finished_status_comes_from_drill_finished(tmp_path: Path) -> None:
    """The status of a finished run is the one it recorded."""
    with _journal(tmp_path / "j.jsonl") as j:
        j.append("drill.finished", status="completed")
    assert Journal.load(tmp_path / "j.jsonl").status == "completed"


def test_journal_is_private_whatever_the_umask(tmp_path: Path) -> None:
    """Under umask 000 a journal in .georesil/drills is 0600 in 0700 directories."""
    path = tmp_path / ".georesil" / "drills" / "j.jsonl"
    old = os.umask(0)
    try:
        _journal(path).close()
        Journal.reopen(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".georesil").stat().st_mode) == 0o700
