"""``drill repair SERVICE``: one consistent control-plane entry for a service.

The register item (site, epoch and lock in one item, :mod:`georesil.drills.control`) is the
truth: its epoch is the last committed promotion. Repair

- releases the drill lock when the run holding it is over (its journal finished, or its
  process is gone) — never the lock of a run that is alive (stop that one with
  ``georesil drill abort`` first);
- rewrites the serving-site parameter (the derived copy applications read) from the register
  when they disagree, under its own lock.

:func:`plan_repair` says what it would change (nothing is written); :func:`repair_service`
applies a plan after approval.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from georesil.drills.control import ControlPlane, LockInfo
from georesil.drills.environment import Environment
from georesil.drills.journal import Journal
from georesil.drills.safety import acquire_lock, holder_running, release_lock
from georesil.errors import InvalidInput, SafetyViolation

__all__ = ["RepairPlan", "RepairResult", "plan_repair", "repair_service"]


@dataclass(frozen=True)
class RepairPlan:
    """What ``drill repair`` found and would change."""

    service: str
    site: str | None
    epoch: int
    by: str | None
    parameter: str | None
    lock: LockInfo | None
    release_lock_of: str | None
    rewrite_parameter: bool

    @property
    def changes(self) -> list[str]:
        out = []
        if self.release_lock_of:
            out.append(f"release the lock of run {self.release_lock_of} (its run is over)")
        if self.rewrite_parameter:
            out.append(f"set the serving-site parameter to {self.site!r} (it says "
                       f"{self.parameter!r})")
        return out

    def describe(self) -> list[str]:
        lines = [f"{self.service}: register names {self.site!r} at epoch {self.epoch} "
                 f"(by {self.by or 'provisioning'}); parameter {self.parameter!r}; lock "
                 f"{self.lock.describe() if self.lock else 'free'}"]
        return lines + ([f"  will {c}" for c in self.changes] or ["  consistent: nothing to "
                                                                  "repair"])

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "lock": asdict(self.lock) if self.lock else None,
                "changes": self.changes}


@dataclass(frozen=True)
class RepairResult:
    """The service's control-plane entry after a repair."""

    service: str
    site: str
    epoch: int
    released_lock_of: str | None
    parameter_rewritten: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def plan_repair(env: Environment, service: str, workdir: str | Path = ".") -> RepairPlan:
    """Read ``service``'s control-plane entry and say what a repair would change.

    Raises:
        InvalidInput: unknown service.
        SafetyViolation: a live drill holds the lock (stop it first), or the register names
            no site (nothing committed to repair from).
        CloudError: the control plane does not answer.
    """
    if service not in env.topology.services:
        env.topology.service(service)  # raises with the known services
    cp = ControlPlane(env.clients, env.outputs)
    record = cp.active(service)
    parameter = cp.parameter_site(service)
    lock = cp.read_lock(service)
    if lock is not None and _run_alive(lock):
        raise SafetyViolation(f"{service}: drill run {lock.run_id} holds the lock and is "
                              f"running; stop it with `georesil drill abort --run-id "
                              f"{lock.run_id}` (it rolls back), then repair", service=service)
    if record.site is None:
        raise SafetyViolation(f"{service}: the register names no site (nothing committed); "
                              "provision the stack again (`georesil lab up` or `georesil "
                              "provision`)", service=service)
    return RepairPlan(service, record.site, record.epoch, record.by, parameter, lock,
                      lock.run_id if lock is not None else None, parameter != record.site)


def repair_service(env: Environment, plan: RepairPlan) -> RepairResult:
    """Apply ``plan``: release the orphaned lock, then rewrite the parameter under a lock.

    Raises:
        SafetyViolation: the register changed since the plan (plan again).
    """
    cp = ControlPlane(env.clients, env.outputs)
    if plan.release_lock_of:
        release_lock(cp, plan.service, plan.release_lock_of)
    record = cp.active(plan.service)
    if (record.site, record.epoch) != (plan.site, plan.epoch) or record.site is None:
        raise SafetyViolation(f"{plan.service}: the register changed since it was read "
                              f"(now {record.site!r} at epoch {record.epoch}); run "
                              f"`georesil drill repair {plan.service}` again",
                              service=plan.service)
    if plan.rewrite_parameter:
        run_id = f"repair-{uuid.uuid4().hex[:8]}"
        now = time.time()
        acquire_lock(cp, plan.service, run_id, now=now, ttl_s=60.0)
        try:
            cp.set_active(plan.service, record.site, expect_epoch=record.epoch, run_id=run_id,
                          now=now)
        finally:
            release_lock(cp, plan.service, run_id)
    sites = cp.active_sites(plan.service)
    if sites != {record.site}:
        raise SafetyViolation(f"{plan.service}: still inconsistent after repair: "
                              f"{sorted(sites)}", service=plan.service)
    return RepairResult(plan.service, record.site, cp.active(plan.service).epoch,
                        plan.release_lock_of, plan.rewrite_parameter)


def _run_alive(lock: LockInfo) -> bool:
    """A lock's run is over when its journal finished or its process is gone."""
    if lock.journal:
        try:
            if Journal.load(lock.journal).finished is not None:
                return False
        except InvalidInput:
            pass  # no journal to read: judge by the process
    return holder_running(lock)
