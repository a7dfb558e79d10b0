"""The runner against an in-process moto stack: phases, measurements, safety, resume."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from georesil.drills import parse_runbook
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.drills.history import HISTORY_KEYS, drill_history
from georesil.drills.journal import Journal
from georesil.drills.resume import resume_drill
from georesil.drills.runner import run_drill
from georesil.drills.safety import acquire_lock, read_lock
from georesil.errors import SafetyViolation
from tests.drills._stack import mini_topology, promote

PLANNED = """
version: 1
name: mini-planned
services: [store]
from: north
to: south
mode: planned
recovery_timeout_s: 5
steady_state:
  - probe: s3.read_write
    args: {site: $active}
    tolerance: {equals: true}
method:
  - id: freeze
    action: writes.freeze
    args: {drain_s: 0}
  - id: sync
    action: mirror.sync
  - id: in-sync
    probe: mirror.lag
    tolerance: {equals: 0}
  - id: switch
    action: control.set_active_site
    args: {expect: $from}
  - id: dns
    action: dns.set_primary
  - id: unfreeze
    action: writes.unfreeze
rollback:
  steps:
    - action: control.set_active_site
      args: {site: $from}
    - action: dns.set_primary
      args: {site: $from}
    - action: writes.unfreeze
"""


def _runbook(text: str = PLANNED):
    Path("mini.yaml").write_text(text)  # resume reads the runbook back from its file
    return parse_runbook(text, "mini.yaml", topology=mini_topology())


def _put(env: Environment, site: str, keys: list[str]) -> None:
    bucket = env.outputs.bucket("store", site).name
    for key in keys:
        env.clients.call(site, "s3", "put_object", Bucket=bucket, Key=key, Body=b"x" * 10)


class HookClock:
    """The real clock, with a hook run on the first sleep (to change the world mid-step)."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self.hook: Callable[[], None] | None = hook

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if self.hook is not None:
            hook, self.hook = self.hook, None
            hook()


def test_planned_drill_moves_the_service_with_rpo_zero(env: Environment, workdir: Path) -> None:
    """Freeze, sync, switch: completed, RPO 0 (nothing lost), RTO measured, DNS on south."""
    _put(env, "north", [f"k{i}" for i in range(5)])
    run = run_drill(_runbook(), env, workdir=workdir)
    assert run.status == "completed", run.error
    assert run.summary["rpo_s"] == 0 and run.summary["rpo_objects"] == 0
    assert run.summary["rto_s"] is not None and run.summary["rto_s"] > 0
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("store") == {"south"}
    assert read_lock(cp, "store") is None


def test_unreplicated_writes_are_counted_in_the_rpo(env: Environment, workdir: Path) -> None:
    """Without a sync, the objects only north holds are the RPO (count and bytes)."""
    _put(env, "north", ["a", "b", "c"])
    text = PLANNED.replace("  - id: sync\n    action: mirror.sync\n", "").replace(
        "    tolerance: {equals: 0}", "    tolerance: {min: 0}")
    run = run_drill(_runbook(text), env, workdir=workdir)
    rpo = run.rpo["store"]
    assert (rpo.objects, rpo.bytes, rpo.method) == (3, 30, "listing")
    assert run.summary["rpo_objects"] == 3


def test_split_brain_mid_drill_aborts_and_rolls_back(env: Environment, workdir: Path) -> None:
    """A second active site appearing between steps stops the drill; rollback heals it."""
    def split() -> None:
        env.clients.call("north", "ssm", "put_parameter", Overwrite=True, Type="String",
                         Name=env.outputs.parameter_name("store"), Value="south")

    text = PLANNED.replace("  - id: sync\n", "  - id: pause\n    action: wait\n"
                           "    args: {seconds: 0.01}\n  - id: sync\n")
    run = run_drill(_runbook(text), env, workdir=workdir, clock=HookClock(split))
    assert (run.status, run.split_brain, run.rolled_back) == ("deviated", True, True)
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("store") == {"north"}
    assert not any(o.id == "switch" for o in run.outcomes)


def test_deviation_after_cutover_rolls_back_to_the_start(env: Environment,
                                                         workdir: Path) -> None:
    """A probe out of tolerance after the switch rolls everything back (default policy)."""
    text = PLANNED + "".join([])
    text = text.replace("rollback:", "  - probe: dns.serving_site\n"
                        "    tolerance: {equals: north}\nrollback:")
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert run.status == "deviated" and run.rolled_back
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("store") == {"north"}
    assert cp.frozen("store") is False


def test_policy_never_leaves_a_failed_drill_where_it_stopped(env: Environment,
                                                             workdir: Path) -> None:
    """With ``policy: never`` no rollback runs."""
    text = PLANNED.replace("rollback:\n  steps:", "rollback:\n  policy: never\n  steps:")
    text = text.replace("rollback:", "  - probe: dns.serving_site\n"
                        "    tolerance: {equals: north}\nrollback:", 1)
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert run.status == "deviated" and not run.rolled_back
    assert ControlPlane(env.clients, env.outputs).active("store").site == "south"


def test_second_drill_is_refused_while_the_lock_is_held(env: Environment,
                                                        workdir: Path) -> None:
    """A concurrent drill is refused with the holder's run id and changes nothing."""
    cp = ControlPlane(env.clients, env.outputs)
    acquire_lock(cp, "store", "holder-run", now=time.time())
    run = run_drill(_runbook(), env, workdir=workdir)
    assert run.status == "refused" and "holder-run" in (run.error or "")
    assert cp.active("store").site == "north" and read_lock(cp, "store").run_id == "holder-run"


def test_refused_approval_stops_before_the_gate(env: Environment, workdir: Path) -> None:
    """An approval gate answered no aborts before its step runs."""
    text = PLANNED.replace("    args: {expect: $from}",
                           "    args: {expect: $from}\n    approval: Switch to the south?")
    run = run_drill(_runbook(text), env, workdir=workdir, approve=lambda step: False)
    assert run.status == "aborted"
    assert ControlPlane(env.clients, env.outputs).active("store").site == "north"


def test_step_timeout_fails_the_drill(env: Environment, workdir: Path) -> None:
    """A step that outlives its timeout fails the drill."""
    text = PLANNED.replace("  - id: sync\n", "  - id: slow\n    action: wait\n"
                           "    args: {seconds: 0.5}\n    timeout_s: 0.05\n  - id: sync\n")
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert run.status == "failed" and "within 0.05 s" in (run.error or "")


def test_stop_condition_trips_the_drill(env: Environment, workdir: Path) -> None:
    """A stop condition out of tolerance between steps stops the drill."""
    text = PLANNED.replace("steady_state:", "stop_conditions:\n  - probe: control.active_site\n"
                           "    tolerance: {equals: south}\nsteady_state:")
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert run.status == "deviated" and run.error == "a stop condition tripped"


def test_wrong_starting_site_is_refused(env: Environment, workdir: Path) -> None:
    """A service not active at a from-site (already moved) is refused."""
    promote(ControlPlane(env.clients, env.outputs), "store", "south", "earlier")
    run = run_drill(_runbook(), env, workdir=workdir)
    assert run.status == "refused" and "not at a from-site" in (run.error or "")


def _crash_after(journal: Path, step_id: str) -> None:
    """Cut the journal after ``step_id`` succeeded, as if the process died there."""
    kept = []
    for line in journal.read_text().splitlines():
        event = json.loads(line)
        event.pop("pid", None)
        kept.append(json.dumps(event))
        if event["event"] == "step.succeeded" and event.get("step") == step_id:
            break
    journal.write_text("\n".join(kept) + "\n")


def test_resume_completes_a_crashed_drill(env: Environment, workdir: Path) -> None:
    """A drill cut after its switch resumes, finishes and leaves one active site."""
    journal = workdir / "j.jsonl"
    run_drill(_runbook(), env, workdir=workdir, journal_path=journal)
    _crash_after(journal, "switch")
    run = resume_drill(journal, env)
    assert run.status == "completed", run.error
    assert ControlPlane(env.clients, env.outputs).active_sites("store") == {"south"}
    assert [e["event"] for e in Journal.load(journal).events].count("drill.resumed") == 1


def test_resume_refuses_when_the_world_moved(env: Environment, workdir: Path) -> None:
    """When the control plane no longer matches the journal, resume refuses and says why."""
    journal = workdir / "j.jsonl"
    run_drill(_runbook(), env, workdir=workdir, journal_path=journal)
    _crash_after(journal, "freeze")  # the journal says north; the store is on south
    with pytest.raises(SafetyViolation, match="world no longer matches the journal"):
        resume_drill(journal, env)


def test_resume_refuses_a_finished_drill(env: Environment, workdir: Path) -> None:
    """A finished drill has nothing to resume."""
    journal = workdir / "j.jsonl"
    run_drill(_runbook(), env, workdir=workdir, journal_path=journal)
    with pytest.raises(SafetyViolation, match="already finished"):
        resume_drill(journal, env)


def test_history_lists_runs_with_the_documented_keys(env: Environment, workdir: Path) -> None:
    """Each run is one entry with exactly the documented keys and its measurements."""
    run_drill(_runbook(), env, workdir=workdir)
    (entry,) = drill_history(workdir)
    assert tuple(entry) == HISTORY_KEYS
    assert (entry["status"], entry["rpo_s"], entry["split_brain"]) == ("completed", 0, False)
    assert entry["predicted_rto_s"] == 600 and entry["rto_target_s"] == 900


def test_test_mode_measures_without_moving_anything(env: Environment, workdir: Path) -> None:
    """A test-mode drill syncs and probes the to-site, measures an RTO, moves nothing."""
    text = """
version: 1
name: mini-test
services: [store]
from: north
to: south
mode: test
method:
  - action: mirror.sync
  - probe: s3.read_write
    args: {site: $to}
    tolerance: {equals: true}
"""
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert run.status == "completed" and run.summary["rto_s"] is not None
    assert ControlPlane(env.clients, env.outputs).active_sites("store") == {"north"}


def test_failed_steady_state_runs_no_method_and_no_rollback(env: Environment,
                                                            workdir: Path) -> None:
    """A steady state out of tolerance before the method: deviated, nothing to undo."""
    text = PLANNED.replace("    args: {site: $active}\n    tolerance: {equals: true}",
                           "    args: {site: $active}\n    tolerance: {equals: false}")
    run = run_drill(_runbook(text), env, workdir=workdir)
    assert (run.status, run.rolled_back) == ("deviated", False)
    assert not any(o.phase == "method" for o in run.outcomes)


def _crash_during(journal: Path, step_id: str) -> None:
    """Cut the journal right after ``step_id`` started: it was in flight when the process died."""
    kept = []
    for line in journal.read_text().splitlines():
        event = json.loads(line)
        event.pop("pid", None)
        kept.append(json.dumps(event))
        if event["event"] == "step.started" and event.get("step") == step_id:
            break
    journal.write_text("\n".join(kept) + "\n")


def test_resume_repeats_an_idempotent_step_in_flight(env: Environment, workdir: Path) -> None:
    """A step that was in flight and is safe to repeat is run again, then the rest."""
    journal = workdir / "j.jsonl"
    run_drill(_runbook(), env, workdir=workdir, journal_path=journal)
    _crash_during(journal, "unfreeze")
    ControlPlane(env.clients, env.outputs).set_frozen("store", True, "crashed-run")
    run = resume_drill(journal, env)
    assert run.status == "completed", run.error
    assert ControlPlane(env.clients, env.outputs).frozen("store") is False


def test_resume_completes_its_own_promotion_cut_in_half(env: Environment,
                                                        workdir: Path) -> None:
    """Killed between the register write and the parameter write: resume recognises the
    run's own write, finishes it (no new epoch, no split-brain record) and completes."""
    journal = workdir / "j.jsonl"
    first = run_drill(_runbook(), env, workdir=workdir, journal_path=journal)
    _crash_during(journal, "switch")
    cp = ControlPlane(env.clients, env.outputs)
    env.clients.call("north", "ssm", "put_parameter", Name=env.outputs.parameter_name("store"),
                     Value="north", Type="String", Overwrite=True)  # the copy never written
    assert cp.active_sites("store") == {"north", "south"}
    run = resume_drill(journal, env)
    assert run.status == "completed", run.error
    assert cp.active_sites("store") == {"south"} and not run.split_brain
    assert (cp.active("store").epoch, cp.active("store").by) == (1, first.run_id)


def test_resume_refuses_a_step_in_flight_that_is_not_safe_to_repeat(env: Environment,
                                                                   workdir: Path) -> None:
    """A step in flight marked not safe to repeat makes resume refuse, naming the step."""
    text = PLANNED.replace("    action: writes.unfreeze\n",
                           "    action: writes.unfreeze\n    safe_to_repeat: false\n", 1)
    journal = workdir / "j.jsonl"
    run_drill(_runbook(text), env, workdir=workdir, journal_path=journal)
    _crash_during(journal, "unfreeze")
    with pytest.raises(SafetyViolation, match="'unfreeze' .* not safe to repeat"):
        resume_drill(journal, env)
