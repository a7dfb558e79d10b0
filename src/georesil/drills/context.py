"""``DrillContext``: what every step function gets — the environment (topology, per-site
clients, stack outputs, lab), the control plane, the run's sites, a clock, a logger bound with
the run id, and a way to record events. Site placeholders (``$from``, ``$to``, ``$active``)
are resolved here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from georesil.drills.environment import Clock, Environment, SystemClock, UsesEnvironment
from georesil.drills.runbook import ACTIVE, FROM, TO, Mode
from georesil.errors import InvalidInput
from georesil.provision.outputs import bucket_name_key

if TYPE_CHECKING:
    from georesil.drills.safety import StopFlag

__all__ = ["DrillContext"]


@dataclass
class DrillContext(UsesEnvironment):
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
        key = bucket_name_key(service, site)
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
