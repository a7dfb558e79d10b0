"""DNS checks: failover records and their health checks exist, point where the control plane
says the service is served, and the health checks are green — as Route 53 sees them, or by
georesil's own probe where Route 53 cannot probe (the lab, private addresses). Route 53 lives
with the control plane, so these checks are skipped when it cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from georesil.readiness._calls import attempt
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import check
from georesil.readiness.results import CheckResult, CheckStatus

__all__ = ["failover_records"]

_PROVISION = "run `georesil provision` (lab) or `georesil deploy up` to restore it"


def _dns_services(ctx: ReadinessContext) -> list[str]:
    return [s for s in ctx.topology.services if ctx.outputs.has_record(s)]


def _replica_sites(ctx: ReadinessContext, service: str) -> list[str]:
    return [r.site for r in ctx.topology.service(service).replicas]


def failover_records(ctx: ReadinessContext, service: str) -> list[dict[str, Any]]:
    """The failover record sets named like ``service``'s record, across the stack's zones."""
    name = ctx.outputs.record_name(service).rstrip(".") + "."
    found: list[dict[str, Any]] = []
    for zone_id in ctx.outputs.zone_ids().values():
        page = ctx.clients.call(ctx.outputs.control_site, "route53",
                                "list_resource_record_sets", HostedZoneId=zone_id,
                                StartRecordName=name)
        found += [r for r in page.get("ResourceRecordSets", ())
                  if r.get("Name") == name and r.get("Failover")]
    return found


@check("dns.records", "failover records exist and the primary points at the serving site",
       needs_control=True)
def records(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service in _dns_services(ctx):
        got = attempt("dns.records", service, None, partial(failover_records, ctx, service),
                      what=f"the failover records of {service}")
        if got.result or got.missing:
            yield got.result or CheckResult("dns.records", CheckStatus.FAIL, service, None,
                                            "the hosted zone does not exist", _PROVISION)
            continue
        yield _judge_records(ctx, service, got.value)


def _judge_records(ctx: ReadinessContext, service: str, found: list[dict[str, Any]]
                   ) -> CheckResult:
    name = ctx.outputs.record_name(service)
    roles = {r["Failover"]: r for r in found}
    if "PRIMARY" not in roles:
        return CheckResult("dns.records", CheckStatus.FAIL, service, None,
                           f"{name} has no PRIMARY failover record", _PROVISION)
    serving = ctx.control.active(service).site or ctx.topology.primary(service).site
    expected = ctx.outputs.health_check_id(service, serving)
    if roles["PRIMARY"].get("HealthCheckId") != expected:
        owner = _owner(ctx, service, roles["PRIMARY"].get("HealthCheckId"))
        return CheckResult(
            "dns.records", CheckStatus.FAIL, service, serving,
            f"{name} PRIMARY points at {owner or 'an unknown target'}, but the control plane "
            f"says {serving} serves {service}",
            f"point the PRIMARY at {serving} (the `dns.set_primary` drill step), or fail "
            "the register back if DNS is right")
    secondaries = len(_replica_sites(ctx, service)) - 1
    if secondaries and "SECONDARY" not in roles:
        return CheckResult("dns.records", CheckStatus.FAIL, service, None,
                           f"{name} has no SECONDARY failover record: nowhere to fail over to",
                           _PROVISION)
    return CheckResult("dns.records", CheckStatus.OK, service, serving,
                       f"{name}: PRIMARY at {serving}"
                       + (", SECONDARY present" if "SECONDARY" in roles else ""))


def _owner(ctx: ReadinessContext, service: str, health_check: str | None) -> str | None:
    for site in _replica_sites(ctx, service):
        if ctx.outputs.health_check_id(service, site) == health_check:
            return site
    return None


@check("dns.health", "every replica's health check exists and is green",
       needs_control=True)
def health(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service in _dns_services(ctx):
        for site in _replica_sites(ctx, service):
            hc = ctx.outputs.health_check_id(service, site)
            got = attempt("dns.health", service, site, partial(
                ctx.clients.call, ctx.outputs.control_site, "route53", "get_health_check",
                HealthCheckId=hc),
                what=f"health check {hc}")
            if got.result or got.missing:
                yield got.result or CheckResult(
                    "dns.health", CheckStatus.FAIL, service, site,
                    f"health check {hc} does not exist: Route 53 cannot fail {service} over "
                    f"to or away from {site}", _PROVISION)
                continue
            yield _health_status(ctx, service, site, hc)


def _health_status(ctx: ReadinessContext, service: str, site: str, hc: str) -> CheckResult:
    if ctx.probe is not None:
        healthy, how = ctx.probe(site), "georesil's probe"
    else:
        got = attempt("dns.health", service, site, lambda: ctx.clients.call(
            ctx.outputs.control_site, "route53", "get_health_check_status", HealthCheckId=hc),
            what=f"the status of health check {hc}")
        if got.result or got.missing:
            return got.result or CheckResult("dns.health", CheckStatus.UNREACHABLE, service,
                                             site, f"no status for health check {hc}")
        reports = got.value.get("HealthCheckObservations", [])
        healthy = bool(reports) and all(
            o.get("StatusReport", {}).get("Status", "").startswith("Success") for o in reports)
        how = f"Route 53 ({len(reports)} checkers)"
    if healthy:
        return CheckResult("dns.health", CheckStatus.OK, service, site,
                           f"health check {hc} exists; {site} healthy per {how}")
    return CheckResult("dns.health", CheckStatus.FAIL, service, site,
                       f"{site} is unhealthy per {how}: clients of {service} cannot be sent "
                       "there", f"bring {site} back (`georesil lab revive {site}` in a lab)")
