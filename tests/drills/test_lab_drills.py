"""Drills against the lab: real moto server processes per site, real outages, real processes.

One lab (session fixture) serves every test; each test starts from the topology's own
primaries (``reset_world``).
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from georesil.drills.context import DrillContext
from georesil.drills.control import ControlPlane
from georesil.drills.journal import Journal
from georesil.drills.probes import ServingSiteArgs, dns_serving_site
from georesil.drills.resume import resume_drill
from georesil.drills.runbook import Mode
from georesil.drills.runner import KILL_AFTER_ENV, PAUSE_AFTER_ENV, run_drill
from georesil.drills.writer import Writer, ledger_path, single_attempt_clients
from georesil.lab import FaultSettings, revive_site, set_faults
from georesil.mirror import list_versions, sync
from tests.drills._lab import (
    RUNBOOKS,
    drill_process,
    fast_env,
    reset_world,
    shipped,
    succeeded,
    wait_for_event,
)

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.fixture
def lab(drill_lab: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shared lab, reset to the topology's primaries, as the working directory."""
    monkeypatch.chdir(drill_lab)
    reset_world(fast_env(drill_lab), drill_lab)
    yield drill_lab


def _writer(lab: Path, service: str) -> Writer:
    from georesil.lab import require_state
    from georesil.provision.outputs import StackOutputs

    state = require_state(lab)
    ledger_path(lab, service).unlink(missing_ok=True)
    return Writer(single_attempt_clients(lab), StackOutputs(state.outputs), service,
                  workdir=lab, interval_s=0.02)


def test_planned_failover_loses_nothing_while_a_writer_writes(lab: Path) -> None:
    """Planned failover with a live writer: completed, RPO 0, RTO measured, writes follow."""
    env = fast_env(lab)
    writer = _writer(lab, "model-store").start()
    try:
        run = run_drill(shipped("storage-failover-planned.yaml", env), env, workdir=lab)
        writer.write_once()
    finally:
        stats = writer.stop()
    assert run.status == "completed", run.error
    assert (run.summary["rpo_objects"], run.summary["rpo_s"]) == (0, 0)
    assert 0 < run.summary["rto_s"] < 60
    assert stats.by_site.get("taipei-neihu", 0) > 0 and stats.by_site.get("tainan-ngcc", 0) > 0


def test_failback_returns_the_store_to_taipei(lab: Path) -> None:
    """After a planned failover the failback runbook brings the store home with RPO 0."""
    env = fast_env(lab)
    assert run_drill(shipped("storage-failover-planned.yaml", env), env,
                     workdir=lab).status == "completed"
    back = run_drill(shipped("storage-failback.yaml", env), env, workdir=lab)
    assert back.status == "completed" and back.summary["rpo_objects"] == 0
    assert ControlPlane(env.clients, env.outputs).active_sites("model-store") == {
        "taipei-neihu"}


def test_unplanned_rpo_is_what_really_was_not_replicated(lab: Path) -> None:
    """Taoyuan killed while a writer writes: recovered on Tainan, RPO = the unreplicated."""
    env = fast_env(lab)
    buckets = {s: b.name for s, b in env.outputs.buckets("dataset-store").items()}
    writer = _writer(lab, "dataset-store").start()
    try:
        time.sleep(0.5)  # let the writer write
        sync(env.topology, "dataset-store", env.clients, buckets, workdir=lab)
        time.sleep(0.5)  # these writes are not replicated
        run = run_drill(shipped("storage-failover-unplanned.yaml", env,
                                service="dataset-store", **{"from": "taoyuan-dc"}),
                        env, workdir=lab)
    finally:
        writer.stop()
        revive_site("taoyuan-dc", lab)
    assert run.status == "completed", run.error
    old = set(list_versions(env.clients, "taoyuan-dc", buckets["taoyuan-dc"], "writer/"))
    new = set(list_versions(env.clients, "tainan-ngcc", buckets["tainan-ngcc"], "writer/"))
    ledger = [json.loads(x) for x in ledger_path(lab, "dataset-store").read_text().splitlines()]
    acked = {e["key"] for e in ledger if e["site"] == "taoyuan-dc" and e["status"] == "acked"}
    unknown = {e["key"] for e in ledger if e["site"] == "taoyuan-dc" and e["status"] == "unknown"}
    rpo = run.rpo["dataset-store"]
    assert rpo.method == "writer-ledger"
    assert rpo.objects == len((old - new) & acked) > 0
    assert (old - new) <= acked | unknown
    assert rpo.rpo_s is not None and rpo.rpo_s > 0


def test_throttling_on_a_share_of_requests_is_retried(lab: Path) -> None:
    """With 30 % of requests throttled at both sites the drill completes, retries logged."""
    env = fast_env(lab, attempts=12)
    for site in ("taipei-neihu", "tainan-ngcc"):
        set_faults(site, FaultSettings(throttle=0.3, seed=7), lab)
    try:
        with capture_logs() as logs:
            run = run_drill(shipped("storage-failover-planned.yaml", env), env, workdir=lab)
    finally:
        for site in ("taipei-neihu", "tainan-ngcc"):
            set_faults(site, FaultSettings(), lab)
    assert run.status == "completed", run.error
    assert any(e["event"] == "retry.scheduled" for e in logs)


def test_resume_after_sigkill_completes_without_split_brain(lab: Path) -> None:
    """The drill process SIGKILLed after its switch; resume finishes, one active site."""
    journal = lab / "killed.jsonl"
    journal.unlink(missing_ok=True)
    proc = drill_process(lab, "run", str(RUNBOOKS / "storage-failover-planned.yaml"), "--yes",
                         "--journal", str(journal), env={KILL_AFTER_ENV: "4"})
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert Journal.load(journal).status == "crashed"
    env = fast_env(lab)
    run = resume_drill(journal, env)
    assert run.status == "completed", run.error
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("model-store") == {"tainan-ngcc"} and not run.split_brain
    assert cp.frozen("model-store") is False


def test_second_concurrent_drill_is_refused_with_the_holders_run_id(lab: Path) -> None:
    """While one drill runs (paused, lock held) a second one is refused, naming it."""
    journal = lab / "first.jsonl"
    journal.unlink(missing_ok=True)
    first = drill_process(lab, "run", str(RUNBOOKS / "storage-failover-planned.yaml"), "--yes",
                          "--journal", str(journal), env={PAUSE_AFTER_ENV: "1:60"})
    try:
        holder = wait_for_event(journal, succeeded("freeze-writes"))
        env = fast_env(lab)
        second = run_drill(shipped("storage-failover-planned.yaml", env), env, workdir=lab)
        run_id = Journal.load(journal).run_id
        assert second.status == "refused" and run_id in (second.error or "")
        assert holder
    finally:
        drill_process(lab, "abort").communicate(timeout=60)
        first.communicate(timeout=120)


def test_abort_from_another_process_rolls_back_to_the_start(lab: Path) -> None:
    """`drill abort` from another shell stops the drill at a step boundary; rollback heals."""
    journal = lab / "aborted.jsonl"
    journal.unlink(missing_ok=True)
    proc = drill_process(lab, "run", str(RUNBOOKS / "storage-failover-planned.yaml"), "--yes",
                         "--journal", str(journal), env={PAUSE_AFTER_ENV: "5:60"})
    wait_for_event(journal, succeeded("point-dns-at-to-site"))
    aborter = drill_process(lab, "abort")
    assert aborter.communicate(timeout=60)[0].startswith("abort requested")
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "drill.finished run_id=" in out and "status=aborted" in out
    assert Journal.load(journal).status == "aborted"
    env = fast_env(lab)
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("model-store") == {"taipei-neihu"}
    assert cp.frozen("model-store") is False
    ctx = DrillContext(env, "check", ("model-store",), {}, "taipei-neihu", Mode.TEST, lab)
    assert dns_serving_site(ctx, ServingSiteArgs())["value"] == "taipei-neihu"


def test_sigterm_marks_the_run_interrupted_and_rolls_back(lab: Path) -> None:
    """SIGTERM to the drill process: journal says interrupted, the rollback restores."""
    journal = lab / "terminated.jsonl"
    journal.unlink(missing_ok=True)
    proc = drill_process(lab, "run", str(RUNBOOKS / "storage-failover-planned.yaml"), "--yes",
                         "--journal", str(journal), env={PAUSE_AFTER_ENV: "4:60"})
    wait_for_event(journal, succeeded("switch-active-site"))
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    view = Journal.load(journal)
    assert view.status == "interrupted"
    assert next(view.of("drill.interrupted"))["reason"] == "SIGTERM"
    env = fast_env(lab)
    assert ControlPlane(env.clients, env.outputs).active_sites("model-store") == {
        "taipei-neihu"}


@pytest.mark.parametrize("name", ["dns-failover.yaml", "north-evacuation.yaml"])
def test_shipped_runbook_runs_in_the_lab(lab: Path, name: str) -> None:
    """The DNS failover and the north evacuation complete as shipped."""
    env = fast_env(lab)
    run = run_drill(shipped(name, env), env, workdir=lab)
    assert run.status == "completed", run.error
    assert run.summary["rto_s"] is not None and not run.split_brain


def test_history_json_lists_the_runs(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`drill history --json` is a list of entries with the documented keys."""
    from georesil.cli.main import main
    from georesil.drills.history import HISTORY_KEYS

    with pytest.raises(SystemExit) as caught:
        main(["drill", "history", "--json"])
    entries = json.loads(capsys.readouterr().out)
    assert caught.value.code == 0 and entries
    assert all(tuple(e) == HISTORY_KEYS for e in entries)
