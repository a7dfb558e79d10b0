"""``DrillContext``: what every step gets — the topology, per-site clients, stack outputs, the
control plane, a clock, a logger bound with the run id, and a way to record events.

Build one for the lab with :func:`lab_environment` + :class:`DrillContext`, or hand in your own
clients and outputs (tests use in-process moto).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from georesil.drills.control import ControlPlane
from georesil.drills.runbook import ACTIVE, FROM, TO, Mode
from georesil.errors import InvalidInput
from georesil.lab import lab_clients

if TYPE_CHECKING:
    from georesil.cloud import SiteClients
    from georesil.drills.safety import StopFlag
    from georesil.model import Topology
    from georesil.provision.outputs import StackOutputs

__all__ = ["Clock", "DrillContext", "Environment", "SystemClock", "lab_environment",
           "outputs_environment"]


class Clock(Protocol):
    """Wall-clock time (Unix seconds) and sleeping; tests inject a fake."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class LabControl(Protocol):
    """Takes lab sites out and brings them back (``lab.kill_site`` / ``lab.revive_site``)."""

    def kill(self, site: str) -> None: ...

    def revive(self, site: str) -> None: ...


@dataclass(frozen=True)
class Environment:
    """Where a drill runs: the topology, clients, stack outputs, and the lab (if any)."""

    topology: Topology
    clients: SiteClients
    outputs: StackOutputs
    lab: LabControl | None = None


def lab_environment(workdir: str | Path = ".", **client_kwargs: Any) -> Environment:
    """The lab recorded under ``workdir/.georesil/lab`` as a drill environment.

    Raises:
        InvalidInput: there is no lab in ``workdir`` (say how to start one).
    """
    from georesil.drills._lab import WorkdirLab
    from georesil.lab.state import require_state
    from georesil.provision.outputs import StackOutputs

    state = require_state(workdir)
    clients = lab_clients(state, **client_kwargs)
    return Environment(state.topology(), clients, StackOutputs(state.outputs),
                       WorkdirLab(Path(workdir)))


def outputs_environment(topology: Topology, outputs_file: str | Path,
                        **client_kwargs: Any) -> Environment:
    """A deployed stack as a drill environment: the topology's own endpoints (regions,
    URLs, profiles) and the stack outputs saved as JSON (``pulumi stack output --json``, or
    the outputs of ``georesil provision``). No lab: ``lab.*`` steps are refused.

    Raises:
        InvalidInput: the file is missing or not a JSON object.
    """
    import json

    from georesil.cloud import SiteClients
    from georesil.provision.outputs import StackOutputs

    path = Path(outputs_file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read stack outputs ({exc}); give the JSON of "
                           "`pulumi stack output --json`", path=str(path)) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: stack outputs must be a JSON object of key: value",
                           path=str(path))
    plain = {k: v["value"] if isinstance(v, dict) and set(v) <= {"value", "secret"} else v
             for k, v in data.items()}
    return Environment(topology, SiteClients(topology, **client_kwargs), StackOutputs(plain))


@dataclass
class DrillContext:
    """Everything a step function may use.

    Attributes:
        env: Topology, clients, outputs and lab.
        run_id: This run's id (bound into every log line).
        services: The services the runbook moves.
        from_sites: Service -> the site it is moved away from (its active site at the start).
        to_site: Where the services go.
        mode: test, planned or unplanned.
        workdir: Working directory (``.georesil/`` lives there).
        clock: Wall clock; steps sleep through :meth:`sleep` so a stop request cuts waits short.
        record: ``record(event, **fields)`` appends to the journal.
        stop: The stop flag (abort / signal), or ``None``.
        epochs: Register epoch per service as this run last saw or wrote it.
    """

    env: Environment
    run_id: str
    services: tuple[str, ...]
    from_sites: dict[str, str]
    to_site: str
    mode: Mode
    workdir: Path
    clock: Clock = field(default_factory=SystemClock)
    record: Callable[..., Any] = lambda event, **fields: None
    stop: StopFlag | None = None
    epochs: dict[str, int] = field(default_factory=dict)

    @property
    def topology(self) -> Topology:
        return self.env.topology

    @property
    def clients(self) -> SiteClients:
        return self.env.clients

    @property
    def outputs(self) -> StackOutputs:
        return self.env.outputs

    @cached_property
    def control(self) -> ControlPlane:
        return ControlPlane(self.env.clients, self.env.outputs)

    @cached_property
    def log(self) -> Any:
        return structlog.get_logger("georesil.drills").bind(run_id=self.run_id)

    # -- resolving arguments ---------------------------------------------------------------
    def services_for(self, service: str | None) -> tuple[str, ...]:
        """The one service named, or every service of the runbook."""
        return (service,) if service else self.services

    def site(self, ref: str, service: str | None = None) -> str:
        """A site argument with ``$from`` / ``$to`` resolved (``$from`` per service)."""
        if ref == TO:
            return self.to_site
        if ref == ACTIVE:
            if service is None:
                raise InvalidInput("'$active' needs a service")
            site = self.control.active(service).site
            if site is None:
                raise InvalidInput(f"{service!r} has no active site in the control plane")
            return site
        if ref == FROM:
            if service is None:
                distinct = sorted(set(self.from_sites.values()))
                if len(distinct) != 1:
                    raise InvalidInput(f"'$from' is ambiguous here: the services come from "
                                       f"{distinct}; name the site or the service")
                return distinct[0]
            return self.from_sites[service]
        return ref

    def sites_for(self, ref: str, service: str | None) -> tuple[str, ...]:
        """``$from`` without a service: every from-site (e.g. killing all of them)."""
        if ref == FROM and service is None:
            return tuple(dict.fromkeys(self.from_sites[s] for s in self.services))
        return (self.site(ref, service),)

    def bucket(self, service: str, site: str) -> str | None:
        """The bucket of ``service`` at ``site``, ``None`` when it has none there."""
        key = f"bucket.{service}.{site}.name"
        return str(self.outputs.get(key)) if key in self.outputs else None

    def endpoint_url(self, site: str) -> str | None:
        return self.clients.endpoint(site).url

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float, step_s: float = 0.1) -> bool:
        """Sleep up to ``seconds``; returns ``False`` early when the drill must stop."""
        deadline = self.clock.now() + seconds
        while True:
            if self.stop is not None and self.stop.reason:
                return False
            left = deadline - self.clock.now()
            if left <= 0:
                return True
            self.clock.sleep(min(step_s, left))
