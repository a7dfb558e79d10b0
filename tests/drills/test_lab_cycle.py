"""Full DR cycles and a failing control plane, against the lab.

- planned → failback → unplanned (the primary killed while a writer writes) → failback, for
  the model store as shipped and for the dataset store via ``--set``, with RTO/RPO measured
  and no split brain after every step;
- the docs' history example checked against a real run;
- the control plane (the witness) killed or blackholed at chosen moments of each shipped
  runbook — between steps, and inside a promotion between the register write and the
  parameter write — then: a truthful record, ``drill repair`` + ``drill failback`` bring every
  service home with one active site and nothing lost.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tenacity import wait_none

from georesil.cloud import Credentials, SiteClients, retry_policy
from georesil.drills import load_runbook
from georesil.drills.catalog import find_runbook
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment, WorkdirLab
from georesil.drills.failback import plan_failback, run_failback
from georesil.drills.history import HISTORY_KEYS, drill_history, find_run
from georesil.drills.journal import Journal
from georesil.drills.loader import Runbook
from georesil.drills.repair import plan_repair, repair_service
from georesil.drills.run_state import DrillRun
from georesil.drills.runner import run_drill
from georesil.drills.safety import control_plane_state
from georesil.drills.writer import Writer, ledger_path, single_attempt_clients
from georesil.lab import FaultSettings, require_state, revive_site, set_faults
from georesil.mirror import list_versions
from georesil.provision.outputs import StackOutputs
from tests.drills._lab import fast_env, reset_world

pytestmark = [pytest.mark.lab, pytest.mark.slow]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "runbooks.md"


@pytest.fixture
def lab(drill_lab: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The shared lab, reset to the topology's primaries, as the working directory."""
    monkeypatch.chdir(drill_lab)
    env = fast_env(drill_lab)
    for site in require_state(drill_lab).sites:  # a test may have left one down
        revive_site(site, drill_lab)
    reset_world(env, drill_lab)
    yield drill_lab


def _runbook(env: Environment, name: str, **sets: str) -> Runbook:
    return load_runbook(find_runbook(name), topology=env.topology, parameters=sets)


def _one_site_each(env: Environment, services: tuple[str, ...]) -> dict[str, str]:
    cp = ControlPlane(env.clients, env.outputs)
    sites = {svc: cp.active_sites(svc) for svc in services}
    assert all(len(s) == 1 for s in sites.values()), f"split brain: {sites}"
    return {svc: next(iter(s)) for svc, s in sites.items()}


def _check(run: DrillRun, env: Environment) -> DrillRun:
    assert run.status == "completed", run.outcome().message
    assert not run.split_brain and run.summary["rto_s"] is not None
    _one_site_each(env, run.runbook.doc.services)
    return run


# -- the full cycle ---------------------------------------------------------------------------
@pytest.mark.parametrize(("service", "primary", "sets"), [
    ("model-store", "taipei-neihu", {}),
    ("dataset-store", "taoyuan-dc", {"service": "dataset-store", "from": "taoyuan-dc"}),
])
def test_full_cycle(lab: Path, service: str, primary: str, sets: dict[str, str]) -> None:
    """planned → failback → unplanned (primary killed, writer writing) → failback: each step
    completes with RTO/RPO measured and one active site; the store ends on its primary."""
    env = fast_env(lab)
    planned = _check(run_drill(_runbook(env, "storage-failover-planned", **sets), env,
                               workdir=lab), env)
    assert (planned.summary["rpo_s"], planned.summary["rpo_objects"]) == (0, 0)
    back = run_failback(plan_failback(find_run(planned.run_id, lab), env, lab), env,
                        workdir=lab)
    assert [_check(r, env).summary["rpo_s"] for r in back] == [0]
    ledger_path(lab, service).unlink(missing_ok=True)
    state = require_state(lab)
    writer = Writer(single_attempt_clients(lab), StackOutputs(state.outputs), service,
                    workdir=lab, interval_s=0.02).start()
    try:
        time.sleep(0.5)
        unplanned = run_drill(_runbook(env, "storage-failover-unplanned", **sets), env,
                              workdir=lab)
    finally:
        writer.stop(timeout_s=15)
    _check(unplanned, env)
    assert unplanned.rpo[service].method in ("writer-ledger", "listing")
    assert unplanned.summary["rpo_s"] is not None
    home = run_failback(plan_failback(find_run(unplanned.run_id, lab), env, lab), env,
                        workdir=lab)
    assert [_check(r, env).status for r in home] == ["completed"]
    assert home[0].summary["rpo_objects"] == 0
    assert _one_site_each(env, (service,)) == {service: primary}
    history = [h for h in drill_history(lab) if h["run_id"] in {
        planned.run_id, back[0].run_id, unplanned.run_id, home[0].run_id}]
    assert [h["runbook"] for h in history] == ["storage-failover-planned", "failback",
                                               "storage-failover-unplanned", "failback"]
    assert not any(h["split_brain"] for h in history)
    if not sets:
        _check_docs_history_example(next(h for h in history
                                         if h["run_id"] == planned.run_id))


def _check_docs_history_example(real: dict[str, Any]) -> None:
    """docs/runbooks.md's history example has the real run's keys and values (except the
    run id, start time and measured RTO, which differ per run)."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("## History", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    (example,) = json.loads(block)
    assert tuple(example) == HISTORY_KEYS == tuple(real)
    assert re.fullmatch(r"[0-9a-f]{12}", example["run_id"])
    varying = {"run_id", "started_at", "rto_s"}
    assert {k: v for k, v in example.items() if k not in varying} == \
        {k: v for k, v in real.items() if k not in varying}


def test_drill_refuses_to_start_without_the_witness(lab: Path) -> None:
    """The control plane down: the drill is refused before anything runs, saying why."""
    env = fast_env(lab)
    control = env.outputs.control_site
    assert env.lab is not None
    env.lab.kill(control)
    try:
        run = run_drill(_runbook(env, "storage-failover-planned"), env, workdir=lab)
    finally:
        env.lab.revive(control)
    assert run.status == "refused" and run.method_ts is None
    assert "does not answer" in run.outcome().message
    assert _one_site_each(env, ("model-store",)) == {"model-store": "taipei-neihu"}


SECOND_SECONDARY = """
version: 1
name: second-secondary
description: The primary and the first secondary both lost; clients must reach the second.
services: [inference-api]
from: hsinchu-hq
to: tainan-ngcc
mode: unplanned
method:
  - id: lose-the-primary
    action: lab.kill_site
    args: {site: $from}
  - id: lose-the-first-secondary
    action: lab.kill_site
    args: {site: taoyuan-dc}
  - id: dns-already-reaches-the-second-secondary
    probe: dns.serving_site
    tolerance: {equals: $to}
  - id: promote-the-second-secondary
    action: control.set_active_site
    args: {site: $to, expect: $from}
  - id: point-dns-at-it
    action: dns.set_primary
    args: {site: $to}
rollback:
  steps:
    - action: lab.revive_site
      args: {site: $from}
    - action: lab.revive_site
      args: {site: taoyuan-dc}
    - action: control.set_active_site
      args: {site: $from}
"""


def test_failover_to_the_second_secondary(lab: Path) -> None:
    """inference-api has two secondaries (taoyuan, tainan): with the primary and the first
    secondary down, the failover chain already sends clients to the second, and the drill
    promotes it; the failback restores the provisioned chain."""
    env = fast_env(lab)
    (lab / "runbooks").mkdir(exist_ok=True)
    (lab / "runbooks" / "second-secondary.yaml").write_text(SECOND_SECONDARY)
    try:
        run = run_drill(_runbook(env, "second-secondary"), env, workdir=lab)
    finally:
        revive_site("taoyuan-dc", lab)
        (lab / "runbooks" / "second-secondary.yaml").unlink()
    _check(run, env)
    probe = next(o for o in run.outcomes if o.id == "dns-already-reaches-the-second-secondary")
    assert probe.result is not None and probe.result["value"] == "tainan-ngcc"
    assert probe.result["services"]["inference-api"]["chain"] == [
        "hsinchu-hq", "taoyuan-dc", "tainan-ngcc"]
    back = run_failback(plan_failback(find_run(run.run_id, lab), env, lab), env, workdir=lab)
    assert [_check(r, env).status for r in back] == ["completed"]
    final = next(o for o in back[0].outcomes if o.id == "dns-serves-to-site").result or {}
    assert final["services"]["inference-api"]["chain"] == [
        "hsinchu-hq", "taoyuan-dc", "tainan-ngcc"]


# -- the control plane failing at chosen moments ------------------------------------------------
Call = tuple[str, str, dict[str, Any]]
Trigger = Callable[[Call, list[Call]], bool]


def _register_write(call: Call) -> bool:
    return call[1] == "update_item" and "SET site" in call[2].get("UpdateExpression", "")


def _after_freeze(call: Call, seen: list[Call]) -> bool:
    """Early in the method: writes frozen, nothing promoted yet."""
    return any(c[1] == "put_item" and str(c[2].get("Item", {}).get("pk", {}).get("S", ""))
               .startswith("freeze#") for c in seen) and not any(map(_register_write, seen))


def _before_promotion(call: Call, seen: list[Call]) -> bool:
    return _register_write(call)


def _after_register_write(call: Call, seen: list[Call]) -> bool:
    """Inside the promotion: the register is written, the serving-site parameter is not."""
    return call[0] == "ssm" and bool(seen) and _register_write(seen[-1])


def _after_promotion(call: Call, seen: list[Call]) -> bool:
    writes = [i for i, c in enumerate(seen) if _register_write(c)]
    return bool(writes) and any(c[1] == "put_parameter" for c in seen[writes[0]:])


TRIGGERS: dict[str, Trigger] = {"after-freeze": _after_freeze,
                                "before-promotion": _before_promotion,
                                "after-register-write": _after_register_write,
                                "after-promotion": _after_promotion}


class ChaosClients(SiteClients):
    """Lab clients that break the control plane (kill or blackhole) the moment ``trigger``
    matches a call to it — a seam, not a patch: the drill gets these as its clients."""

    trigger: Trigger
    breaker: Callable[[], None]
    control: str
    seen: list[Call]
    fired: bool

    def run(self, site: str, service: str, operation: str, fn: Callable[[Any], Any], *,
            idempotent: bool = True) -> Any:
        if site == self.control and not self.fired:
            call = (service, operation, dict(getattr(fn, "params", {})))
            if self.trigger(call, self.seen):
                self.fired = True
                self.breaker()
            self.seen.append(call)
        return super().run(site, service, operation, fn, idempotent=idempotent)

    def call(self, site: str, service: str, operation: str, /, *, idempotent: bool = True,
             **params: Any) -> Any:
        def fn(client: Any) -> Any:
            return getattr(client, operation)(**params)

        fn.params = params  # type: ignore[attr-defined]
        return self.run(site, service, operation, fn, idempotent=idempotent)


def _chaos_env(lab: Path, trigger: Trigger, how: str) -> tuple[Environment, Callable[[], None]]:
    base = fast_env(lab)
    control = base.outputs.control_site
    lab_control = WorkdirLab(lab)
    state = require_state(lab)
    clients = ChaosClients(state.topology(), state.endpoints(),
                           credentials=Credentials(*state.credentials),
                           policy=functools.partial(retry_policy, wait=wait_none(), attempts=2))
    clients.trigger, clients.control, clients.seen, clients.fired = trigger, control, [], False

    def kill() -> None:
        lab_control.kill(control)

    def blackhole() -> None:
        set_faults(control, FaultSettings(error=1.0), lab)

    def heal() -> None:
        set_faults(control, FaultSettings(), lab)
        lab_control.revive(control)

    clients.breaker = kill if how == "kill" else blackhole
    return Environment(base.topology, clients, base.outputs, lab_control), heal


def _versions(env: Environment, service: str, site: str) -> set[tuple[str, str | None]]:
    bucket = env.outputs.bucket(service, site).name
    return {(v.key, v.etag) for versions in list_versions(env.clients, site, bucket).values()
            for v in versions if not v.is_delete_marker and not v.key.startswith("_georesil/")}


#: Each shipped runbook at least once, every moment and both faults at least once — the moments
#: around a promotion are the ones that can split a brain; a step boundary elsewhere only
#: stops the drill (a failed probe/step), which the runner's unit tests cover. Bounded: ~10 s
#: a case.
CASES = [  # (runbook, parameters, moment, kill or blackhole, needs a failover first)
    ("storage-failover-planned", {}, "after-freeze", "blackhole", False),
    ("storage-failover-planned", {}, "before-promotion", "kill", False),
    ("storage-failover-planned", {}, "after-register-write", "kill", False),
    ("storage-failover-unplanned", {}, "after-register-write", "blackhole", False),
    ("dns-failover", {}, "after-promotion", "blackhole", False),
    ("north-evacuation", {}, "after-promotion", "kill", False),
    ("storage-failback", {}, "after-register-write", "blackhole", True),
    ("failback", {"services": "model-store", "from": "tainan-ngcc", "to": "taipei-neihu"},
     "after-promotion", "kill", True),
]


@pytest.mark.parametrize(("name", "sets", "moment", "how", "failed_over"), CASES,
                         ids=[f"{c[0]}-{c[2]}-{c[3]}" for c in CASES])
def test_control_plane_lost_mid_drill(lab: Path, name: str, sets: dict[str, str], moment: str,
                                      how: str, failed_over: bool) -> None:
    """The witness lost at a chosen moment: the record is truthful, and repair + failback
    bring every service home — one active site each, nothing lost."""
    base = fast_env(lab)
    if failed_over:  # storage-failback starts from Tainan
        _check(run_drill(_runbook(base, "storage-failover-planned"), base, workdir=lab), base)
    rb = _runbook(base, name, **sets)
    services = rb.doc.services
    start = _one_site_each(base, services)
    stores = [s for s in services if base.topology.service(s).kind.value == "object-storage"]
    before = {s: _versions(base, s, start[s]) for s in stores}
    env, heal = _chaos_env(lab, TRIGGERS[moment], how)
    try:
        run = run_drill(rb, env, workdir=lab)
    finally:
        heal()
    assert env.clients.fired, f"{moment} never happened in {name}"  # type: ignore[attr-defined]
    _assert_truthful(Journal.load(run.journal.path).finished or {}, base, services)
    for svc in services:
        repair_service(base, plan_repair(base, svc, lab))
    now = _one_site_each(base, services)
    if any(now[s] == rb.doc.to_site for s in services):
        back = run_failback(plan_failback(find_run(run.run_id, lab), base, lab), base,
                            workdir=lab)
        assert [r.status for r in back] == ["completed"] * len(back), \
            [r.outcome().message for r in back]
    assert _one_site_each(base, services) == start
    for svc in stores:
        assert before[svc] <= _versions(base, svc, start[svc]), f"{svc} lost writes"


def _assert_truthful(finished: dict[str, Any], env: Environment,
                     services: tuple[str, ...]) -> None:
    """What the journal says about the control plane after the drill is what was there."""
    assert finished, "the run has no drill.finished"
    state = control_plane_state(ControlPlane(env.clients, env.outputs), services)
    consistent = all(s["register"] == s["parameter"] for s in state.values())
    if not consistent:
        assert finished["split_brain"] is True
    if finished["split_brain"] is False:
        recorded = finished["control_plane"]
        assert {k: (v["register"], v["parameter"]) for k, v in recorded.items()} == \
            {k: (v["register"], v["parameter"]) for k, v in state.items()}
    if finished["status"] != "completed" or finished["split_brain"]:
        assert finished["error"], "a run that did not complete must say why"
