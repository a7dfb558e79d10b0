"""Start, inspect, break, mend and stop a lab: one moto server per site on 127.0.0.1.

Servers are started detached (a launcher process starts them in their own session and exits),
so a lab outlives the command that created it and is never a zombie child of a long-lived
caller. Each server reports its own PID through its health endpoint; that PID is recorded, and
every later signal first checks the process is still ours: ``/proc/PID/cmdline`` names our
server, the site and *this* lab's state directory (the one the command runs in, never a path
read from the state file), and the only port it listens on, if any, is the recorded one. A
recycled PID, or a state file pointing at another lab's servers, is never signalled.

Outages are real (see :mod:`georesil.lab.server`): ``kill_site`` makes the server close its
listening socket and cut open connections (connection refused), keeping moto's data in memory;
``revive_site`` makes it listen on the same port again with the same data.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from georesil import provision
from georesil._atomic import open_private, private_dir
from georesil._process import pid_alive as _alive
from georesil.cloud import Credentials, SiteClients, retry_policy
from georesil.cloud.sessions import LAB_CONTROL_REGION
from georesil.errors import CloudError, InvalidInput, Unavailable
from georesil.lab.faults import ADMIN_HEADER, HEALTH_PATH, FaultSettings, write_faults
from georesil.lab.state import (
    PROCESS_MARKER,
    LabState,
    SiteState,
    faults_path,
    lab_dir,
    lab_lock,
    load_state,
    new_admin_token,
    read_admin_token,
    remove_state,
    require_state,
    save_state,
)
from georesil.model import CONTROL_NAME, Topology
from georesil.model.schema import ServiceKind
from georesil.provision.outputs import StackOutputs

__all__ = [
    "LabStatus",
    "SiteStatus",
    "kill_site",
    "lab_clients",
    "lab_control",
    "lab_down",
    "lab_sites",
    "probe",
    "lab_status",
    "lab_up",
    "moto_admin",
    "revive_site",
    "set_faults",
]

log = structlog.get_logger(__name__)

_LAUNCHER = (
    "import subprocess, sys\n"
    "subprocess.Popen(sys.argv[1:], start_new_session=True, stdin=subprocess.DEVNULL,"
    " stdout=sys.stdout, stderr=sys.stderr, close_fds=True)\n"
)
SEED_PREFIX = "seed/"


# -- up --------------------------------------------------------------------------------------
def lab_up(
    topology: Topology,
    *,
    seed_objects: int = 0,
    workdir: str | Path = ".",
    replace: bool = False,
    provision: bool = True,
    startup_timeout_s: float = 30.0,
) -> LabState:
    """Start (or reuse) a lab for ``topology`` in ``workdir``.

    A lab already recorded there is reused when all its servers answer and it was built from
    the same topology (killed sites are revived); otherwise (or with ``replace``) its servers
    are stopped and a new lab is started: servers, provisioning through the moto engine, then
    ``seed_objects`` sample objects in every object-storage primary bucket.
    ``provision=False`` starts bare servers (no buckets, no seeding): tests and callers that
    build their own resources. A reused lab comes back with ``reused=True``; the options
    (``seed_objects``) are then not applied — say so, or pass ``replace``.

    Raises:
        InvalidInput: ``seed_objects`` is negative, or another lab command holds the lock.
        Unavailable: a server did not start; its log file is named.
        ProvisionError: provisioning failed.
    """
    if seed_objects < 0:
        raise InvalidInput(f"--seed-objects: got {seed_objects}; must be 0 or more",
                           field="seed_objects", value=seed_objects)
    doc = topology.doc.model_dump(mode="json", exclude_none=True)
    with lab_lock(workdir):
        existing = load_state(workdir)
        if existing is not None:
            if not replace and existing.topology_doc == doc and _all_answer(existing):
                for s in existing.sites.values():
                    if not s.up:  # a reused lab comes back whole
                        _signal_and_wait(existing, s, signal.SIGUSR2, up=True,
                                         timeout_s=startup_timeout_s)
                log.info("lab.reused", sites=sorted(existing.sites), dir=str(existing.dir))
                existing.reused = True
                return existing
            log.info("lab.replacing", sites=sorted(existing.sites))
            _stop_all(existing)
            remove_state(workdir)
        state = LabState(workdir=str(Path(workdir).resolve()), topology_doc=doc,
                         topology_path=topology.source)
        try:
            new_admin_token(private_dir(state.dir))
            state.sites = _start_servers(topology, state.dir, startup_timeout_s)
            save_state(state)
            if provision:
                state.outputs = _provision(topology, state)
                state.provisioned = True
                save_state(state)
                state.seed_objects = _seed(topology, state, seed_objects)
                save_state(state)
        except BaseException:
            _stop_all(state)
            remove_state(workdir)
            raise
        log.info("lab.started", sites=sorted(state.sites), dir=str(state.dir),
                 seed_objects=seed_objects)
        return state


def lab_sites(topology: Topology) -> list[str]:
    """Sites that get a server: those with an endpoint or hosting a replica, in file order.

    A cable landing station or a junction with neither has no API to play.
    """
    hosting = {r.site for svc in topology.services.values() for r in svc.replicas}
    return [sid for sid, spec in topology.sites.items()
            if spec.endpoint is not None or sid in hosting]


def lab_control(topology: Topology) -> tuple[str, str] | None:
    """``(name, region)`` of the lab's control-plane server, or ``None`` for a witness site.

    The control plane (drill locks, active-site register, DNS zone) is its own endpoint: the
    topology's external control region, or — when the topology declares no ``control:`` —
    the lab's default control region. A witness site already has its own server.
    """
    placement = topology.control
    if placement is not None and placement.declared:
        if placement.site is not None:
            return None
        return CONTROL_NAME, placement.endpoint.signing_region
    return CONTROL_NAME, LAB_CONTROL_REGION


def _start_servers(topology: Topology, root: Path, timeout_s: float) -> dict[str, SiteState]:
    for sub in ("ports", "logs", "faults"):
        private_dir(root / sub)
    regions = {sid: (spec.endpoint.signing_region if spec.endpoint else "us-east-1")
               for sid, spec in topology.sites.items()}
    names = lab_sites(topology)
    control = lab_control(topology)
    if control is not None:
        names.append(control[0])
        regions[control[0]] = control[1]
    for site in names:
        (root / "ports" / f"{site}.port").unlink(missing_ok=True)
        faults_path(root, site).unlink(missing_ok=True)
        _launch(site, root)
    sites: dict[str, SiteState] = {}
    for site in names:
        port = _wait_for_port(root, site, timeout_s)
        endpoint = f"http://127.0.0.1:{port}"
        health = _wait_healthy(endpoint, site, timeout_s, root)
        region = regions[site]
        sites[site] = SiteState(site, port, endpoint, region, int(health["pid"]))
        log.info("lab.site_started", site=site, endpoint=endpoint, pid=health["pid"])
    return sites


def _launch(site: str, root: Path) -> None:
    args = [sys.executable, "-m", PROCESS_MARKER, "--site", site, "--state-dir", str(root),
            "--port", "0", "--port-file", str(root / "ports" / f"{site}.port")]
    with open_private(root / "logs" / f"{site}.log", "ab") as out:
        subprocess.run([sys.executable, "-c", _LAUNCHER, *args], stdout=out,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True)


def _wait_for_port(root: Path, site: str, timeout_s: float) -> int:
    path = root / "ports" / f"{site}.port"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            return int(path.read_text())
        except (FileNotFoundError, ValueError):
            time.sleep(0.05)
    raise Unavailable(f"lab server for site {site!r} did not start within {timeout_s:g}s; "
                      f"see {root / 'logs' / f'{site}.log'}", site=site)


def _wait_healthy(endpoint: str, site: str, timeout_s: float, root: Path) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        health = probe(endpoint)
        if health is not None and health.get("site") == site:
            return health
        time.sleep(0.05)
    raise Unavailable(f"lab server for site {site!r} at {endpoint} did not answer within "
                      f"{timeout_s:g}s; see {root / 'logs' / f'{site}.log'}", site=site)


def probe(endpoint: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The server's health document, or ``None`` when it does not answer."""
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout_s) as resp:
            return dict(json.loads(resp.read()))
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _all_answer(state: LabState) -> bool:
    for s in state.sites.values():
        if not _is_ours(s, state.dir):
            return False
        health = probe(s.endpoint) if s.up else {"site": s.site, "pid": s.pid}
        if health is None or health.get("pid") != s.pid:
            return False
    return True


def _provision(topology: Topology, state: LabState) -> dict[str, Any]:
    # Through the package's lazy attribute: importing the lab (drills, readiness and report
    # do) must not load Pulumi and the moto engine, which only `lab up` needs.
    result = provision.provision_moto(topology, state.endpoints(), stack="lab")
    return dict(result.outputs)


def _seed(topology: Topology, state: LabState, count: int) -> int:
    """Write ``count`` sample objects to every object-storage primary bucket."""
    if count == 0:
        return 0
    clients = lab_clients(state)
    outputs = StackOutputs(state.outputs)
    for service in topology.services.values():
        if service.kind is not ServiceKind.OBJECT_STORAGE:
            continue
        site = topology.primary(service.id).site
        bucket = outputs.bucket(service.id, site).name

        def put(i: int, site: str = site, bucket: str = bucket, svc: str = service.id) -> None:
            body = f"georesil lab sample object {i} of {svc}\n".encode() * (1 + i % 7)
            clients.call(site, "s3", "put_object", Bucket=bucket,
                         Key=f"{SEED_PREFIX}{i:06d}.txt", Body=body)

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(put, range(count)))
        log.info("lab.seeded", service=service.id, site=site, bucket=bucket, objects=count)
    return count


def lab_clients(lab: LabState | str | Path = ".", **kwargs: Any) -> SiteClients:
    """:class:`~georesil.cloud.SiteClients` for a lab's endpoints and dummy credentials.

    Args:
        lab: A :class:`LabState`, or the directory whose recorded lab to use.
        **kwargs: Passed to :class:`~georesil.cloud.SiteClients` (``policy``, timeouts...).

    Raises:
        InvalidInput: ``lab`` is a directory without a lab.
    """
    state = lab if isinstance(lab, LabState) else require_state(lab)
    return SiteClients(state.topology(), state.endpoints(),
                       credentials=Credentials(*state.credentials), **kwargs)


def moto_admin(site: str, path: str, workdir: str | Path = ".", *, method: str = "POST",
               body: bytes = b"", timeout_s: float = 10.0) -> bytes:
    """Call moto's control API (``/moto-api/...``) at ``site`` with the lab-admin token.

    The lab's servers refuse ``/moto-api/`` without it (see :mod:`georesil.lab.faults`);
    this is the one way georesil itself reaches it, e.g. ``moto_admin(site, "reset")``.

    Raises:
        InvalidInput: no lab, an unknown site, or the lab has no admin token.
        Unavailable: the server did not answer.
    """
    state = require_state(workdir)
    s = _site(state, site)
    token = read_admin_token(state.dir)
    if token is None:
        raise InvalidInput(f"the lab in {state.dir} has no admin token; run `georesil lab up "
                           "--replace`", path=str(state.dir))
    request = urllib.request.Request(f"{s.endpoint}/moto-api/{path.lstrip('/')}", data=body,
                                     method=method, headers={ADMIN_HEADER: token})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return bytes(resp.read())
    except (OSError, urllib.error.URLError) as exc:
        raise Unavailable(f"site {site!r}: moto-api {path!r} at {s.endpoint} failed ({exc})",
                          site=site) from exc


# -- status ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteStatus:
    site: str
    endpoint: str
    region: str
    up: bool
    pid: int


@dataclass(frozen=True)
class LabStatus:
    """What ``lab status`` shows; :meth:`to_json` is the stable, documented form."""

    dir: str
    sites: dict[str, SiteStatus]
    buckets: dict[str, dict[str, str]]
    objects: dict[str, dict[str, int | None]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sites": {s.site: {"endpoint": s.endpoint, "region": s.region, "up": s.up,
                               "pid": s.pid} for s in self.sites.values()},
            "services": {svc: {"buckets": dict(b), "objects": dict(self.objects.get(svc, {}))}
                         for svc, b in self.buckets.items()},
        }


def lab_status(workdir: str | Path = ".", *, count_objects: bool = True) -> LabStatus:
    """Probe every recorded server, and count the objects in every reachable bucket.

    Raises:
        InvalidInput: there is no lab in ``workdir``.
    """
    state = require_state(workdir)
    sites = {}
    for s in state.sites.values():
        health = probe(s.endpoint, timeout_s=1.0)
        up = health is not None and health.get("pid") == s.pid and _is_ours(s, state.dir)
        sites[s.site] = SiteStatus(s.site, s.endpoint, s.region, up, s.pid)
    buckets = _buckets(state)
    objects: dict[str, dict[str, int | None]] = {}
    if count_objects and buckets:
        clients = lab_clients(state, policy=lambda idempotent=True: retry_policy(
            attempts=2, deadline_s=5, idempotent=idempotent), connect_timeout_s=1.0)
        for svc, per_site in buckets.items():
            objects[svc] = {site: _count(clients, site, name) if sites[site].up else None
                            for site, name in per_site.items()}
    return LabStatus(str(state.dir), sites, buckets, objects)


def _buckets(state: LabState) -> dict[str, dict[str, str]]:
    """``{service: {site: bucket}}`` for every object-storage service, from the outputs."""
    if not state.outputs:
        return {}
    outputs = StackOutputs(state.outputs)
    return {svc.id: {site: ref.name for site, ref in outputs.buckets(svc.id).items()}
            for svc in state.topology().services.values()
            if svc.kind is ServiceKind.OBJECT_STORAGE}


def _count(clients: SiteClients, site: str, bucket: str) -> int | None:
    total, token = 0, None
    try:
        while True:
            params: dict[str, Any] = {"Bucket": bucket}
            if token:
                params["ContinuationToken"] = token
            page = clients.call(site, "s3", "list_objects_v2", **params)
            total += int(page.get("KeyCount", 0))
            token = page.get("NextContinuationToken")
            if not token:
                return total
    except CloudError:
        return None


# -- outages and faults ----------------------------------------------------------------------
def kill_site(site: str, workdir: str | Path = ".", timeout_s: float = 10.0) -> SiteState:
    """Take ``site`` offline: connections to its endpoint are refused; its data is kept.

    Raises:
        InvalidInput: no lab, or ``site`` is not one of its sites.
        Unavailable: the server is gone or did not go dark in time.
    """
    return _switch(site, workdir, signal.SIGUSR1, up=False, timeout_s=timeout_s)


def revive_site(site: str, workdir: str | Path = ".", timeout_s: float = 10.0) -> SiteState:
    """Bring ``site`` back on the same endpoint, with the data it had."""
    return _switch(site, workdir, signal.SIGUSR2, up=True, timeout_s=timeout_s)


def _switch(site: str, workdir: str | Path, signum: int, *, up: bool,
            timeout_s: float) -> SiteState:
    with lab_lock(workdir):
        state = require_state(workdir)
        s = _site(state, site)
        _signal_and_wait(state, s, signum, up=up, timeout_s=timeout_s)
        return s


def _signal_and_wait(state: LabState, s: SiteState, signum: int, *, up: bool,
                     timeout_s: float) -> None:
    """Signal ``s``'s server, wait until it answers (``up``) or refuses, record it."""
    if not _is_ours(s, state.dir):
        raise Unavailable(f"lab server for site {s.site!r} (pid {s.pid}) is no longer "
                          "running; run `georesil lab up` to replace the lab", site=s.site)
    os.kill(s.pid, signum)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (probe(s.endpoint, 0.5) is not None) if up else _refused(s.port):
            s.up = up
            save_state(state)
            log.info("lab.site_revived" if up else "lab.site_killed", site=s.site,
                     endpoint=s.endpoint)
            return
        time.sleep(0.05)
    wanted = "come back" if up else "go dark"
    raise Unavailable(f"lab server for site {s.site!r} did not {wanted} within "
                      f"{timeout_s:g}s", site=s.site)


def _refused(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        try:
            sock.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False


def set_faults(site: str, settings: FaultSettings, workdir: str | Path = ".") -> Path:
    """Give ``site``'s endpoint new fault settings (applied from the next request)."""
    state = require_state(workdir)
    _site(state, site)
    path = faults_path(state.dir, site)
    write_faults(path, settings)
    log.info("lab.faults_set", site=site, throttle=settings.throttle, error=settings.error,
             deny=settings.deny, latency_ms=settings.latency_ms)
    return path


def _site(state: LabState, site: str) -> SiteState:
    try:
        return state.sites[site]
    except KeyError:
        why = (" (it has no endpoint and hosts no replica, so the lab runs no server for it)"
               if site in state.topology_doc_site_ids() else "")
        raise InvalidInput(f"unknown lab site {site!r}{why}; lab sites: "
                           f"{', '.join(sorted(state.sites))}", site=site) from None


# -- down ------------------------------------------------------------------------------------
def lab_down(workdir: str | Path = ".", timeout_s: float = 10.0) -> list[int]:
    """Stop exactly the lab's recorded server processes and forget the lab.

    Returns:
        The PIDs that were stopped (a recorded PID that is no longer our server is skipped).
    """
    with lab_lock(workdir):
        state = load_state(workdir)
        if state is None:
            # No record (a `lab up` killed before it saved one): stop any server of ours
            # still running for this directory, so nothing is left behind.
            orphans = _running_servers(lab_dir(workdir))
            _terminate(orphans, timeout_s)
            if orphans:
                log.info("lab.orphans_stopped", pids=orphans, dir=str(lab_dir(workdir)))
            return orphans
        stopped = _stop_all(state, timeout_s)
        remove_state(workdir)
        log.info("lab.stopped", pids=stopped, dir=str(state.dir))
        return stopped


def _stop_all(state: LabState, timeout_s: float = 10.0) -> list[int]:
    """Stop the recorded servers, and any unrecorded one of this lab (a start cut short)."""
    recorded = [s.pid for s in state.sites.values() if _is_ours(s, state.dir)]
    pids = sorted(set(recorded) | set(_running_servers(state.dir)))
    _terminate(pids, timeout_s)
    for s in state.sites.values():
        faults_path(state.dir, s.site).unlink(missing_ok=True)
    return pids


def _terminate(pids: list[int], timeout_s: float) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            continue
    _wait_gone(pids, timeout_s, on_timeout=lambda pid: _kill_quietly(pid))


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


def _running_servers(root: Path) -> list[int]:
    """PIDs of our lab servers whose state directory is ``root``, found in ``/proc``."""
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:  # no /proc: only recorded servers can be found
        return []
    found = []
    for entry in entries:
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if PROCESS_MARKER in words and _after(words, "--state-dir") == str(root) \
                and int(entry.name) != os.getpid() and _owned(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def _wait_gone(pids: list[int], timeout_s: float, on_timeout: Callable[[int], None]) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(pids)
    while pending:
        pending = {pid for pid in pending if _alive(pid)}
        if not pending:
            return
        if time.monotonic() > deadline:
            for pid in pending:
                on_timeout(pid)
            deadline = time.monotonic() + timeout_s
            on_timeout = lambda _pid: None  # noqa: E731 - SIGKILL once, then just wait
        time.sleep(0.02)


def _is_ours(s: SiteState, root: Path) -> bool:
    """Whether ``s.pid`` is our lab server for ``s.site`` in ``root`` on ``s.port``.

    PID (alive, run by this user), command line (our server module, the site, this lab's state
    directory) and port must all match: the process listens on the recorded port, or on none
    (a killed site). A recycled PID, or a state file naming another lab's server, fails one
    of these.
    """
    try:
        argv = Path(f"/proc/{s.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    words = [a.decode(errors="replace") for a in argv]
    if not (PROCESS_MARKER in words and _after(words, "--site") == s.site
            and _after(words, "--state-dir") == str(root) and _alive(s.pid)
            and _owned(s.pid)):
        return False
    ports = _listening_ports(s.pid)
    return ports is not None and ports <= {s.port}


def _owned(pid: int) -> bool:
    """Whether process ``pid`` runs as this user (another user's process is never ours)."""
    try:
        return Path(f"/proc/{pid}").stat().st_uid == os.getuid()
    except OSError:
        return False


def _listening_ports(pid: int) -> set[int] | None:
    """TCP ports process ``pid`` listens on (from ``/proc``); ``None`` when unreadable."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return None
    inodes = set()
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile (a connection ending)
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local_address rem_address st ... inode; st 0A is LISTEN
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _after(words: list[str], flag: str) -> str | None:
    try:
        return words[words.index(flag) + 1]
    except (ValueError, IndexError):
        return None


