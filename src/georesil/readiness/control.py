"""Control-plane checks: the witness answers, each service has exactly one active site with
an epoch that never goes back, and no drill lock has been left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from georesil._atomic import write_atomic
from georesil.drills.control import ActiveRecord
from georesil.drills.safety import read_lock
from georesil.provision.outputs import parameter_name_key
from georesil.readiness._calls import attempt
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import check
from georesil.readiness.results import CheckResult, CheckStatus

__all__ = ["epochs_path"]


def epochs_path(workdir: Path) -> Path:
    """Where readiness remembers the highest register epoch it has seen per service."""
    return workdir / ".georesil" / "readiness" / "epochs.json"


@check("control.reachable", "the control plane (witness) answers")
def reachable(ctx: ReadinessContext) -> Iterator[CheckResult]:
    where = ctx.outputs.control_site
    why = ctx.control_unreachable()
    if why is None:
        yield CheckResult("control.reachable", CheckStatus.OK, None, where,
                          f"control table {ctx.control.table} answers at {where}")
    else:
        yield CheckResult("control.reachable", CheckStatus.FAIL, None, where,
                          f"the control plane at {where} cannot be read: {why}; drills refuse "
                          "to start and no promotion is possible",
                          f"restore the control plane at {where} (`georesil lab revive {where}` "
                          "in a lab)")


@check("control.register", "one active site per service, epoch never decreasing",
       needs_control=True)
def register(ctx: ReadinessContext) -> Iterator[CheckResult]:
    seen = _load_epochs(ctx.workdir)
    for service in ctx.topology.services:
        if parameter_name_key(service) not in ctx.outputs:
            continue
        got = attempt("control.register", service, None,
                      partial(_register_entry, ctx, service),
                      what=f"the register entry of {service}")
        if got.result:
            yield got.result
            continue
        record, parameter = got.value
        yield _judge_register(ctx, service, record.site, parameter, record.epoch,
                              seen.get(service))
        seen[service] = max(record.epoch, seen.get(service, 0))
    _save_epochs(ctx.workdir, seen)


def _register_entry(ctx: ReadinessContext, service: str) -> tuple[ActiveRecord, str | None]:
    return ctx.control.active(service), ctx.control.parameter_site(service)


def _judge_register(ctx: ReadinessContext, service: str, site: str | None,
                    parameter: str | None, epoch: int, last_epoch: int | None) -> CheckResult:
    replicas = [r.site for r in ctx.topology.service(service).replicas]
    repair = f"`georesil drill repair {service}`"
    if site is None:
        return CheckResult("control.register", CheckStatus.FAIL, service, None,
                           "no active site is registered", f"{repair}, or re-provision")
    if site not in replicas:
        return CheckResult("control.register", CheckStatus.FAIL, service, site,
                           f"the register names {site}, which holds no replica", repair)
    if parameter is not None and parameter != site:
        return CheckResult("control.register", CheckStatus.FAIL, service, site,
                           f"split: the register names {site} (epoch {epoch}) but the serving-"
                           f"site parameter names {parameter}", repair)
    if last_epoch is not None and epoch < last_epoch:
        return CheckResult("control.register", CheckStatus.FAIL, service, site,
                           f"the epoch went back from {last_epoch} to {epoch}: something "
                           "rewrote the register (an update undoing a failover?)",
                           f"check the stack's history, then {repair}")
    return CheckResult("control.register", CheckStatus.OK, service, site,
                       f"{site} serves {service} (epoch {epoch})", value=float(epoch))


def _load_epochs(workdir: Path) -> dict[str, int]:
    try:
        data = json.loads(epochs_path(workdir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_epochs(workdir: Path, epochs: dict[str, int]) -> None:
    path = epochs_path(workdir)
    write_atomic(path, json.dumps(epochs, sort_keys=True) + "\n")


@check("control.locks", "no drill lock is left behind", needs_control=True)
def locks(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service in ctx.topology.services:
        got = attempt("control.locks", service, None, partial(read_lock, ctx.control, service),
                      what=f"the drill lock of {service}")
        if got.result:
            yield got.result
            continue
        lock = got.value
        if lock is None:
            yield CheckResult("control.locks", CheckStatus.OK, service, None, "no drill lock")
        elif lock.expires_at < ctx.now:
            yield CheckResult("control.locks", CheckStatus.WARN, service, None,
                              f"stale lock of {lock.describe()}",
                              f"`georesil drill repair {service}` releases it")
        else:
            yield CheckResult("control.locks", CheckStatus.OK, service, None,
                              f"a drill is running: {lock.describe()}")
