"""Parameterised runbooks, runbooks by name, failback of a run, repair of the control plane,
plan statuses under the mode, and honest messages when a drill stops."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from georesil.app.demo import _Stages
from georesil.drills import parse_runbook
from georesil.drills.catalog import BUNDLED_DIR, find_runbook, list_runbooks
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.drills.failback import plan_failback, run_failback
from georesil.drills.history import drill_history, find_run
from georesil.drills.journal import Journal
from georesil.drills.measure import predict
from georesil.drills.parameters import as_text, parse_assignments
from georesil.drills.repair import plan_repair, repair_service
from georesil.drills.runner import raise_for_status, run_drill
from georesil.drills.safety import StopFlag, acquire_lock, request_abort
from georesil.errors import DrillError, InvalidInput, InvalidRunbook, SafetyViolation
from georesil.model import load_topology
from tests.drills._stack import mini_topology

PARAM = """\
version: 1
name: mini-param
parameters:
  service: {type: service, default: store}
  from: {type: site, default: north}
  to: {type: site, default: south}
  drain: {type: number, default: 0}
services: ["${service}"]
from: ${from}
to: ${to}
mode: planned
recovery_timeout_s: 5
method:
  - id: freeze
    action: writes.freeze
    args: {drain_s: "${drain}"}
  - id: sync
    action: mirror.sync
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
"""


def _bind(text: str = PARAM, **sets: str):
    Path("p.yaml").write_text(text)
    return parse_runbook(text, "p.yaml", topology=mini_topology(), parameters=sets)


# -- parameters -------------------------------------------------------------------------------
def test_defaults_bind_with_their_types(workdir: Path) -> None:
    """Without --set the defaults bind; a number stays a number."""
    rb = _bind()
    assert (rb.doc.services, rb.doc.from_sites, rb.doc.to_site) == (("store",), ("north",),
                                                                     "south")
    assert rb.method[0].args.drain_s == 0 and rb.parameters["drain"] == 0


def test_set_overrides_a_default(workdir: Path) -> None:
    """--set service=api moves the other service, validated like a literal one."""
    rb = _bind(service="api", drain="0.5")
    assert rb.doc.services == ("api",) and rb.method[0].args.drain_s == 0.5


@pytest.mark.parametrize(("sets", "expected"), [
    ({"servce": "api"}, "--set servce: unknown parameter 'servce'; this runbook's parameters: "
                        "'drain', 'from', 'service', 'to' (did you mean 'service'?)"),
    ({"service": "stor"}, "--set service: unknown service 'stor'; known services: 'api', "
                          "'store' (did you mean 'store'?)"),
    ({"from": "nort"}, "--set from: unknown site 'nort'"),
    ({"drain": "soon"}, "--set drain: expected a number; got 'soon'"),
])
def test_bad_set_values_are_reported_with_what_is_allowed(workdir: Path, sets: dict[str, str],
                                                          expected: str) -> None:
    """A bad --set names the parameter, the value and what is allowed."""
    with pytest.raises(InvalidRunbook) as caught:
        _bind(**sets)
    assert expected in str(caught.value)


def test_unknown_reference_is_located(workdir: Path) -> None:
    """A ${name} that is not declared is reported at its line and column."""
    with pytest.raises(InvalidRunbook) as caught:
        _bind(PARAM.replace('to: ${to}', 'to: ${too}'))
    assert "p.yaml:10:5: to: unknown parameter '${too}'" in str(caught.value)
    assert "(did you mean 'to'?)" in str(caught.value)


def test_missing_value_without_default_says_how_to_pass_it(workdir: Path) -> None:
    """A parameter with no default and no --set is located at its declaration."""
    with pytest.raises(InvalidRunbook, match=r"p.yaml:6:7: parameters.to: parameter 'to' has "
                       r"no default; pass --set to=VALUE \(site\)"):
        _bind(PARAM.replace("  to: {type: site, default: south}", "  to: {type: site}"))


def test_set_without_equals_is_refused() -> None:
    """--set needs NAME=VALUE."""
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        parse_assignments(["service"])


def test_bound_substitution_matches_a_literal_runbook(workdir: Path) -> None:
    """Binding parameters gives the same runbook as writing the values literally."""
    literal = PARAM.split("services:")[0].split("parameters:")[0] + "services:" + \
        PARAM.split("services:")[1]
    literal = (literal.replace('["${service}"]', "[api]").replace("${from}", "north")
               .replace("${to}", "south").replace('"${drain}"', "0.25"))
    bound = _bind(service="api", drain="0.25")
    plain = parse_runbook(literal, "l.yaml", topology=mini_topology())
    assert bound.doc.model_dump(exclude={"parameters"}) == \
        plain.doc.model_dump(exclude={"parameters"})


# -- runbooks by name -------------------------------------------------------------------------
def test_runbook_found_by_name_bundled_and_local(workdir: Path) -> None:
    """A name finds ./runbooks/NAME.yaml first, then the bundled runbook."""
    assert find_runbook("storage-failover-planned", workdir) == \
        BUNDLED_DIR / "storage-failover-planned.yaml"
    (workdir / "runbooks").mkdir()
    (workdir / "runbooks" / "storage-failover-planned.yaml").write_text(PARAM)
    assert find_runbook("storage-failover-planned", workdir) == \
        workdir / "runbooks" / "storage-failover-planned.yaml"
    names = {(e.name, e.source) for e in list_runbooks(workdir)}
    assert ("storage-failover-planned", "./runbooks") in names
    assert ("failback", "bundled") in names


def test_unknown_runbook_name_lists_the_known_ones(workdir: Path) -> None:
    """An unknown name says where it looked and suggests a near name."""
    with pytest.raises(InvalidInput, match="did you mean 'storage-failback'"):
        find_runbook("storage-failbak", workdir)


def test_drill_list_shows_parameters_in_plain_text(workdir: Path) -> None:
    """`drill list` through a pipe shows each runbook with its parameters, uncut."""
    out = _cli(workdir, "drill", "list")
    assert "storage-failover-unplanned" in out and "service=model-store" in out
    assert "services=<services>" in out and "…" not in out


# -- plan statuses ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "status", "rpo"), [
    ("storage-failover-planned", "failover", 0),     # planned: frozen + synced, within RTO
    ("storage-failover-unplanned", "breach", 900),   # the 900 s lag exceeds the 300 s RPO
])
def test_plan_status_is_judged_under_the_mode(name: str, status: str, rpo: float) -> None:
    """A planned drill with RPO 0 and recovery within target is `failover`, not `breach`."""
    from georesil.drills import load_runbook

    pred = predict(load_runbook(find_runbook(name)))
    svc = pred.services["model-store"]
    assert (svc.status, svc.data_loss_s) == (status, rpo)
    if status == "failover":
        assert svc.recovery_s is not None and svc.recovery_s <= svc.rto_target_s


# -- failback ---------------------------------------------------------------------------------
def _completed_failover(env: Environment, workdir: Path) -> str:
    run = run_drill(_bind(), env, workdir=workdir)
    assert run.status == "completed", run.error
    return run.run_id


def test_failback_returns_the_service_and_is_recorded(env: Environment, workdir: Path) -> None:
    """`failback RUN_ID` moves the service home, with its own run id in history."""
    rid = _completed_failover(env, workdir)
    plans = plan_failback(find_run(rid, workdir), env, workdir)
    assert [(p.services, p.from_site, p.to_site) for p in plans] == [(("store",), "south",
                                                                      "north")]
    runs = run_failback(plans, env, workdir=workdir)
    assert [r.status for r in runs] == ["completed"], runs[0].error
    cp = ControlPlane(env.clients, env.outputs)
    assert cp.active_sites("store") == {"north"}
    history = drill_history(workdir)
    assert [h["runbook"] for h in history] == ["mini-param", "failback"]
    assert runs[0].summary["rpo_s"] == 0 and not history[-1]["split_brain"]
    assert Journal.load(runs[0].journal.path).started["failback_of"] == rid


def test_failback_of_a_rolled_back_run_is_refused(env: Environment, workdir: Path) -> None:
    """Nothing to fail back when the run left nothing at its to-site."""
    text = PARAM.replace("    args: {expect: $from}", "    args: {expect: $from}\n"
                         "    approval: go?")
    run = run_drill(_bind(text), env, workdir=workdir, approve=lambda step: False)
    assert run.status == "aborted"
    with pytest.raises(SafetyViolation, match="nothing to fail back"):
        plan_failback(find_run(run.run_id, workdir), env, workdir)


def test_find_run_needs_an_unambiguous_id(env: Environment, workdir: Path) -> None:
    """An unknown run id is refused with the recorded ones."""
    with pytest.raises(InvalidInput, match="no drill run 'nope'"):
        find_run("nope", workdir)


# -- repair -----------------------------------------------------------------------------------
def test_repair_rewrites_the_parameter_from_the_register(env: Environment,
                                                         workdir: Path) -> None:
    """A stale serving-site parameter is rewritten from the register; the pair agrees."""
    cp = ControlPlane(env.clients, env.outputs)
    env.clients.call("north", "ssm", "put_parameter", Name=env.outputs.parameter_name("store"),
                     Value="south", Type="String", Overwrite=True)
    plan = plan_repair(env, "store", workdir)
    assert plan.rewrite_parameter and plan.site == "north"
    done = repair_service(env, plan)
    assert cp.active_sites("store") == {"north"} and done.parameter_rewritten


def test_repair_releases_the_lock_of_a_finished_run(env: Environment, workdir: Path) -> None:
    """An orphaned lock whose run finished is released; a drill can start again."""
    journal = workdir / "old.jsonl"
    journal.write_text('{"event": "drill.started", "run_id": "old", "ts": 1}\n'
                       '{"event": "drill.finished", "status": "failed", "ts": 2}\n')
    cp = ControlPlane(env.clients, env.outputs)
    cp.try_lock("store", "old", owner="elsewhere:1", now=1.0, expires_at=4e9,
                journal=str(journal))
    assert run_drill(_bind(), env, workdir=workdir).status == "refused"
    plan = plan_repair(env, "store", workdir)
    assert plan.release_lock_of == "old"
    repair_service(env, plan)
    assert cp.read_lock("store") is None
    assert run_drill(_bind(), env, workdir=workdir).status == "completed"


def test_repair_refuses_while_a_live_drill_holds_the_lock(env: Environment,
                                                          workdir: Path) -> None:
    """The lock of a running drill is never taken away."""
    cp = ControlPlane(env.clients, env.outputs)
    acquire_lock(cp, "store", "live", now=1e9)
    with pytest.raises(SafetyViolation, match="drill abort --run-id live"):
        plan_repair(env, "store", workdir)


# -- stopping: every message has its reason -----------------------------------------------------
def _reason_of(run) -> str:
    with pytest.raises(DrillError) as caught:
        raise_for_status(run)
    message = str(caught.value)
    head, _, reason = message.partition(f"{run.status}:")
    assert reason.strip(), message
    return message


def test_abort_before_a_step_names_the_reason(env: Environment, workdir: Path) -> None:
    """An abort request stops the drill with 'stopped by ... before step' and a next step."""
    text = PARAM.replace("    action: mirror.sync\n", "    action: mirror.sync\n"
                         "    approval: sync?\n")

    def approve_then_abort(step: object) -> bool:
        request_abort(workdir)  # as `georesil drill abort` from another shell
        return True

    run = run_drill(_bind(text), env, workdir=workdir, approve=approve_then_abort)
    assert run.status == "aborted"
    message = _reason_of(run)
    assert "stopped by `georesil drill abort` before step 'switch'" in message
    assert "georesil drill run mini-param" in message


class _SignalClock:
    """The real clock, except that the first sleep delivers SIGINT to this process."""

    def __init__(self) -> None:
        self.sent = False

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
        time.sleep(min(seconds, 0.01))


def test_signal_during_a_wait_names_the_signal(env: Environment, workdir: Path) -> None:
    """SIGINT during a wait: 'interrupted: stopped by SIGINT during step', rolled back, and a
    typed outcome that says so (what `demo` stops on)."""
    text = PARAM.replace("  - id: switch\n", "  - id: pause\n    action: wait\n"
                         "    args: {seconds: 30}\n  - id: switch\n")
    run = run_drill(_bind(text), env, workdir=workdir, clock=_SignalClock())
    assert run.status == "interrupted"
    message = _reason_of(run)
    assert "stopped by SIGINT during step 'pause'" in message and "rolled back" in message
    outcome = run.outcome()
    assert outcome.interrupted and outcome.run_id == run.run_id and outcome.reason


def test_signal_while_waiting_for_recovery_names_it(env: Environment, workdir: Path) -> None:
    """SIGINT while the runner polls for recovery is reported as such."""
    text = PARAM.replace("  - id: dns\n    action: dns.set_primary\n", "")
    text = text.replace("to: ${to}", "to: ${to}\nsteady_state: []")
    rb = _bind(text)
    env.clients.call("south", "s3", "delete_bucket_policy",
                     Bucket=env.outputs.bucket("store", "south").name)
    run = run_drill(rb, env, workdir=workdir, clock=_SignalClock())
    assert run.error, run.status
    _reason_of(run) if run.status != "completed" else None


def test_abort_request_file_reaches_the_drill(workdir: Path) -> None:
    """`drill abort` of a registered run is seen by its stop flag (the CLI path)."""
    from georesil.drills.safety import register_running

    register_running(workdir, "r1", workdir / "j.jsonl")
    assert request_abort(workdir, "r1") == ["r1"]
    assert StopFlag(workdir, "r1").reason == "abort"


# -- output without a terminal ------------------------------------------------------------------
def _cli(workdir: Path, *args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    done = subprocess.run([sys.executable, "-m", "georesil", *args], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_history_through_a_pipe_keeps_full_run_ids(env: Environment, workdir: Path) -> None:
    """At 80 columns through a pipe, `drill history` prints every run id whole."""
    rid = _completed_failover(env, workdir)
    out = _cli(workdir, "drill", "history")
    assert rid in out and "…" not in out
    assert json.loads(_cli(workdir, "drill", "history", "--json"))[0]["run_id"] == rid


def test_plan_through_a_pipe_never_cuts_ids() -> None:
    """`drill plan` at 80 columns through a pipe shows site ids whole."""
    out = _cli(Path.cwd(), "drill", "plan", "north-evacuation")
    assert "taipei-neihu" in out and "…" not in out
    assert "failover" in out.split("Plan")[0]


def test_reference_topology_loads() -> None:
    """The bundled topology is the one the bundled runbooks name."""
    assert "model-store" in load_topology().services


def test_demo_progress_lines_are_never_cut_mid_path() -> None:
    """A demo progress line longer than 80 columns reaches a pipe in one piece."""
    out = io.StringIO()
    stages = _Stages(Console(file=out, width=80, force_terminal=False))
    path = "/tmp/" + "/".join(["a-rather-long-directory-name"] * 4) + "/journal.jsonl"
    stages.say(f"storage-failover-planned: completed, journal {path}")
    assert path in out.getvalue()


@pytest.mark.parametrize("seed", range(25))
def test_bound_values_survive_the_journal_round_trip(workdir: Path, seed: int) -> None:
    """Values bound from --set, recorded and turned back into text, bind to the same values
    (what `drill resume` relies on): random values against the declared types."""
    rng = random.Random(seed)
    text = PARAM.replace("  drain: {type: number, default: 0}\n",
                         "  drain: {type: number, default: 0}\n"
                         "  flag: {type: boolean, default: false}\n"
                         "  many: {type: sites, default: [north]}\n"
                         "  count: {type: integer, default: 1}\n")
    sets = {"drain": repr(round(rng.uniform(0, 5), rng.randint(0, 3))),
            "flag": rng.choice(["true", "no", "1", "off"]),
            "many": ",".join(rng.sample(["north", "south"], rng.randint(1, 2))),
            "count": str(rng.randint(-3, 99))}
    first = _bind(text, **sets).parameters
    assert _bind(text, **as_text(first)).parameters == first
