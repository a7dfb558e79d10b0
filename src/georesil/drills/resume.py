"""``drill resume JOURNAL``: continue a drill whose orchestrator died.

The journal says which method steps completed and what the control plane looked like after
the last one (active site and register epoch per service). Resuming is refused, with the
reason, when

- the drill finished, or its process is still alive;
- the runbook changed since the run started (its SHA-256 differs);
- a step was in flight when the process died and is not safe to repeat (the world may or may
  not have changed: check by hand);
- the world no longer matches the journal: a service is active elsewhere, or its register
  epoch moved — unless the step in flight was this run's own ``control.set_active_site``
  whose write landed (the register names the run id);
- the control plane is split (two sites active for a service).

Otherwise the run takes its locks again (same run id), appends ``drill.resumed``, repeats the
step in flight (idempotent) or starts after the last completed one, and ends like any run.
A run that died during its rollbacks resumes the rollbacks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from structlog.contextvars import bound_contextvars

from georesil.drills import measure, safety
from georesil.drills.context import DrillContext
from georesil.drills.environment import Clock, Environment, SystemClock
from georesil.drills.journal import Journal, JournalView
from georesil.drills.loader import Runbook, load_runbook
from georesil.drills.parameters import as_text
from georesil.drills.runbook import Mode
from georesil.drills.runner import (
    Approver,
    DrillRun,
    _run_phases,
    finish_run,
    run_rollbacks,
)
from georesil.errors import SafetyViolation

__all__ = ["resume_drill"]


def resume_drill(journal_path: str | Path, env: Environment, *, clock: Clock | None = None,
                 approve: Approver | None = None) -> DrillRun:
    """Continue the drill recorded in ``journal_path``.

    Raises:
        SafetyViolation: resuming is not safe; the message says why and what to check.
        InvalidInput: the journal or the runbook cannot be read.
    """
    view = Journal.load(journal_path)
    _refuse_unless_resumable(view)
    runbook = load_runbook(view.started["runbook"], topology=env.topology,
                           parameters=as_text(view.started.get("parameters") or {}))
    if runbook.sha256 != view.started.get("runbook_sha256"):
        raise _refusal(view, f"the runbook {view.started['runbook']} changed since the run "
                       "started; resume needs the same runbook — put it back, or release the "
                       f"run's locks with {_repairs(view)} and start a new drill")
    start_index = _next_step(view, runbook)
    run = _rebuild(view, runbook, env, clock or SystemClock(), approve)
    try:
        _check_world(view, run, start_index)
        for svc in runbook.doc.services:
            safety.acquire_lock(run.ctx.control, svc, run.run_id, now=run.ctx.now(),
                                journal=str(run.journal.path.resolve()))
    except BaseException:
        run.journal.close()
        raise
    safety.register_running(run.ctx.workdir, run.run_id, Path(journal_path))
    run.record("drill.resumed", pid=os.getpid(), from_index=start_index)
    with bound_contextvars(run_id=run.run_id, drill=runbook.name), \
            run.stop.catching_signals():
        try:
            rollback = next(view.of("rollback.started"), None)
            if rollback is not None:  # it died rolling back: finish the rollback
                run.status = str(rollback.get("status") or "failed")
            else:
                run.status = _run_phases(run, start_index=start_index)
        finally:
            run_rollbacks(run)
            finish_run(run)
    return run


def _refuse_unless_resumable(view: JournalView) -> None:
    status = view.status
    if status == "running":
        raise _refusal(view, "the drill is still running; stop it with `georesil drill "
                       "abort` first")
    if view.finished is not None:
        raise _refusal(view, f"the drill already finished ({status}); nothing to resume — "
                       f"see `georesil drill history`, or `georesil drill failback "
                       f"{view.run_id}` to reverse it")


def _next_step(view: JournalView, runbook: Runbook) -> int:
    in_flight = view.in_flight("method")
    done = view.completed("method")
    if in_flight is not None:
        step = runbook.method[int(in_flight["index"])]
        if not step.safe_to_repeat:
            raise _refusal(view, f"step {step.id!r} ({step.definition.name}) was in flight "
                           "when the drill died and is not safe to repeat; check its effect "
                           f"by hand, release the run's locks with {_repairs(view)}, then run "
                           "the rest of the runbook yourself")
        return step.index
    return max(done) + 1 if done else 0


def _check_world(view: JournalView, run: DrillRun, start_index: int) -> None:
    expected, epochs = view.last_world()
    in_flight = view.in_flight("method")
    own_write = (in_flight is not None
                 and in_flight.get("name") == "control.set_active_site")
    control = run.ctx.control
    for svc in run.runbook.doc.services:
        sites = control.active_sites(svc)
        record = control.active(svc)
        if len(sites) > 1 and not own_write:
            raise _refusal(view, f"split brain: {svc} is active at {sorted(sites)}; make the "
                           f"control plane consistent with `georesil drill repair {svc}`")
        if record.site == expected.get(svc) and record.epoch == epochs.get(svc, record.epoch):
            continue
        if own_write and record.by == run.run_id:
            if record.site is not None and len(sites) > 1:
                # Died between the register write and its derived copy: finish the write
                # (the register is this run's own; no new epoch is written).
                control.set_active(svc, record.site, expect_epoch=record.epoch,
                                   run_id=run.run_id, now=run.ctx.now())
            run.ctx.epochs[svc] = record.epoch
            continue
        raise _refusal(view, f"the world no longer matches the journal: {svc} is active at "
                       f"{record.site!r} (epoch {record.epoch}, changed by "
                       f"{record.by or 'provisioning'}), the journal says {expected.get(svc)!r}"
                       f" (epoch {epochs.get(svc)}) after step {start_index}; someone moved "
                       f"it — release this run's locks with {_repairs(view)}; `georesil drill "
                       "history` shows who moved it")


def _rebuild(view: JournalView, runbook: Runbook, env: Environment, clock: Clock,
             approve: Approver | None) -> DrillRun:
    started = view.started
    workdir = Path(started.get("workdir") or ".")
    _, epochs = view.last_world()
    ctx = DrillContext(env, view.run_id, runbook.doc.services, dict(started["from_sites"]),
                       runbook.doc.to_site, Mode(started["mode"]), workdir, clock=clock,
                       epochs=dict(epochs))
    run = DrillRun(runbook, ctx, Journal.reopen(view.path), safety.StopFlag(workdir,
                                                                            view.run_id),
                   approve or (lambda step: True), float(started["ts"]))
    ctx.stop, ctx.record = run.stop, run.record
    _replay_measurements(view, run)
    return run


def _replay_measurements(view: JournalView, run: DrillRun) -> None:
    for e in view.events:
        kind = e.get("event")
        if kind == "method.started":
            run.method_ts = float(e["ts"])
        elif kind == "fault":
            run.fault_ts.setdefault(e["service"], float(e["at"]))
        elif kind == "cutover":
            run.cutover_ts.setdefault(e["service"], float(e["at"]))
        elif kind == "measurement" and e.get("what") == "rpo":
            fields: dict[str, Any] = {k: e[k] for k in
                                      measure.RpoMeasurement.__dataclass_fields__}
            run.rpo[e["service"]] = measure.RpoMeasurement(**fields)
        elif kind == "measurement" and e.get("what") == "rto":
            run.recovered_ts[e["service"]] = float(e["recovered_ts"])


def _repairs(view: JournalView) -> str:
    services = view.started.get("services") or []
    return " and ".join(f"`georesil drill repair {svc}`" for svc in services) or \
        "`georesil drill repair SERVICE`"


def _refusal(view: JournalView, why: str) -> SafetyViolation:
    return SafetyViolation(f"cannot resume {view.path} (run {view.run_id}): {why}",
                           run_id=view.run_id, path=str(view.path))
