"""The lab's state on disk: ``.georesil/lab/state.json`` in the working directory.

The file records everything a later command (another process, maybe hours later) needs: the
topology the lab was built from (the document itself, so the lab does not depend on the file
staying put), each site's port, endpoint, region, server PID and whether it is up, and the
stack outputs from provisioning. It is always replaced atomically. ``lab_lock`` serialises
commands that change the lab (two concurrent ``lab up`` would start two sets of servers).

Nothing read back is trusted further than it must be: the lab directory is always the one the
command runs in (a ``workdir`` recorded in the file is ignored), the file must be a regular
file of bounded size, and every recorded PID is checked against the running process before
it is signalled (:mod:`georesil.lab.lifecycle`). The directory is private (0700, files 0600;
:mod:`georesil._atomic`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog

from georesil._atomic import open_private, write_atomic
from georesil._read import LAB_STATE, read_json
from georesil.errors import InvalidInput
from georesil.model import Topology, topology_from_dict

__all__ = [
    "LAB_CREDENTIALS",
    "PROCESS_MARKER",
    "LabState",
    "SiteState",
    "admin_token_path",
    "faults_path",
    "lab_dir",
    "lab_lock",
    "load_state",
    "new_admin_token",
    "read_admin_token",
    "require_state",
    "save_state",
]

log = structlog.get_logger(__name__)

STATE_VERSION = 1
#: Module run as each site's server; also the marker checked in ``/proc/PID/cmdline`` before
#: a recorded PID is signalled.
PROCESS_MARKER = "georesil.lab.server"
#: The lab's dummy credentials: moto accepts any key; never real ones.
LAB_CREDENTIALS = ("georesil-lab", "georesil-lab-dummy-secret")


def faults_path(state_dir: Path, site: str) -> Path:
    """Where the fault settings of ``site`` live."""
    return Path(state_dir) / "faults" / f"{site}.json"


def admin_token_path(state_dir: Path) -> Path:
    """The lab-admin token that lets georesil itself use moto's ``/moto-api/``."""
    return Path(state_dir) / "admin-token"


def new_admin_token(state_dir: Path) -> str:
    """Mint and store (0600) a fresh lab-admin token for the servers about to start."""
    token = secrets.token_hex(32)
    write_atomic(admin_token_path(state_dir), token + "\n", private=True)
    return token


def read_admin_token(state_dir: Path) -> str | None:
    """The lab's admin token, or ``None`` when there is none (``/moto-api/`` stays shut)."""
    try:
        token = admin_token_path(state_dir).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return token or None


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
    #: Set by ``lab_up`` when it reused a running lab; never written to the file.
    reused: bool = field(default=False, compare=False)

    @property
    def dir(self) -> Path:
        return lab_dir(self.workdir)

    @property
    def credentials(self) -> tuple[str, str]:
        return LAB_CREDENTIALS

    def topology(self) -> Topology:
        """The topology the lab was built from."""
        return topology_from_dict(self.topology_doc, self.topology_path)

    def topology_doc_site_ids(self) -> list[str]:
        """Every site id of the recorded topology (the lab may run servers for fewer)."""
        return [str(s["id"]) for s in self.topology_doc.get("sites", [])]

    def endpoints(self) -> dict[str, str]:
        """``{site: "http://127.0.0.1:PORT"}``."""
        return {name: s.endpoint for name, s in self.sites.items()}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["reused"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], workdir: str | Path) -> LabState:
        """Rebuild a recorded lab; ``workdir`` (where the command runs) replaces the one in
        ``data``, so a state file can never point a command at another lab's directory."""
        data = dict(data)
        data.pop("reused", None)
        data["sites"] = {k: SiteState(**v) for k, v in data.get("sites", {}).items()}
        data["workdir"] = str(Path(workdir).resolve())
        return cls(**data)


def state_path(workdir: str | Path = ".") -> Path:
    return lab_dir(workdir) / "state.json"


def load_state(workdir: str | Path = ".") -> LabState | None:
    """The recorded lab in ``workdir``, or ``None`` when there is none.

    Raises:
        InvalidInput: the state file is refused by :func:`georesil._read.read_json` (not a
            regular file, larger than ``GEORESIL_MAX_LAB_STATE_BYTES``, nested too deeply),
            or is not a lab state of this version.
    """
    path = state_path(workdir)
    try:
        data = read_json(path, LAB_STATE)
    except (FileNotFoundError, NotADirectoryError):
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
    recorded = data.get("workdir")
    try:
        state = LabState.from_dict(data, workdir)
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"{path}: not a georesil lab state ({exc}); run `georesil lab "
                           "down` and `georesil lab up` again", path=str(path)) from exc
    if recorded != state.workdir:
        log.warning("lab.state_workdir_ignored", recorded=recorded, workdir=state.workdir)
    return state


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
    with open_private(path, "a+") as fh:
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
