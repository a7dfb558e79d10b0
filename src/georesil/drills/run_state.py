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

__all__ = ["Approver", "DrillOutcome", "DrillRun", "StepOutcome"]

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


@dataclass(frozen=True)
class DrillOutcome:
    """How a run ended, in words a person (or the demo) can act on.

    Attributes:
        run_id: The run.
        runbook: The runbook's name.
        status: completed, deviated, failed, aborted, interrupted or refused.
        reason: Why it did not complete (never empty unless it completed).
        next_step: What to do now (a command that works).
        interrupted: A signal (Ctrl-C, SIGTERM) stopped it: the caller should stop too.
        journal: The run's journal.
    """

    run_id: str
    runbook: str
    status: str
    reason: str
    next_step: str
    interrupted: bool
    journal: str

    @property
    def message(self) -> str:
        return (f"drill {self.runbook} ({self.run_id}) {self.status}: {self.reason}"
                + (f"; {self.next_step}" if self.next_step else ""))


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
    control_plane: dict[str, Any] | None = None
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

    def outcome(self) -> DrillOutcome:
        """The run's end as a typed result with a reason and a next step."""
        services = " ".join(self.runbook.doc.services)
        reason = self.error or {
            "completed": "", "refused": "refused before anything ran",
            "interrupted": "stopped by a signal", "aborted": "stopped by request",
        }.get(self.status, f"ended {self.status}")
        if self.split_brain:
            fix = " ".join(f"`georesil drill repair {s}`" for s in self.runbook.doc.services)
            next_step = (f"the control plane is inconsistent ({self.control_plane}); repair "
                         f"it with {fix}, then fail back with `georesil drill failback "
                         f"{self.run_id}` if a service is left at the to-site")
        elif self.rollback_failed:
            next_step = (f"a rollback step failed, the world may be in between: check "
                         f"`georesil drill repair {services}` and the journal "
                         f"{self.journal.path}")
        elif self.status in ("interrupted", "aborted", "deviated", "failed"):
            done = "rolled back" if self.rolled_back else "nothing to roll back"
            next_step = (f"{done}; run it again with `georesil drill run "
                         f"{self.runbook.name}` (journal {self.journal.path})")
        else:
            next_step = ""
        return DrillOutcome(self.run_id, self.runbook.name, self.status, reason, next_step,
                            self.status == "interrupted", str(self.journal.path))
