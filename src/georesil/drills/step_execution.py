"""Executing one step: its timeout, its journal events, and what its result means — faults
and cutovers become measurements, probes are held to their tolerance."""

from __future__ import annotations

import concurrent.futures
import contextvars
import time
from typing import Any

import structlog

from georesil.drills import measure
from georesil.drills.context import DrillContext
from georesil.drills.loader import Step
from georesil.drills.run_state import DrillRun, StepOutcome
from georesil.drills.runbook import FROM, TO, Mode, Tolerance
from georesil.errors import GeoresilError

__all__ = ["execute_step", "probe_recovery", "within"]

log = structlog.get_logger(__name__)


def probe_recovery(run: DrillRun) -> None:
    test_mode = run.runbook.doc.mode is Mode.TEST
    for svc in run.runbook.doc.services:
        if svc in run.recovered_ts or (not test_mode and svc not in run.cutover_ts):
            continue
        ok, detail = measure.recovered(run.ctx, svc, through_control_plane=not test_mode)
        if ok:
            run.recovered_ts[svc] = run.ctx.now()
            run.record("measurement", service=svc, what="rto", value_s=run.rto(svc),
                       fault_ts=run.fault_ts.get(svc, run.method_ts),
                       recovered_ts=run.recovered_ts[svc], site=run.ctx.to_site,
                       detail=detail)


# -- one step ------------------------------------------------------------------------------
def execute_step(run: DrillRun, step: Step, *, phase: str) -> StepOutcome:
    """Run one step with its timeout, journal it, and turn its result into measurements."""
    base = {"phase": phase, "index": step.index, "step": step.id, "name": step.definition.name}
    run.record("step.started", **base, kind=step.definition.kind.value,
               safe_to_repeat=step.safe_to_repeat)
    started = time.monotonic()
    log.info("step.started", **base)
    try:
        result = _call_with_timeout(run, step)
    except (GeoresilError, TimeoutError) as exc:
        return _failed(run, step, base, started, exc)
    outcome = StepOutcome(phase, step.index, step.id, step.definition.name,
                          step.definition.kind.value, "succeeded",
                          round(time.monotonic() - started, 3), result)
    if step.tolerance is not None and not within(step.tolerance, result, run.ctx):
        outcome.status = "deviated"
    _after_step(run, step, result)
    world = _world_snapshot(run) if phase == "method" else {}
    event = "step.succeeded" if outcome.status == "succeeded" else "step.failed"
    run.record(event, **base, duration_s=outcome.duration_s, result=result,
               deviated=outcome.status == "deviated", **world)
    log.info(event, duration_s=outcome.duration_s, **base)
    run.outcomes.append(outcome)
    return outcome


def _call_with_timeout(run: DrillRun, step: Step) -> dict[str, Any]:
    context = contextvars.copy_context()  # the worker keeps the bound run id
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="step")
    try:
        future = pool.submit(context.run, step.definition.fn, run.ctx, step.args)
        try:
            return future.result(timeout=step.spec.timeout_s)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"step {step.id!r} did not finish within "
                               f"{step.spec.timeout_s:g} s") from None
    finally:
        pool.shutdown(wait=False)


def _failed(run: DrillRun, step: Step, base: dict[str, Any], started: float,
            exc: BaseException) -> StepOutcome:
    outcome = StepOutcome(base["phase"], step.index, step.id, step.definition.name,
                          step.definition.kind.value, "failed",
                          round(time.monotonic() - started, 3), None, str(exc))
    run.record("step.failed", **base, duration_s=outcome.duration_s, error=str(exc),
               error_type=type(exc).__name__)
    log.warning("step.failed", error=str(exc), **base)
    run.outcomes.append(outcome)
    return outcome


def _after_step(run: DrillRun, step: Step, result: dict[str, Any]) -> None:
    for fault in result.get("faults", []):
        if fault["service"] not in run.fault_ts:
            run.fault_ts[fault["service"]] = fault["ts"]
            run.record("fault", service=fault["service"], site=fault["site"], at=fault["ts"])
    if step.definition.name == "mirror.lag":
        run.last_verify = result
    for cut in result.get("cutovers", []):
        if cut["to_site"] == run.ctx.to_site and cut["service"] not in run.cutover_ts:
            _cutover(run, cut)
    if run.cutover_ts and run.runbook.doc.mode is not Mode.TEST:
        probe_recovery(run)


def _cutover(run: DrillRun, cut: dict[str, Any]) -> None:
    svc = cut["service"]
    run.cutover_ts[svc] = cut["ts"]
    run.record("cutover", service=svc, from_site=cut["from_site"], to_site=cut["to_site"],
               at=cut["ts"])
    planned = run.runbook.doc.mode is not Mode.UNPLANNED
    ref = cut["ts"] if planned else run.fault_ts.get(svc, cut["ts"])
    rpo = measure.measure_rpo(run.ctx, svc, cut["from_site"], cut["to_site"], ref_ts=ref,
                              cutover_ts=cut["ts"], last_verify=run.last_verify)
    run.rpo[svc] = rpo
    run.record("measurement", what="rpo", **rpo.to_json())


def _world_snapshot(run: DrillRun) -> dict[str, Any]:
    try:
        active = {svc: run.ctx.control.active(svc).site for svc in run.runbook.doc.services}
    except GeoresilError:
        return {}
    return {"active": active, "epochs": dict(run.ctx.epochs)}


def within(tolerance: Tolerance, result: dict[str, Any], ctx: DrillContext) -> bool:
    """Whether ``result`` satisfies ``tolerance`` (string bounds may use ``$from``/``$to``)."""
    value: Any = result
    for part in tolerance.path.split("."):
        value = value.get(part) if isinstance(value, dict) else None

    def resolve(bound: Any) -> Any:
        return ctx.site(bound) if bound in (FROM, TO) else bound

    if tolerance.equals is not None and value != resolve(tolerance.equals):
        return False
    if tolerance.one_of is not None and value not in [resolve(b) for b in tolerance.one_of]:
        return False
    if tolerance.min is not None and not (isinstance(value, (int, float))
                                          and value >= tolerance.min):
        return False
    return tolerance.max is None or (isinstance(value, (int, float)) and value <= tolerance.max)
