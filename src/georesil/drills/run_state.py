"""The state of one drill run, shared by the phase functions (:mod:`georesil.drills.runner`)
and the step execution (:mod:`georesil.drills.step_execution`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from georesil.drills import measure, safety
from georesil.drills.context import DrillContext
from georesil.drills.journal import Journal
from georesil.drills.loader import Runbook, Step

__all__ = ["Approver", "DrillRun", "StepOutcome"]

Approver = Callable[[Step], bool]


@dataclass
class StepOutcome:
    """What one step did."""

    phase: str
    index: int
    id: str
    name: str
    kind: str
    status: str  # succeeded | failed | deviated
    duration_s: float
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class DrillRun:
    """The state of one run, shared by the phase functions."""

    runbook: Runbook
    ctx: DrillContext
    journal: Journal
    stop: safety.StopFlag
    approve: Approver
    started_ts: float
    method_ts: float | None = None
    fault_ts: dict[str, float] = field(default_factory=dict)
    cutover_ts: dict[str, float] = field(default_factory=dict)
    recovered_ts: dict[str, float] = field(default_factory=dict)
    rpo: dict[str, measure.RpoMeasurement] = field(default_factory=dict)
    outcomes: list[StepOutcome] = field(default_factory=list)
    last_verify: dict[str, Any] | None = None
    split_brain: bool = False
    error: str | None = None
    rolled_back: bool = False
    rollback_failed: bool = False
    status: str = "running"
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.ctx.run_id

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        return self.journal.append(event, ts=self.ctx.now(), **fields)

    def rto(self, service: str) -> float | None:
        start = self.fault_ts.get(service, self.method_ts)
        end = self.recovered_ts.get(service)
        return None if start is None or end is None else round(end - start, 3)
