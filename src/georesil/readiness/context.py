"""``ReadinessContext``: what every readiness check gets.

The deployed world is reached the way drills reach it — a drill
:class:`~georesil.drills.environment.Environment` (topology, per-site clients, stack outputs, the
lab if any) — plus the working directory (mirror checkpoints, drill journals), the time of the
run, and how to tell whether a site's endpoint is healthy: Route 53's own health checks where
Route 53 can probe, georesil's probe where it cannot (the lab, private addresses).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from georesil.cloud.retry import retry_policy
from georesil.drills.environment import UsesEnvironment, lab_environment, outputs_environment
from georesil.errors import CloudError
from georesil.lab.lifecycle import probe
from georesil.lab.state import require_state
from georesil.model.schema import ServiceKind

if TYPE_CHECKING:
    from georesil.drills.environment import Environment
    from georesil.model import Topology

__all__ = ["ReadinessContext", "READINESS_CLIENTS", "lab_context", "outputs_context"]

#: Readiness asks, it does not insist: one attempt and short timeouts, so an unreachable site
#: is reported within seconds instead of holding up every other check (the next scheduled run
#: asks again).
READINESS_CLIENTS: dict[str, Any] = {
    "policy": functools.partial(retry_policy, attempts=1, deadline_s=3.0),
    "connect_timeout_s": 1.0, "read_timeout_s": 10.0,
}


@dataclass
class ReadinessContext(UsesEnvironment):
    """Everything a readiness check may use.

    Attributes:
        env: Topology, clients, stack outputs and the lab (when the world is a lab).
        workdir: Where ``.georesil/`` lives (mirror checkpoints, drill journals).
        now: The time of the run (Unix seconds); every age is measured from it.
        probe: ``probe(site) -> healthy?`` — georesil's own health probe of a site's endpoint,
            used instead of Route 53's health-check status where Route 53 cannot probe (the
            lab). ``None``: ask Route 53.
        deployed_at: When the deployment was created (Unix seconds), if known: a service that
            has never been drilled is overdue only once the drill policy's age has passed since.
    """

    env: Environment
    workdir: Path
    now: float
    probe: Callable[[str], bool] | None = None
    deployed_at: float | None = None
    _control_error: str | None = field(default=None, init=False)


    def storage_services(self) -> list[str]:
        """Object-storage services, in file order."""
        return [s.id for s in self.topology.services.values()
                if s.kind is ServiceKind.OBJECT_STORAGE]

    def control_unreachable(self) -> str | None:
        """Why the control plane cannot be read, or ``None`` when it answers (asked once)."""
        if "_control_checked" not in self.__dict__:
            self.__dict__["_control_checked"] = True
            try:
                self.control.ddb("describe_table")
            except CloudError as exc:
                self._control_error = str(exc)
        return self._control_error


def lab_context(workdir: Path, now: float | None = None) -> ReadinessContext:
    """The lab in ``workdir`` as a readiness context: its endpoints, outputs and a health
    probe that asks each site's server directly (moto's Route 53 always says healthy).

    Raises:
        InvalidInput: there is no lab in ``workdir``.
    """
    state = require_state(workdir)
    env = lab_environment(workdir, **READINESS_CLIENTS)
    endpoints = state.endpoints()

    def healthy(site: str) -> bool:
        url = endpoints.get(site)
        return url is not None and probe(url, timeout_s=1.0) is not None

    return ReadinessContext(env, Path(workdir), time.time() if now is None else now,
                            probe=healthy, deployed_at=state.created_at)


def outputs_context(topology: Topology, outputs_file: Path, workdir: Path,
                    now: float | None = None) -> ReadinessContext:
    """A deployed stack (its saved outputs) as a readiness context; Route 53 judges health.

    Raises:
        InvalidInput: the outputs file is missing or malformed.
    """
    env = outputs_environment(topology, outputs_file, **READINESS_CLIENTS)
    return ReadinessContext(env, Path(workdir), time.time() if now is None else now)
