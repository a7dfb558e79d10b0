"""``run_readiness``: every registered check (or the ones asked for), then drift."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import structlog

from georesil.errors import GeoresilError, InvalidInput
from georesil.readiness.context import ReadinessContext
from georesil.readiness.drift import find_drift
from georesil.readiness.registry import REGISTRY, CheckSpec
from georesil.readiness.results import CheckResult, CheckStatus, ReadinessReport

__all__ = ["run_readiness", "select_checks"]

log = structlog.get_logger(__name__)


def select_checks(only: Sequence[str] = ()) -> list[CheckSpec]:
    """The registered checks named in ``only`` (ids or areas), or all of them.

    Raises:
        InvalidInput: a name that is neither a check id nor an area.
    """
    if not only:
        return list(REGISTRY.values())
    areas = {spec.area for spec in REGISTRY.values()}
    unknown = [n for n in only if n not in REGISTRY and n not in areas]
    if unknown:
        raise InvalidInput(
            f"--check: unknown check(s) {', '.join(map(repr, unknown))}; checks: "
            f"{', '.join(REGISTRY)}; areas: {', '.join(sorted(areas))}", field="check",
            value=unknown)
    return [s for s in REGISTRY.values() if s.id in only or s.area in only]


def run_readiness(ctx: ReadinessContext, only: Sequence[str] = (),
                  *, drift: bool = True) -> ReadinessReport:
    """Run the checks against the deployed world described by ``ctx``.

    Notes:
        Each check makes a bounded number of requests: a few per bucket, record and service,
        plus ``ceil(lag_sample_keys / 1000)`` listings per side for replication lag.
    """
    started = time.monotonic()
    results: list[CheckResult] = []
    for spec in select_checks(only):
        results.extend(_run_one(ctx, spec))
    found = find_drift(ctx) if drift else ()
    report = ReadinessReport(ctx.topology.name, ctx.now, time.monotonic() - started,
                             tuple(results), found)
    log.info("readiness.finished", exit_code=report.exit_code, drift=len(found),
             duration_s=round(report.duration_s, 3), **report.counts())
    return report


def _run_one(ctx: ReadinessContext, spec: CheckSpec) -> Iterable[CheckResult]:
    if spec.needs_control and ctx.control_unreachable() is not None:
        return [CheckResult(spec.id, CheckStatus.SKIPPED, None, ctx.outputs.control_site,
                            "the control plane cannot be read (see control.reachable)")]
    try:
        return list(spec.fn(ctx))
    except InvalidInput:
        raise
    except GeoresilError as exc:
        return [CheckResult(spec.id, CheckStatus.FAIL, None, None,
                            f"the check could not run: {exc}",
                            "see the message; re-provision if a stack output is missing")]
