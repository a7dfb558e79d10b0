"""Drill checks: each service has been drilled recently enough for its tier, in each mode that
moves it (planned and unplanned), and the last drill met its objectives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from georesil.drills.history import journal_paths, summarise
from georesil.drills.journal import Journal
from georesil.drills.runbook import Mode
from georesil.errors import InvalidInput
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import check
from georesil.readiness.results import CheckResult, CheckStatus

__all__ = ["DRILLED_MODES", "LastDrill", "last_drills"]

#: The modes that really move a service; a test-mode drill changes nothing that serves.
DRILLED_MODES = (Mode.PLANNED, Mode.UNPLANNED)


@dataclass(frozen=True)
class LastDrill:
    """The most recent completed drill of one service in one mode."""

    service: str
    mode: Mode
    run_id: str
    runbook: str
    started_at: float
    rto_s: float | None
    rpo_s: float | None
    rto_target_s: float | None
    rpo_target_s: float | None


def last_drills(ctx: ReadinessContext) -> dict[tuple[str, Mode], LastDrill]:
    """The latest completed drill per (service, mode) in the working directory's history."""
    found: dict[tuple[str, Mode], LastDrill] = {}
    for path in journal_paths(ctx.workdir):
        try:
            view = Journal.load(path)
        except InvalidInput:
            continue
        entry = summarise(view)
        if entry["status"] != "completed" or entry["mode"] not in {m.value for m in Mode}:
            continue
        for service in view.started.get("services") or ():
            drill = _last(service, Mode(entry["mode"]), entry)
            key = (service, drill.mode)
            if key not in found or found[key].started_at < drill.started_at:
                found[key] = drill
    return found


def _last(service: str, mode: Mode, entry: dict[str, Any]) -> LastDrill:
    started = datetime.fromisoformat(str(entry["started_at"]).replace("Z", "+00:00"))
    return LastDrill(service, mode, entry["run_id"], str(entry["runbook"]),
                     started.timestamp(), entry["rto_s"], entry["rpo_s"],
                     entry["rto_target_s"], entry["rpo_target_s"])


@check("drills.recent", "each service was drilled, per mode, within its tier's policy")
def recent(ctx: ReadinessContext) -> Iterator[CheckResult]:
    policy = ctx.topology.doc.readiness
    history = last_drills(ctx)
    for service, spec in ctx.topology.services.items():
        if len(spec.replicas) < 2:
            continue
        limit = policy.drill_age_limit_s(spec.tier)
        for mode in DRILLED_MODES:
            yield _judge(ctx, service, mode, history.get((service, mode)), limit, spec.tier)


def _judge(ctx: ReadinessContext, service: str, mode: Mode, last: LastDrill | None,
           limit_s: float, tier: int) -> CheckResult:
    days = limit_s / 86400
    fix = (f"run a {mode.value} drill of {service} (`georesil drill list` shows the runbooks; "
           f"tier {tier} allows {days:g} days between drills)")
    if last is None:
        since = ctx.deployed_at
        if since is not None and ctx.now - since <= limit_s:
            return CheckResult("drills.recent", CheckStatus.OK, service, None,
                               f"no {mode.value} drill yet; deployed {_days(ctx.now - since)} "
                               f"ago, due within {days:g} days of deployment")
        return CheckResult("drills.recent", CheckStatus.FAIL, service, None,
                           f"no completed {mode.value} drill on record", fix)
    age = ctx.now - last.started_at
    if age > limit_s:
        return CheckResult("drills.recent", CheckStatus.FAIL, service, None,
                           f"last {mode.value} drill {last.run_id} was {_days(age)} ago "
                           f"(policy {days:g} days)", fix, value=age)
    missed = _missed(last)
    if missed:
        return CheckResult("drills.recent", CheckStatus.WARN, service, None,
                           f"{mode.value} drill {last.run_id} {_days(age)} ago missed its "
                           f"objectives: {missed}",
                           "find why recovery took longer or lost more than the target; the "
                           "journal (`georesil drill history`) has each step's timing", value=age)
    return CheckResult("drills.recent", CheckStatus.OK, service, None,
                       f"{mode.value} drill {last.run_id} {_days(age)} ago: " + _measured(last),
                       value=age)


def _missed(last: LastDrill) -> str:
    out = []
    if last.rto_s is not None and last.rto_target_s is not None and last.rto_s > last.rto_target_s:
        out.append(f"RTO {last.rto_s:.1f} s > target {last.rto_target_s:g} s")
    if last.rpo_s is not None and last.rpo_target_s is not None and last.rpo_s > last.rpo_target_s:
        out.append(f"RPO {last.rpo_s:.1f} s > target {last.rpo_target_s:g} s")
    return "; ".join(out)


def _measured(last: LastDrill) -> str:
    rto = "not measured" if last.rto_s is None else f"{last.rto_s:.1f} s"
    rpo = "not measured" if last.rpo_s is None else f"{last.rpo_s:.1f} s"
    return f"RTO {rto}, RPO {rpo}"


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days" if seconds >= 86400 else f"{seconds / 3600:.1f} h"
