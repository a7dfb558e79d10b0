"""Wiring a local lab for a workflow: start it once, and build everything from that one state.

:func:`open_lab` starts (or replaces) the lab and returns a :class:`LabWorld`: the recorded
:class:`~georesil.lab.LabState` and a drill :class:`~georesil.drills.Environment`
built from it and from the topology already in memory — the state file is read once and the
topology is never dumped and parsed back. Settings are passed in explicitly; nothing here
reads or writes ``os.environ``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from georesil.cloud import Credentials, SiteClients, retry_policy
from georesil.drills import Environment
from georesil.drills.environment import WorkdirLab
from georesil.lab import LabState, lab_down, lab_up
from georesil.model import Topology
from georesil.provision.outputs import StackOutputs

__all__ = ["LabSettings", "LabWorld", "close_lab", "open_lab"]


@dataclass(frozen=True)
class LabSettings:
    """How to start the lab.

    Attributes:
        seed_objects: Sample objects per object-storage primary, so drills move real data.
        replace: Stop a lab already recorded in the directory and start afresh.
    """

    seed_objects: int = 20
    replace: bool = True


@dataclass(frozen=True)
class LabWorld:
    """A running lab: its recorded state and the drill environment built from it."""

    workdir: Path
    state: LabState
    env: Environment

    def clients(self, *, attempts: int | None = None, connect_timeout_s: float = 5.0,
                read_timeout_s: float = 30.0) -> SiteClients:
        """Fresh clients for the lab's sites (``attempts=1``: never retry, for a writer that
        must notice a dead site at once)."""
        policy = partial(retry_policy, attempts=attempts) if attempts else retry_policy
        return SiteClients(self.env.topology, self.state.endpoints(),
                           credentials=Credentials(*self.state.credentials), policy=policy,
                           connect_timeout_s=connect_timeout_s, read_timeout_s=read_timeout_s)


def open_lab(topology: Topology, workdir: Path, settings: LabSettings) -> LabWorld:
    """Start the lab for ``topology`` in ``workdir`` and wire a drill environment to it.

    Raises:
        GeoresilError: the lab did not start (it is down again before this propagates).
    """
    state = lab_up(topology, seed_objects=settings.seed_objects, workdir=workdir,
                   replace=settings.replace)
    clients = SiteClients(topology, state.endpoints(),
                          credentials=Credentials(*state.credentials))
    env = Environment(topology, clients, StackOutputs(state.outputs), WorkdirLab(workdir))
    return LabWorld(workdir, state, env)


def close_lab(workdir: Path) -> None:
    """Stop every server of the lab in ``workdir`` (nothing to do when there is none)."""
    lab_down(workdir=workdir)
