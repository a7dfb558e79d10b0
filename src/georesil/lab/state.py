"""The lab's state on disk: ``.georesil/lab/state.json`` in the working directory.

The file records everything a later command (another process, maybe hours later) needs: the
topology the lab was built from (the document itself, so the lab does not depend on the file
staying put), each site's port, endpoint, region, server PID and whether it is up, and the
stack outputs from provisioning. It is always replaced atomically. ``lab_lock`` serialises
commands that change the lab (two concurrent ``lab up`` would start two sets of servers).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from georesil._atomic import write_atomic
from georesil._read import LAB_STATE, read_json
from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from georesil.model import Topology

__all__ = [
    "LAB_CREDENTIALS",
    "PROCESS_MARKER",
    "LabState",
    "SiteState",
    "faults_path",
    "lab_dir",
    "lab_lock",
    "load_state",
    "require_state",
    "save_state",
]

STATE_VERSION = 1
#: Module run as each site's server; also the marker checked in ``/proc/PID/cmdline`` before
#: a recorded PID is signalled.
PROCESS_MARKER = "georesil.lab.server"
#: The lab's dummy credentials: moto accepts any key; never real ones.
LAB_CREDENTIALS = ("georesil-lab", "georesil-lab-dummy-secret")


def faults_path(state_dir: Path, site: str) -> Path:
    """Where the fault settings of ``site`` live."""
    return Path(state_dir) / "faults" / f"{site}.json"


def lab_dir(workdir: str | Path = ".") -> Path:
    """``WORKDIR/.georesil/lab``, absolute."""
    return (Path(workdir) / ".georesil" / "lab").resolve()


@dataclass
class SiteState:
    """One site's server."""

    site: str
    port: int
    endpoint: str
    region: str
    pid: int
    up: bool = True


@dataclass
class LabState:
    """Everything recorded about a lab."""

    workdir: str
    topology_doc: dict[str, Any]
    topology_path: str | None = None
    sites: dict[str, SiteState] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    provisioned: bool = False
    seed_objects: int = 0
    created_at: float = field(default_factory=time.time)
    version: int = STATE_VERSION

    @property
    def dir(self) -> Path:
        return lab_dir(self.workdir)

    @property
    def credentials(self) -> tuple[str, str]:
        return LAB_CREDENTIALS

    def topology(self) -> Topology:
        """The topology the lab was built from."""
        from georesil.model import topology_from_dict

        return topology_from_dict(self.topology_doc, self.topology_path)

    def topology_doc_site_ids(self) -> list[str]:
        """Every site id of the recorded topology (the lab may run servers for fewer)."""
        return [str(s["id"]) for s in self.topology_doc.get("sites", [])]

    def endpoints(self) -> dict[str, str]:
        """``{site: "http://127.0.0.1:PORT"}``."""
        return {name: s.endpoint for name, s in self.sites.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabState:
        data = dict(data)
        data["sites"] = {k: SiteState(**v) for k, v in data.get("sites", {}).items()}
        return cls(**data)


def state_path(workdir: str | Path = ".") -> Path:
    return lab_dir(workdir) / "state.json"


def load_state(workdir: str | Path = ".") -> LabState | None:
    """The recorded lab, or ``None`` when there is none."""
    path = state_path(workdir)
    try:
        data = read_json(path, LAB_STATE)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise InvalidInput(f"{path}: the lab state is not valid JSON ({exc}); run "
                           "`georesil lab down` and `georesil lab up` again",
                           path=str(path)) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path}: the lab state is not a JSON object; run `georesil lab down` "
                           "and `georesil lab up` again", path=str(path))
    if data.get("version") != STATE_VERSION:
        raise InvalidInput(f"{path}: lab state version {data.get('version')!r} is not "
                           f"{STATE_VERSION}; run `georesil lab down`", path=str(path))
    return LabState.from_dict(data)


def require_state(workdir: str | Path = ".") -> LabState:
    """The recorded lab; ``InvalidInput`` telling what to do when there is none."""
    state = load_state(workdir)
    if state is None:
        raise InvalidInput(f"no lab in {Path(workdir).resolve()} (no {state_path(workdir)}); "
                           "start one with `georesil lab up`", path=str(state_path(workdir)))
    return state


def save_state(state: LabState) -> None:
    """Write the state atomically."""
    write_atomic(state_path(state.workdir), json.dumps(state.to_dict(), indent=2) + "\n")


def remove_state(workdir: str | Path = ".") -> None:
    state_path(workdir).unlink(missing_ok=True)


@contextlib.contextmanager
def lab_lock(workdir: str | Path = ".", timeout_s: float = 120.0) -> Iterator[None]:
    """Hold ``.georesil/lab/lock`` (an advisory ``flock``) for the block.

    Raises:
        InvalidInput: another georesil process held the lock for ``timeout_s``.
    """
    path = lab_dir(workdir) / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    raise InvalidInput(
                        f"{path}: another `georesil lab` command (pid {holder}) is changing "
                        f"the lab; waited {timeout_s:g}s; try again when it has finished",
                        path=str(path)) from None
                time.sleep(0.05)
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
