"""Actions: steps that change the world.

Every action is written to be idempotent where it can be (so a resumed drill may repeat the
step that was in flight): freezing a frozen service, syncing a synced mirror, pointing DNS
where it already points and re-killing a dead lab site change nothing, and
``control.set_active_site`` recognises its own earlier write by the run id.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from georesil.drills import observe
from georesil.drills.context import DrillContext
from georesil.drills.probes import stores
from georesil.drills.registry import StepArgs, action
from georesil.drills.runbook import FROM, TO
from georesil.errors import DrillInterrupted, InvalidInput
from georesil.mirror import sync
from georesil.provision.outputs import health_check_key
from georesil.provision.plan import set_identifier

__all__ = ["DnsArgs", "FreezeArgs", "LabSiteArgs", "SetActiveArgs", "SyncArgs", "WaitArgs"]


class FreezeArgs(StepArgs):
    """``writes.freeze``: ``service`` (default: all); ``drain_s`` to let writes in flight land."""

    service_fields = ("service",)
    service: str | None = None
    drain_s: float = Field(default=1.0, ge=0)


@action("writes.freeze", FreezeArgs, idempotent=True)
def writes_freeze(ctx: DrillContext, args: FreezeArgs) -> dict[str, Any]:
    """Set the write-freeze flag that applications honour, then wait for writes in flight."""
    services = ctx.services_for(args.service)
    for svc in services:
        ctx.control.set_frozen(svc, True, ctx.run_id)
    ctx.sleep(args.drain_s)
    return {"frozen": list(services)}


class UnfreezeArgs(StepArgs):
    """``writes.unfreeze``: ``service`` (default: all)."""

    service_fields = ("service",)
    service: str | None = None


@action("writes.unfreeze", UnfreezeArgs, idempotent=True)
def writes_unfreeze(ctx: DrillContext, args: UnfreezeArgs) -> dict[str, Any]:
    """Clear the write-freeze flag."""
    services = ctx.services_for(args.service)
    for svc in services:
        ctx.control.set_frozen(svc, False, ctx.run_id)
    return {"unfrozen": list(services)}


class SyncArgs(StepArgs):
    """``mirror.sync``: copy what ``to_site`` lacks from ``from_site``."""

    site_fields = ("from_site", "to_site")
    service_fields = ("service",)
    service: str | None = None
    from_site: str = FROM
    to_site: str = TO
    workers: int = Field(default=8, ge=1, le=64)


@action("mirror.sync", SyncArgs, idempotent=True, mutating=False)
def mirror_sync(ctx: DrillContext, args: SyncArgs) -> dict[str, Any]:
    """Copy the objects the to-site lacks (georesil's mirror: moto never replicates)."""
    out = {}
    for svc in stores(ctx, args.service):
        src, dst = ctx.site(args.from_site, svc), ctx.site(args.to_site, svc)
        result = sync(ctx.topology.with_primary(svc, src), svc, ctx.clients,
                      observe.buckets_of(ctx, svc), to=dst, workers=args.workers,
                      workdir=ctx.workdir)
        out[svc] = {"from": src, "to": dst, "versions_copied": result.versions_copied,
                    "bytes_copied": result.bytes_copied}
    return {"services": out}


class SetActiveArgs(StepArgs):
    """``control.set_active_site``: make ``site`` active; ``expect`` the site it replaces."""

    site_fields = ("site", "expect")
    service_fields = ("service",)
    service: str | None = None
    site: str = TO
    expect: str | None = None


@action("control.set_active_site", SetActiveArgs, idempotent=True)
def control_set_active_site(ctx: DrillContext, args: SetActiveArgs) -> dict[str, Any]:
    """Conditional write of the active-site register: fails if someone else changed it."""
    out, cutovers = {}, []
    for svc in ctx.services_for(args.service):
        site = ctx.site(args.site, svc)
        expect = ctx.site(args.expect, svc) if args.expect else None
        before = ctx.control.active(svc)
        record = ctx.control.set_active(svc, site, expect_epoch=ctx.epochs.get(svc, before.epoch),
                                        run_id=ctx.run_id, now=ctx.now(), expect_site=expect)
        ctx.epochs[svc] = record.epoch
        out[svc] = {"site": site, "previous": before.site, "epoch": record.epoch}
        if before.site != site:
            cutovers.append({"service": svc, "from_site": before.site, "to_site": site,
                             "ts": ctx.now()})
        elif before.by == ctx.run_id:  # its own earlier write (a resumed run): the cutover
            cutovers.append({"service": svc, "from_site": ctx.from_sites.get(svc),
                             "to_site": site, "ts": ctx.now()})
    return {"services": out, "cutovers": cutovers}


class DnsArgs(StepArgs):
    """``dns.set_primary``: point the failover records' PRIMARY at ``site``."""

    site_fields = ("site",)
    service_fields = ("service",)
    service: str | None = None
    site: str = TO


@action("dns.set_primary", DnsArgs, idempotent=True)
def dns_set_primary(ctx: DrillContext, args: DnsArgs) -> dict[str, Any]:
    """Make the site first in the failover chain, the others after it in the topology's
    replica order (so a failback restores the provisioned chain), in one
    ``ChangeResourceRecordSets`` batch; nothing when it already is first."""
    out = {}
    for svc in ctx.services_for(args.service):
        if not observe.has_dns(ctx, svc):
            continue
        site = ctx.site(args.site, svc)
        records = observe.failover_records(ctx, svc)
        if records.primary == site:
            out[svc] = {"primary": site, "chain": list(records.chain), "changed": False}
            continue
        order = [site, *_topology_order(ctx, svc, [s for s in records.chain if s != site])]
        changes = _rewrite_chain(ctx, svc, records, order)
        ctx.clients.call(ctx.control.site, "route53", "change_resource_record_sets",
                         HostedZoneId=records.zone_id,
                         ChangeBatch={"Comment": f"georesil drill {ctx.run_id}",
                                      "Changes": changes})
        out[svc] = {"primary": site, "secondary": order[1] if len(order) > 1 else None,
                    "chain": order, "changed": True}
    return {"services": out}


def _topology_order(ctx: DrillContext, svc: str, sites: list[str]) -> list[str]:
    """``sites`` in the order the topology lists the service's replicas (others last)."""
    rank = {r.site: i for i, r in enumerate(ctx.topology.service(svc).replicas)}
    return sorted(sites, key=lambda s: (rank.get(s, len(rank)), sites.index(s)))


def _rewrite_chain(ctx: DrillContext, svc: str, records: observe.FailoverRecords,
                   order: list[str]) -> list[dict[str, Any]]:
    """The changes that make the chain over ``records.names`` follow ``order``: name i's
    PRIMARY is ``order[i]``; its SECONDARY an alias to name i+1, or the last site."""
    names = list(records.names)
    first, _, zone = names[0].partition(".")
    while len(names) < max(1, len(order) - 1):  # a site new to the chain needs one more link
        names.append(f"{first}-failover-{len(names)}.{zone}")
    names = names[:max(1, len(order) - 1)]
    alias_zone = next((r["AliasTarget"].get("HostedZoneId") for r in records.raw
                       if "AliasTarget" in r), None) or records.zone_id
    wanted: list[dict[str, Any]] = []
    for level, name in enumerate(names):
        wanted.append(_site_record(ctx, svc, order[level], name, level, "PRIMARY", records))
        rest = order[level + 1:]
        if rest and level + 1 < len(names):
            wanted.append({"Name": name, "Type": wanted[-1]["Type"],
                           "SetIdentifier": set_identifier(svc, level, rest[0]),
                           "Failover": "SECONDARY",
                           "AliasTarget": {"HostedZoneId": alias_zone,
                                           "DNSName": names[level + 1],
                                           "EvaluateTargetHealth": True}})
        elif rest:
            wanted.append(_site_record(ctx, svc, rest[0], name, level, "SECONDARY", records))
    keep = {(w["Name"], w["SetIdentifier"]) for w in wanted}
    stale = [{"Action": "DELETE", "ResourceRecordSet": r} for r in records.raw
             if (r["Name"].rstrip(".").lower(), r.get("SetIdentifier")) not in keep]
    return stale + [{"Action": "UPSERT", "ResourceRecordSet": w} for w in wanted]


def _site_record(ctx: DrillContext, svc: str, site: str, name: str, level: int, role: str,
                 records: observe.FailoverRecords) -> dict[str, Any]:
    """A failover record for ``site`` at chain ``level``: a copy of its existing record
    anywhere in the chain, else one pointing at the site's endpoint host."""
    levels = {n.rstrip(".").lower(): i for i, n in enumerate(records.names)}
    existing = next((r for r in records.raw if "AliasTarget" not in r and observe.site_of(
        svc, r.get("SetIdentifier", ""), levels.get(r["Name"].rstrip(".").lower(), 0)) == site),
        None)
    if existing is not None:
        rrset = {k: v for k, v in existing.items() if k not in ("Failover", "Name")}
    else:
        host = urlsplit(ctx.endpoint_url(site) or "").hostname
        if not host:
            raise InvalidInput(f"cannot point {svc}'s record at {site!r}: the site has no "
                               "endpoint host and no record to copy", service=svc, site=site)
        is_ip = host.replace(".", "").isdigit()
        rrset = {"Type": "A" if is_ip else "CNAME", "TTL": 60,
                 "ResourceRecords": [{"Value": host}]}
        hc = health_check_key(svc, site)
        if hc in ctx.outputs:
            rrset["HealthCheckId"] = str(ctx.outputs.get(hc))
    rrset["SetIdentifier"] = set_identifier(svc, level, site)
    return {"Name": name, **rrset, "Failover": role}


class LabSiteArgs(StepArgs):
    """``lab.kill_site`` / ``lab.revive_site``: ``site`` (default ``$from``: every from-site);
    ``only_if: false`` makes the step do nothing (a parameterised runbook's switch)."""

    site_fields = ("site",)
    site: str = FROM
    only_if: bool = True


@action("lab.kill_site", LabSiteArgs, idempotent=True, lab_only=True)
def lab_kill_site(ctx: DrillContext, args: LabSiteArgs) -> dict[str, Any]:
    """Take a lab site out for real: its endpoint refuses connections (the fault)."""
    if not args.only_if:
        return {"faults": [], "skipped": True}
    lab = _lab(ctx)
    faults = []
    for site in ctx.sites_for(args.site, None):
        lab.kill(site)
        ts = ctx.now()
        faults += [{"service": svc, "site": site, "ts": ts}
                   for svc, src in ctx.from_sites.items() if src == site]
    return {"faults": faults}


@action("lab.revive_site", LabSiteArgs, idempotent=True, lab_only=True)
def lab_revive_site(ctx: DrillContext, args: LabSiteArgs) -> dict[str, Any]:
    """Bring a lab site back with its data."""
    if not args.only_if:
        return {"revived": [], "skipped": True}
    lab = _lab(ctx)
    sites = ctx.sites_for(args.site, None)
    for site in sites:
        lab.revive(site)
    return {"revived": list(sites)}


def _lab(ctx: DrillContext) -> Any:
    if ctx.env.lab is None:
        raise InvalidInput("this step needs the lab (`georesil lab up`); the drill is not "
                           "running against one")
    return ctx.env.lab


class WaitArgs(StepArgs):
    """``wait``: ``seconds`` to wait (cut short by an abort or a signal)."""

    seconds: float = Field(ge=0, le=3600)


@action("wait", WaitArgs, idempotent=True, mutating=False)
def wait(ctx: DrillContext, args: WaitArgs) -> dict[str, Any]:
    """Wait, e.g. for a DNS TTL to pass; a stop request ends the wait early."""
    if not ctx.sleep(args.seconds):
        raise DrillInterrupted("wait cut short by a stop request", step="wait")
    return {"waited_s": args.seconds}
