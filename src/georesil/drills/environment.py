"""Where a drill runs: the topology, per-site clients, the stack outputs, the lab (if any) and
a clock.

Build one for the lab of a working directory with :func:`lab_environment`, for a deployed
stack with :func:`outputs_environment`, or hand in your own clients and outputs (tests use
in-process moto).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from georesil.cloud import SiteClients
from georesil.drills.control import ControlPlane
from georesil.errors import InvalidInput
from georesil.lab import kill_site, lab_clients, require_state, revive_site
from georesil.model import Topology
from georesil.provision.outputs import StackOutputs

__all__ = ["Clock", "Environment", "LabControl", "SystemClock", "UsesEnvironment", "WorkdirLab",
           "lab_environment", "outputs_environment"]


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
class WorkdirLab:
    """The lab of a working directory, through :mod:`georesil.lab`."""

    workdir: Path

    def kill(self, site: str) -> None:
        kill_site(site, self.workdir)

    def revive(self, site: str) -> None:
        revive_site(site, self.workdir)


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


class UsesEnvironment:
    """Shortcuts for a context that holds an :class:`Environment` as ``env``: its topology,
    clients and outputs, and the control plane they reach (drills and readiness share these)."""

    env: Environment

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

