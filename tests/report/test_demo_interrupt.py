"""Ctrl-C during `georesil demo`: the drill in flight rolls back, then the demo stops."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from georesil.app import DemoSettings, run_demo
from georesil.drills.history import drill_history
from georesil.drills.runner import PAUSE_AFTER_ENV
from georesil.errors import Interrupted
from georesil.lab.state import load_state

pytestmark = [pytest.mark.slow, pytest.mark.lab]


def _interrupt_when_a_drill_pauses(work: Path, deadline_s: float = 240.0) -> threading.Thread:
    """SIGINT to this process once a drill journal shows its first method step done."""
    def watch() -> None:
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            for journal in (work / ".georesil" / "drills").glob("*-*.jsonl"):
                if '"phase": "method"' in journal.read_text(encoding="utf-8"):
                    time.sleep(0.3)
                    os.kill(os.getpid(), signal.SIGINT)
                    return
            time.sleep(0.1)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_ctrl_c_during_a_drill_stops_the_demo(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Interrupted names the run id and a reason; no later drill, lab down, no report."""
    work = tmp_path / "demo"
    monkeypatch.setenv(PAUSE_AFTER_ENV, "1:120")  # the first drill waits after its first step
    _interrupt_when_a_drill_pauses(work)
    with pytest.raises(Interrupted) as caught:
        run_demo(work, settings=DemoSettings(trials=6400, years=100))
    history = drill_history(work)
    assert [(h["runbook"], h["status"]) for h in history] == [
        ("storage-failover-planned", "interrupted")]
    message = str(caught.value)
    assert f"(run {history[0]['run_id']}): stopped by SIGINT" in message
    assert caught.value.exit_code == 130 and "run `georesil demo` again" in message
    assert load_state(work) is None
    assert not (work / "report").exists()
