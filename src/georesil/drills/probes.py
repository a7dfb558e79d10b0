"""Probes: steps that read the world. Each returns a dict whose ``value`` tolerances check.

Where ``service`` is omitted a probe looks at every service of the runbook (it applies to)
and ``value`` is the worst of them: ``False`` if any check failed, the largest lag, or — for
site-valued probes — the common site (``None`` when the services disagree).
"""

from __future__ import annotations

from typing import Any

from georesil.drills import observe
from georesil.drills.context import DrillContext
from georesil.drills.registry import StepArgs, probe
from georesil.drills.runbook import FROM, TO
from georesil.errors import InvalidInput
from georesil.mirror import verify
from georesil.model.schema import ServiceKind

__all__ = ["ActiveSiteArgs", "EndpointArgs", "MirrorLagArgs", "ReadWriteArgs", "stores",
           "ServingSiteArgs"]


class ReadWriteArgs(StepArgs):
    """``s3.read_write``: ``site`` (default ``$to``), ``service`` (default: all)."""

    site_fields = ("site",)
    service_fields = ("service",)
    service: str | None = None
    site: str = TO


@probe("s3.read_write", ReadWriteArgs)
def s3_read_write(ctx: DrillContext, args: ReadWriteArgs) -> dict[str, Any]:
    """Write a canary object to the service's bucket at a site and read it back."""
    results = {svc: observe.canary_read_write(ctx, svc, ctx.site(args.site, svc))
               for svc in stores(ctx, args.service)}
    return {"value": all(r["value"] for r in results.values()), "services": results}


class MirrorLagArgs(StepArgs):
    """``mirror.lag``: compare ``from_site`` (default ``$from``) with ``to_site`` (``$to``)."""

    site_fields = ("from_site", "to_site")
    service_fields = ("service",)
    service: str | None = None
    from_site: str = FROM
    to_site: str = TO


@probe("mirror.lag", MirrorLagArgs)
def mirror_lag(ctx: DrillContext, args: MirrorLagArgs) -> dict[str, Any]:
    """The mirror's verify as a probe: value = objects the to-site lacks (0 = in sync)."""
    out: dict[str, Any] = {}
    for svc in stores(ctx, args.service):
        src, dst = ctx.site(args.from_site, svc), ctx.site(args.to_site, svc)
        report = verify(ctx.topology.with_primary(svc, src), svc, ctx.clients,
                        observe.buckets_of(ctx, svc), to=dst, now=ctx.now())
        sec = report.secondaries[dst]
        out[svc] = {"from": src, "to": dst, "missing": sec.missing + sec.differing,
                    "missing_bytes": sec.missing_bytes + sec.differing_bytes,
                    "lag_s": round(sec.oldest_unreplicated_age_s, 3), "objects": report.objects}
    return {"value": max((o["missing"] for o in out.values()), default=0),
            "lag_s": max((o["lag_s"] for o in out.values()), default=0.0), "services": out}


class ServingSiteArgs(StepArgs):
    """``dns.serving_site``: ``service`` (default: all with a failover record)."""

    service_fields = ("service",)
    service: str | None = None


@probe("dns.serving_site", ServingSiteArgs)
def dns_serving_site(ctx: DrillContext, args: ServingSiteArgs) -> dict[str, Any]:
    """The site the failover records send clients to, by georesil's own health checks.

    ``value``: the serving site (``None`` when services disagree); ``consistent``: DNS sends
    every service to the site the control plane names as active.
    """
    svcs = [s for s in ctx.services_for(args.service) if observe.has_dns(ctx, s)]
    results = {svc: observe.serving_site(ctx, svc) for svc in svcs}
    for svc, r in results.items():
        r["active"] = ctx.control.active(svc).site
    return {"value": _common(r["value"] for r in results.values()),
            "consistent": all(r["value"] == r["active"] for r in results.values()),
            "services": results}


class ActiveSiteArgs(StepArgs):
    """``control.active_site``: ``service`` (default: all)."""

    service_fields = ("service",)
    service: str | None = None


@probe("control.active_site", ActiveSiteArgs)
def control_active_site(ctx: DrillContext, args: ActiveSiteArgs) -> dict[str, Any]:
    """The active site in the control plane (register and serving-site parameter)."""
    results = {}
    for svc in ctx.services_for(args.service):
        record = ctx.control.active(svc)
        param = ctx.control.parameter_site(svc)
        results[svc] = {"site": record.site, "parameter": param, "epoch": record.epoch,
                        "split": bool(param and param != record.site)}
    split = any(r["split"] for r in results.values())
    return {"value": None if split else _common(r["site"] for r in results.values()),
            "split": split, "services": results}


class EndpointArgs(StepArgs):
    """``endpoint.reachable``: ``site`` (default ``$to``)."""

    site_fields = ("site",)
    site: str = TO


@probe("endpoint.reachable", EndpointArgs)
def endpoint_reachable(ctx: DrillContext, args: EndpointArgs) -> dict[str, Any]:
    """Whether a site's endpoint answers (georesil's own health evaluation)."""
    sites = ctx.sites_for(args.site, None)
    healthy = {s: observe.site_healthy(ctx, s) for s in sites}
    return {"value": all(healthy.values()), "sites": healthy}


def stores(ctx: DrillContext, service: str | None) -> list[str]:
    """The object-storage services among those meant: the one named (an error when it is not
    object storage), or those of the runbook's services that are (possibly none)."""
    named = ctx.services_for(service)
    found = [s for s in named if ctx.topology.service(s).kind is ServiceKind.OBJECT_STORAGE]
    if service is not None and not found:
        raise InvalidInput(f"{service!r} is not object storage; this step works on object "
                           "storage", service=service)
    return found


def _common(values: Any) -> Any:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None
