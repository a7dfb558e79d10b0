"""``drill failback RUN_ID``: reverse a completed failover — storage, DNS or evacuation.

The journal of the run says which services moved, where each came from and where they went.
The failback is the bundled ``failback`` runbook (freeze, reverse sync, verify, switch, DNS,
unfreeze) bound to those services and sites: one drill per site the run moved services away
from (an evacuation from two sites is failed back as two drills), each with its own run id and
journal (``failback_of`` names the original run) and RTO/RPO measured like any drill. After an
unplanned drill in the lab, the killed site is revived first.

Every service the run left at its to-site is failed back, whatever the run's status (a run
that failed after its promotion and could not roll back leaves its services there: after
``drill repair``, the failback brings them home). Refused, with the reason, while the run is
still running, when it moved nothing (test mode, or it rolled back), or when a service is
neither where the run left it nor where it started (someone moved it since).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from georesil.drills.catalog import find_runbook
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.drills.journal import JournalView
from georesil.drills.loader import Runbook, load_runbook
from georesil.drills.run_state import Approver, DrillRun
from georesil.drills.runbook import Mode
from georesil.drills.runner import run_drill
from georesil.errors import SafetyViolation

__all__ = ["FAILBACK_RUNBOOK", "FailbackPlan", "plan_failback", "run_failback"]

#: The bundled runbook every failback runs.
FAILBACK_RUNBOOK = "failback"


@dataclass(frozen=True)
class FailbackPlan:
    """One failback drill: services back from ``from_site`` to ``to_site``."""

    of_run: str
    services: tuple[str, ...]
    from_site: str
    to_site: str
    revive: bool
    runbook: Runbook


def plan_failback(view: JournalView, env: Environment,
                  workdir: str | Path = ".") -> list[FailbackPlan]:
    """The failback drills that reverse the run in ``view``, in order.

    Raises:
        SafetyViolation: the run cannot be failed back; the message says why.
        InvalidRunbook: the failback runbook does not fit (e.g. no replica to go back to).
    """
    started = view.started
    if view.status == "running":
        raise _refusal(view, "it is still running; wait for it, or stop it with `georesil "
                       f"drill abort --run-id {view.run_id}` (it rolls back)")
    mode = Mode(started["mode"])
    if mode is Mode.TEST:
        raise _refusal(view, "it is a test-mode drill: it moved nothing")
    to_site = str(started["to_site"])
    groups = _left_at_to_site(view, env, to_site)
    if not groups:
        raise _refusal(view, f"nothing to fail back: no service is at {to_site!r} (the run "
                       f"{view.status}; its services are where they started)")
    revive = mode is Mode.UNPLANNED and env.lab is not None
    path = find_runbook(FAILBACK_RUNBOOK, workdir)
    plans = []
    for site, services in groups.items():
        params = {"services": ",".join(services), "from": to_site, "to": site,
                  "revive": str(revive).lower()}
        runbook = load_runbook(path, topology=env.topology, parameters=params)
        plans.append(FailbackPlan(view.run_id, tuple(services), to_site, site, revive,
                                  runbook))
    return plans


def _left_at_to_site(view: JournalView, env: Environment, to_site: str
                     ) -> dict[str, list[str]]:
    """From-site → the services the run left at ``to_site`` (the control plane says)."""
    control = ControlPlane(env.clients, env.outputs)
    groups: dict[str, list[str]] = {}
    for svc, site in dict(view.started.get("from_sites") or {}).items():
        active = control.active(svc)
        if active.site == to_site:
            groups.setdefault(str(site), []).append(str(svc))
        elif active.site != site:
            raise _refusal(view, f"{svc} is active at {active.site!r} (epoch {active.epoch}, "
                           f"changed by {active.by or 'provisioning'}), neither at "
                           f"{to_site!r} where the run took it nor at {site!r} where it "
                           "started; it has been moved since — see `georesil drill history`")
    return groups


def run_failback(plans: list[FailbackPlan], env: Environment, *, workdir: str | Path = ".",
                 approve: Approver | None = None,
                 on_start: Callable[[FailbackPlan], None] | None = None) -> list[DrillRun]:
    """Run the failback drills in order; stop after the first that does not complete."""
    runs = []
    for plan in plans:
        if on_start is not None:
            on_start(plan)
        run = run_drill(plan.runbook, env, workdir=workdir, approve=approve,
                        failback_of=plan.of_run)
        runs.append(run)
        if run.status != "completed":
            break
    return runs


def _refusal(view: JournalView, why: str) -> SafetyViolation:
    return SafetyViolation(f"cannot fail back run {view.run_id} "
                           f"({view.started.get('name')}): {why}", run_id=view.run_id)
