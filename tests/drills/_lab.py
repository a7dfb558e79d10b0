"""Helpers for drill tests against a real lab (one moto server process per site)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from georesil.drills import load_runbook
from georesil.drills.actions import DnsArgs, dns_set_primary
from georesil.drills.context import DrillContext
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment, lab_environment
from georesil.drills.loader import Runbook
from georesil.drills.runbook import Mode
from tests.drills._stack import promote

RUNBOOKS = Path(__file__).parent.parent.parent / "runbooks"


def fast_env(workdir: Path, **policy: Any) -> Environment:
    """The lab as an environment whose retries never sleep."""
    from tenacity import wait_none

    from georesil.cloud import retry_policy

    return lab_environment(workdir, policy=functools.partial(retry_policy, wait=wait_none(),
                                                             **policy))


def shipped(name: str, env: Environment, **sets: str) -> Runbook:
    return load_runbook(RUNBOOKS / name, topology=env.topology, parameters=sets)


def reset_world(env: Environment, workdir: Path) -> None:
    """Every service back on its topology primary, DNS too, nothing frozen, no locks."""
    cp = ControlPlane(env.clients, env.outputs)
    topology = env.topology
    for svc in topology.services:
        primary = topology.primary(svc).site
        current = cp.active(svc)
        lock = cp.read_lock(svc)
        if lock is not None:
            cp.release_lock(svc, lock.run_id)
        if cp.active_sites(svc) != {primary}:
            promote(cp, svc, primary, "test-reset", expect_epoch=current.epoch)
        cp.set_frozen(svc, False, "test-reset")
        if f"dns.{svc}.name" in env.outputs:
            ctx = DrillContext(env, "test-reset", (svc,), {svc: primary}, primary,
                               Mode.PLANNED, workdir)
            dns_set_primary(ctx, DnsArgs(service=svc, site=primary))


def drill_process(workdir: Path, *args: str, env: dict[str, str] | None = None
                  ) -> subprocess.Popen[str]:
    """``georesil drill ARGS`` in its own process, in the lab's working directory."""
    return subprocess.Popen([sys.executable, "-m", "georesil", "--log-format", "json",
                             "drill", *args], cwd=workdir, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_event(journal: Path, predicate: Any, timeout_s: float = 60.0) -> dict[str, Any]:
    """Poll a journal until an event matches (a drill running in another process)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if journal.exists():
            for line in journal.read_text().splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if predicate(event):
                    return event
        time.sleep(0.1)
    raise AssertionError(f"no matching event in {journal} within {timeout_s} s")


def succeeded(step: str) -> Any:
    return lambda e: e.get("event") == "step.succeeded" and e.get("step") == step
