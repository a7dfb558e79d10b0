"""Running a drill, chaostoolkit-style: steady state, method, steady state, rollbacks.

:func:`run_drill` composes the phase functions: :func:`start_run` (journal, locks, the
starting world), :func:`run_steady_state`, :func:`run_method`, :func:`run_rollbacks` and
:func:`finish_run`. Around every method step: stop requests (``drill abort``, SIGINT/SIGTERM)
and stop conditions are checked, the locks renewed, and the split-brain invariant checked
before and after; faults and cutovers the steps report become measurements.

Statuses: ``completed``; ``deviated`` (a probe left its tolerance, a stop condition tripped
or the split-brain invariant broke); ``failed`` (a step raised or timed out); ``aborted``
(``drill abort`` or an approval refused); ``interrupted`` (a signal); ``refused`` (another
drill holds a lock, or the world is not where the runbook starts).
"""

from __future__ import annotations

import json
import os
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

from georesil._atomic import open_private
from georesil.drills import measure, safety
from georesil.drills.context import DrillContext
from georesil.drills.environment import Clock, Environment, SystemClock
from georesil.drills.journal import Journal
from georesil.drills.loader import Runbook, Step
from georesil.drills.run_state import Approver, DrillRun, StepOutcome
from georesil.drills.runbook import Mode, RollbackPolicy
from georesil.drills.step_execution import execute_step, probe_recovery
from georesil.errors import (
    DrillError,
    DrillInterrupted,
    GeoresilError,
    RollbackFailed,
    SafetyViolation,
    StepFailed,
)

__all__ = ["Approver", "DrillRun", "StepOutcome", "finish_run", "raise_for_status",
           "run_drill", "run_method", "run_rollbacks", "run_steady_state", "start_run"]

log = structlog.get_logger(__name__)

#: Test-only hooks (documented in docs/runbooks.md): after method step N (1-based) succeeds,
#: SIGKILL this process, or pause for S seconds (``N:S``).
KILL_AFTER_ENV = "GEORESIL_DRILL_TEST_KILL_AFTER_STEP"
PAUSE_AFTER_ENV = "GEORESIL_DRILL_TEST_PAUSE_AFTER_STEP"


# -- composing the phases ------------------------------------------------------------------
def run_drill(runbook: Runbook, env: Environment, *, workdir: str | Path = ".",
              journal_path: str | Path | None = None, run_id: str | None = None,
              clock: Clock | None = None, approve: Approver | None = None,
              failback_of: str | None = None) -> DrillRun:
    """Run ``runbook`` against ``env`` and return the finished run (see ``run.status``).

    ``failback_of`` names the run this one reverses (recorded in the journal).
    """
    run = start_run(runbook, env, workdir=workdir, journal_path=journal_path, run_id=run_id,
                    clock=clock, approve=approve, failback_of=failback_of)
    with bound_contextvars(run_id=run.run_id, drill=runbook.name), \
            run.stop.catching_signals():
        try:
            if run.status == "running":
                run.status = _run_phases(run, start_index=0)
        finally:
            run_rollbacks(run)
            finish_run(run)
    return run


def _run_phases(run: DrillRun, start_index: int) -> str:
    if start_index == 0:
        if not run_steady_state(run, "before"):
            return "deviated"
        run.method_ts = run.ctx.now()
        run.record("method.started")
    status = run_method(run, start_index)
    if status == "completed" and not run_steady_state(run, "after"):
        status = "deviated"
    return status


def start_run(runbook: Runbook, env: Environment, *, workdir: str | Path = ".",
              journal_path: str | Path | None = None, run_id: str | None = None,
              clock: Clock | None = None, approve: Approver | None = None,
              failback_of: str | None = None) -> DrillRun:
    """Open the journal, take the locks, and record the world the drill starts from."""
    clock = clock or SystemClock()
    run_id = run_id or uuid.uuid4().hex[:12]
    workdir = Path(workdir).resolve()
    started = clock.now()
    path = Path(journal_path) if journal_path else default_journal_path(workdir, run_id, started)
    journal = Journal.create(path)
    _index(workdir, run_id, path)
    doc = runbook.doc
    ctx = DrillContext(env, run_id, doc.services, {}, doc.to_site, doc.mode, workdir,
                       clock=clock)
    run = DrillRun(runbook, ctx, journal, safety.StopFlag(workdir, run_id),
                   approve or (lambda step: True), started)
    ctx.stop = run.stop
    ctx.record = run.record
    safety.register_running(workdir, run_id, path)
    locks: list[safety.LockInfo] = []
    active: dict[str, str | None] = {}
    try:
        locks = _take_locks(run)
        active = _starting_world(run)
    except SafetyViolation as exc:
        run.status, run.error = "refused", str(exc)
    except GeoresilError as exc:  # the witness does not answer: no drill without a register
        run.status, run.error = "refused", _unreachable(run, exc)
    run.record("drill.started", **_started_fields(run, active, dict(ctx.epochs)),
               failback_of=failback_of)
    for info in locks:
        run.record("lock.acquired", service=info.service, run_id=run_id,
                   expires_at=info.expires_at)
    return run


def _unreachable(run: DrillRun, exc: GeoresilError) -> str:
    cp = run.ctx.control
    try:
        where = run.ctx.endpoint_url(cp.site) or cp.site
    except GeoresilError:
        where = cp.site
    return (f"the control plane at {cp.site!r} ({where}) does not answer ({exc}); drills "
            "refuse to start without the register and the locks — bring it back (in the lab: "
            f"`georesil lab revive {cp.site}`) and run the drill again")


def default_journal_path(workdir: Path, run_id: str, ts: float) -> Path:
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y%m%dT%H%M%SZ")
    return safety.drills_dir(workdir) / f"{stamp}-{run_id}.jsonl"


def _index(workdir: Path, run_id: str, journal: Path) -> None:
    index = safety.drills_dir(workdir) / "index.jsonl"
    with open_private(index, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"run_id": run_id, "journal": str(journal.resolve())}) + "\n")


def _take_locks(run: DrillRun) -> list[safety.LockInfo]:
    journal = str(run.journal.path.resolve())
    return [safety.acquire_lock(run.ctx.control, svc, run.run_id, now=run.ctx.now(),
                                journal=journal)
            for svc in run.runbook.doc.services]


def _starting_world(run: DrillRun) -> dict[str, str | None]:
    """Each service's active site, which must be one of the runbook's from-sites."""
    ctx, doc = run.ctx, run.runbook.doc
    safety.check_split_brain(ctx.control, doc.services, "before the drill")
    active: dict[str, str | None] = {}
    for svc in doc.services:
        record = ctx.control.active(svc)
        active[svc], ctx.epochs[svc] = record.site, record.epoch
        if record.site in doc.from_sites:
            ctx.from_sites[svc] = record.site
        elif doc.mode is Mode.TEST and len(doc.from_sites) == 1:
            ctx.from_sites[svc] = doc.from_sites[0]
        else:
            back = (f"fail it back with `georesil drill failback {record.by}`"
                    if record.by else "see `georesil drill history`")
            raise SafetyViolation(
                f"{svc} is active at {record.site!r}, not at a from-site of the runbook "
                f"({', '.join(doc.from_sites)}); it was moved by {record.by or 'provisioning'}"
                f" — {back}, or give the runbook `--set from={record.site}`", service=svc,
                site=record.site)
    return active


def _started_fields(run: DrillRun, active: dict[str, Any], epochs: dict[str, int]
                    ) -> dict[str, Any]:
    rb = run.runbook
    try:
        pred = measure.predict(rb)
        predicted: dict[str, Any] = pred.to_json()
    except GeoresilError as exc:  # the analysis cannot say: record why
        predicted = {"rto_s": None, "rpo_s": None, "error": str(exc)}
    return {"run_id": run.run_id, "runbook": str(rb.path.resolve()) if rb.path else None,
            "runbook_sha256": rb.sha256, "parameters": dict(rb.parameters), "name": rb.name,
            "mode": rb.doc.mode.value,
            "services": list(rb.doc.services), "from_sites": dict(run.ctx.from_sites),
            "to_site": rb.doc.to_site,
            "targets": {"rto_s": rb.rto_target_s, "rpo_s": rb.rpo_target_s},
            "predicted": predicted, "active": active, "epochs": epochs,
            "workdir": str(run.ctx.workdir), "pid": os.getpid(), "status": run.status,
            "error": run.error}


# -- steady state --------------------------------------------------------------------------
def run_steady_state(run: DrillRun, when: str) -> bool:
    """Run the steady-state probes; ``False`` when one leaves its tolerance."""
    ok = True
    for step in run.runbook.steady_state:
        outcome = execute_step(run, step, phase=f"steady_state.{when}")
        ok = ok and outcome.status == "succeeded"
    return ok


def _stop_conditions_hold(run: DrillRun) -> bool:
    for step in run.runbook.stop_conditions:
        if execute_step(run, step, phase="stop_conditions").status != "succeeded":
            return False
    return True


# -- the method ----------------------------------------------------------------------------
def run_method(run: DrillRun, start_index: int = 0) -> str:
    """Run the method from step ``start_index``; returns the drill's status."""
    for step in run.runbook.method[start_index:]:
        reason = run.stop.reason
        if reason is not None:
            run.record("drill.interrupted", reason=reason, before_step=step.id)
            return _stopped(run, reason, f"before step {step.id!r}")
        broken = _check_invariant(run, f"before step {step.id!r}", renew=True)
        if broken:
            return broken
        if not _stop_conditions_hold(run):
            run.error = "a stop condition tripped"
            return "deviated"
        if step.spec.approval and not run.approve(step):
            run.record("approval.refused", step=step.id, approval=step.spec.approval)
            run.error = f"approval refused at step {step.id!r}"
            return "aborted"
        outcome = execute_step(run, step, phase="method")
        reason = run.stop.reason
        if outcome.status != "succeeded" and reason is not None:  # e.g. a wait cut short
            run.record("drill.interrupted", reason=reason, during_step=step.id)
            return _stopped(run, reason, f"during step {step.id!r}")
        if outcome.status == "failed":
            run.error = outcome.error
            return "failed"
        if outcome.status == "deviated":
            run.error = f"probe {step.id!r} left its tolerance"
            return "deviated"
        broken = _check_invariant(run, f"after step {step.id!r}")
        if broken:
            return broken
        _test_hooks(run, step)
    return _await_recovery(run)


def _stopped(run: DrillRun, reason: str, where: str) -> str:
    """Record why the drill stopped (an abort request or a signal); its status."""
    by = "`georesil drill abort`" if reason == "abort" else reason
    run.error = f"stopped by {by} {where}"
    return "aborted" if reason == "abort" else "interrupted"


def _check_invariant(run: DrillRun, where: str, *, renew: bool = False) -> str | None:
    """The split-brain invariant (and the lock renewal); a status when the drill must stop."""
    try:
        if renew:
            _renew_locks(run)
        safety.check_split_brain(run.ctx.control, run.runbook.doc.services, where)
    except SafetyViolation as exc:
        return _unsafe(run, exc)
    except GeoresilError as exc:  # the control plane does not answer
        run.error = f"control plane unavailable {where}: {exc}"
        return "failed"
    return None


def _unsafe(run: DrillRun, exc: SafetyViolation) -> str:
    run.split_brain = run.split_brain or bool(getattr(exc, "split_brain", False))
    run.error = str(exc)
    run.record("invariant.violated", error=str(exc), services=getattr(exc, "split", {}),
               where=getattr(exc, "where", None))
    return "deviated"


def _renew_locks(run: DrillRun) -> None:
    for svc in run.runbook.doc.services:
        safety.acquire_lock(run.ctx.control, svc, run.run_id, now=run.ctx.now(),
                            journal=str(run.journal.path.resolve()))


def _await_recovery(run: DrillRun) -> str:
    """Poll until every service reads and writes at the to-site, or the time is up."""
    deadline = run.ctx.now() + run.runbook.doc.recovery_timeout_s
    while True:
        probe_recovery(run)
        if all(s in run.recovered_ts for s in run.runbook.doc.services):
            return "completed"
        if run.ctx.now() >= deadline or not run.ctx.sleep(0.2):
            pending = [s for s in run.runbook.doc.services if s not in run.recovered_ts]
            if run.stop.reason is not None:
                return _stopped(run, run.stop.reason, "while waiting for recovery")
            run.error = (f"not recovered within {run.runbook.doc.recovery_timeout_s:g} s: "
                         f"{', '.join(pending)}")
            return "failed"

def _test_hooks(run: DrillRun, step: Step) -> None:
    number = str(step.index + 1)
    if os.environ.get(KILL_AFTER_ENV) == number:
        os.kill(os.getpid(), signal.SIGKILL)
    pause = os.environ.get(PAUSE_AFTER_ENV, "")
    if pause.partition(":")[0] == number:
        run.ctx.sleep(float(pause.partition(":")[2] or 30))

# -- rollbacks -----------------------------------------------------------------------------
def run_rollbacks(run: DrillRun) -> None:
    """Play the rollback steps when the policy says so; all of them, even after a failure."""
    policy = run.runbook.doc.rollback.policy
    if run.method_ts is None or not _rollback_wanted(policy, run.status):
        return  # the method never started: nothing to undo
    if not run.runbook.rollback:
        return
    run.record("rollback.started", policy=policy.value, status=run.status)
    run.ctx.stop = None  # a stop request must not cut the rollback short
    for step in run.runbook.rollback:
        if execute_step(run, step, phase="rollback").status != "succeeded":
            run.rollback_failed = True
    run.rolled_back = True
    try:
        safety.check_split_brain(run.ctx.control, run.runbook.doc.services, "after rollback")
    except SafetyViolation as exc:
        _unsafe(run, exc)
    except GeoresilError as exc:
        run.rollback_failed = True
        run.error = f"{run.error}; cannot check the control plane after rollback: {exc}"


def _rollback_wanted(policy: RollbackPolicy, status: str) -> bool:
    if policy is RollbackPolicy.ALWAYS:
        return True
    if policy is RollbackPolicy.NEVER:
        return False
    if policy is RollbackPolicy.ON_DEVIATION:
        return status == "deviated"
    return status != "completed"


# -- the end -------------------------------------------------------------------------------
def finish_run(run: DrillRun) -> None:
    """Release the locks, write ``drill.finished`` and the summary log line."""
    if run.status == "running":
        run.status = "failed"
    if run.method_ts is not None:
        _verify_control_plane(run)
    for svc in run.runbook.doc.services:  # conditional on our run id: never another's lock
        try:
            safety.release_lock(run.ctx.control, svc, run.run_id)
        except GeoresilError as exc:
            log.warning("lock.release_failed", service=svc, error=str(exc))
    run.summary = _summary(run)
    run.record("drill.finished", **run.summary)
    log.info("drill.finished", **{
        k: v for k, v in run.summary.items() if k in ("status", "rto_s", "rpo_s", "rpo_objects",
                                                      "duration_s", "split_brain")})
    run.journal.close()
    safety.unregister_running(run.ctx.workdir, run.run_id)


def _verify_control_plane(run: DrillRun, attempts: int = 3) -> None:
    """The control plane after the drill, for the record: consistent, split, or unknown.

    A control plane that cannot be read after the method started is recorded as a split
    brain (fail safe: nobody may assume one site serves) until ``drill repair`` shows the
    register and the parameter agree.
    """
    services = run.runbook.doc.services
    for attempt in range(attempts):
        try:
            run.control_plane = safety.control_plane_state(run.ctx.control, services)
            safety.check_split_brain(run.ctx.control, services, "after the drill")
            return
        except SafetyViolation as exc:
            _unsafe(run, exc)
            return
        except GeoresilError as exc:
            if attempt + 1 < attempts:
                run.ctx.clock.sleep(1.0)
                continue
            run.split_brain = True
            run.control_plane = {"unreachable": str(exc)}
            fix = " ".join(f"`georesil drill repair {svc}`" for svc in services)
            run.error = (f"{run.error + '; ' if run.error else ''}the control plane could not "
                         f"be read after the drill ({exc}): treat it as split until {fix} "
                         "shows register and parameter agree")


def _summary(run: DrillRun) -> dict[str, Any]:
    rtos = {s: run.rto(s) for s in run.runbook.doc.services}
    measured = [v for v in rtos.values() if v is not None]
    rpo = [m for m in run.rpo.values() if m.rpo_s is not None]  # the measured ones
    return {
        "status": run.status,
        "rto_s": max(measured) if measured and len(measured) == len(rtos) else None,
        "rpo_s": max(m.rpo_s or 0.0 for m in rpo) if rpo else None,
        "rpo_objects": sum(m.objects for m in rpo) if rpo else None,
        "rpo_bytes": sum(m.bytes for m in rpo) if rpo else None,
        "services": {s: {"rto_s": rtos[s],
                         "rpo": run.rpo[s].to_json() if s in run.rpo else None}
                     for s in run.runbook.doc.services},
        "duration_s": round(run.ctx.now() - run.started_ts, 3),
        "split_brain": run.split_brain,
        "control_plane": run.control_plane,
        "rolled_back": run.rolled_back,
        "rollback_failed": run.rollback_failed,
        "error": run.error,
    }


def raise_for_status(run: DrillRun) -> None:
    """Raise the :class:`DrillError` that matches a run that did not complete; its message
    always says why after the colon and names what to do next."""
    if run.status == "completed" and not run.rollback_failed and not run.split_brain:
        return
    outcome = run.outcome()
    message = outcome.message
    if run.split_brain:
        raise SafetyViolation(message, run_id=run.run_id, state=run.control_plane)
    if run.rollback_failed:
        raise RollbackFailed(message, run_id=run.run_id)
    if run.status == "refused":
        raise SafetyViolation(message, run_id=run.run_id)
    if run.status in ("aborted", "interrupted"):
        raise DrillInterrupted(message, run_id=run.run_id)
    if run.status == "failed":
        raise StepFailed(message, run_id=run.run_id)
    raise DrillError(message, run_id=run.run_id)
