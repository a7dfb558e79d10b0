"""Storage checks: every replica bucket exists and is configured as provisioned, and each
secondary keeps within the service's RPO — by S3 replication (AWS pairs) or georesil's mirror
(any pair with an S3-compatible store)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from georesil.mirror.sync import read_checkpoint
from georesil.mirror.verify import History, compare, sample_versions
from georesil.model.replication import DEFAULT_MIRROR_INTERVAL_S, Mechanism, replication_plan
from georesil.model.schema import EndpointKind
from georesil.provision.outputs import bucket_name_key
from georesil.readiness._calls import attempt
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import check
from georesil.readiness.results import CheckResult, CheckStatus

__all__ = ["WARN_FRACTION", "deployed"]

#: A secondary whose oldest unreplicated write is older than this share of the RPO warns.
WARN_FRACTION = 0.5

_PROVISION = "run `georesil provision` (lab) or `georesil deploy up` to restore it"


def deployed(ctx: ReadinessContext, service: str, site: str) -> bool:
    """Whether the stack outputs name a bucket of ``service`` at ``site`` (drift lists those
    that are missing)."""
    return bucket_name_key(service, site) in ctx.outputs


def _replicas(ctx: ReadinessContext) -> Iterator[tuple[str, str, str]]:
    """(service, site, bucket) of every replica bucket the outputs name."""
    for service in ctx.storage_services():
        for site in (r.site for r in ctx.topology.service(service).replicas):
            if deployed(ctx, service, site):
                yield service, site, ctx.outputs.bucket(service, site).name


def _bucket_config(ctx: ReadinessContext, check_id: str, operation: str, what: str, *,
                   aws_only: bool = False
                   ) -> Iterator[tuple[str, str, str, Any, CheckResult | None, bool]]:
    for service, site, bucket in _replicas(ctx):
        if aws_only and not _is_aws(ctx, site):
            continue
        got = attempt(check_id, service, site,
                      partial(ctx.clients.call, site, "s3", operation, Bucket=bucket),
                      what=f"{what} of bucket {bucket}")
        yield service, site, bucket, got.value, got.result, got.missing


@check("storage.bucket", "every replica bucket exists")
def bucket_exists(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service, site, bucket, _, failed, missing in _bucket_config(
            ctx, "storage.bucket", "head_bucket", "existence"):
        if failed:
            yield failed
        elif missing:
            yield CheckResult("storage.bucket", CheckStatus.FAIL, service, site,
                              f"bucket {bucket} does not exist", _PROVISION)
        else:
            yield CheckResult("storage.bucket", CheckStatus.OK, service, site,
                              f"bucket {bucket} exists")


@check("storage.versioning", "versioning is enabled on every replica bucket")
def versioning(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service, site, bucket, got, failed, missing in _bucket_config(
            ctx, "storage.versioning", "get_bucket_versioning", "versioning"):
        if failed or missing:
            yield failed or _skipped("storage.versioning", service, site, bucket)
            continue
        state = got.get("Status") or "never enabled"
        ok = state == "Enabled"
        yield CheckResult(
            "storage.versioning", CheckStatus.OK if ok else CheckStatus.FAIL, service, site,
            f"bucket {bucket} versioning: {state}",
            None if ok else f"enable it: aws s3api put-bucket-versioning --bucket {bucket} "
            "--versioning-configuration Status=Enabled (replication and the mirror need it)")


@check("storage.encryption", "every replica bucket encrypts at rest")
def encryption(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service, site, bucket, got, failed, missing in _bucket_config(
            ctx, "storage.encryption", "get_bucket_encryption", "encryption"):
        if failed:
            yield failed
            continue
        rules = [] if missing else got["ServerSideEncryptionConfiguration"].get("Rules", [])
        algos = sorted({r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules
                        if "ApplyServerSideEncryptionByDefault" in r})
        yield CheckResult(
            "storage.encryption", CheckStatus.OK if algos else CheckStatus.FAIL, service, site,
            f"bucket {bucket} default encryption: {', '.join(algos) or 'none'}",
            None if algos else f"restore default encryption on {bucket}: {_PROVISION}")


def _is_aws(ctx: ReadinessContext, site: str) -> bool:
    """Whether ``site`` is an AWS region (a site without an endpoint plays one in moto)."""
    ep = ctx.topology.site(site).endpoint
    return ep is None or ep.effective_kind is EndpointKind.AWS


@check("storage.public_access", "every replica bucket in AWS blocks public access")
def public_access(ctx: ReadinessContext) -> Iterator[CheckResult]:
    for service, site, bucket in _replicas(ctx):
        if not _is_aws(ctx, site):
            yield CheckResult("storage.public_access", CheckStatus.SKIPPED, service, site,
                              f"bucket {bucket} is on an S3-compatible store, which has no "
                              "public-access-block API: its own bucket policy governs access")
    for service, site, bucket, got, failed, missing in _bucket_config(
            ctx, "storage.public_access", "get_public_access_block", "public access block",
            aws_only=True):
        if failed:
            yield failed
            continue
        conf = {} if missing else got["PublicAccessBlockConfiguration"]
        open_ = sorted(k for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                   "RestrictPublicBuckets") if not conf.get(k))
        yield CheckResult(
            "storage.public_access", CheckStatus.FAIL if open_ else CheckStatus.OK, service,
            site, f"bucket {bucket}: " + (f"{', '.join(open_)} off" if open_
                                          else "all public access blocked"),
            f"block public access on {bucket}: {_PROVISION}" if open_ else None)


def _skipped(check_id: str, service: str, site: str, bucket: str) -> CheckResult:
    return CheckResult(check_id, CheckStatus.SKIPPED, service, site,
                       f"bucket {bucket} does not exist (see storage.bucket)")


def _pairs(ctx: ReadinessContext) -> Iterator[tuple[str, str, str]]:
    """(service, primary site, secondary site) for every object-storage secondary."""
    for service in ctx.storage_services():
        primary = ctx.topology.primary(service).site
        for rep in ctx.topology.secondaries(service):
            if deployed(ctx, service, primary) and deployed(ctx, service, rep.site):
                yield service, primary, rep.site


@check("storage.replication", "each secondary has its replication mechanism in place")
def replication(ctx: ReadinessContext) -> Iterator[CheckResult]:
    plans = {(p.service, p.target): p for p in replication_plan(ctx.topology)}
    for service, primary, secondary in _pairs(ctx):
        plan = plans[(service, secondary)]
        if plan.mechanism is Mechanism.S3_REPLICATION:
            yield _s3_replication(ctx, service, primary, secondary)
        else:
            yield _mirror_schedule(ctx, service, secondary, plan.rpo_bound_s)


def _s3_replication(ctx: ReadinessContext, service: str, primary: str, secondary: str
                    ) -> CheckResult:
    source = ctx.outputs.bucket(service, primary)
    dest = ctx.outputs.bucket(service, secondary)
    got = attempt("storage.replication", service, secondary,
                  lambda: ctx.clients.call(primary, "s3", "get_bucket_replication",
                                           Bucket=source.name),
                  what=f"replication of bucket {source.name}")
    if got.result:
        return got.result
    rules = [] if got.missing else got.value["ReplicationConfiguration"].get("Rules", [])
    rule = next((r for r in rules if r.get("Destination", {}).get("Bucket") == dest.arn), None)
    fix = f"restore the replication rule {source.name} → {dest.name}: {_PROVISION}"
    if rule is None:
        return CheckResult("storage.replication", CheckStatus.FAIL, service, secondary,
                           f"no replication rule from {source.name} to {dest.name}", fix)
    if rule.get("Status") != "Enabled":
        return CheckResult("storage.replication", CheckStatus.FAIL, service, secondary,
                           f"replication rule {rule.get('ID')} is {rule.get('Status')}", fix)
    rtc = rule["Destination"].get("ReplicationTime", {}).get("Status") == "Enabled"
    metrics = rule["Destination"].get("Metrics", {}).get("Status") == "Enabled"
    if not (rtc and metrics):
        off = [n for n, on in (("Replication Time Control", rtc), ("metrics", metrics)) if not on]
        return CheckResult("storage.replication", CheckStatus.WARN, service, secondary,
                           f"replication rule {rule.get('ID')} enabled; {' and '.join(off)} "
                           "off (no 15-minute replication SLA)",
                           f"turn on {' and '.join(off)}: {_PROVISION}")
    return CheckResult("storage.replication", CheckStatus.OK, service, secondary,
                       f"S3 replication to {dest.name} enabled with RTC and metrics")


def _mirror_schedule(ctx: ReadinessContext, service: str, secondary: str,
                     interval_s: float | None) -> CheckResult:
    interval = interval_s or DEFAULT_MIRROR_INTERVAL_S
    every = f"`georesil mirror run {service} --to {secondary} --every {int(interval)}s`"
    point = read_checkpoint(ctx.workdir, service, secondary)
    beat = None if point is None else (point.heartbeat_at or point.updated_at)
    if point is None or beat is None:
        return CheckResult("storage.replication", CheckStatus.OK, service, secondary,
                           "replicated by georesil's mirror; no scheduled mirror has run from "
                           "here (storage.lag checks the replica itself)")
    age = max(0.0, ctx.now - beat)
    left = f"; {len(point.failed)} key(s) left by its last round" if point.failed else ""
    if age > 2 * interval:
        return CheckResult("storage.replication", CheckStatus.WARN, service, secondary,
                           f"the scheduled mirror's last heartbeat was {age:.0f} s ago (every "
                           f"{interval:.0f} s){left}", f"restart the scheduled mirror: {every}",
                           value=age)
    status = CheckStatus.WARN if point.failed else CheckStatus.OK
    return CheckResult("storage.replication", status, service, secondary,
                       f"the scheduled mirror ran {age:.0f} s ago{left}",
                       f"the next round retries them; `georesil mirror sync {service} --to "
                       f"{secondary}` now" if point.failed else None, value=age)


@check("storage.lag", "each secondary's oldest unreplicated write is within the RPO")
def lag(ctx: ReadinessContext) -> Iterator[CheckResult]:
    limit = ctx.topology.doc.readiness.lag_sample_keys
    for service, primary, secondary in _pairs(ctx):
        rpo = float(ctx.topology.service(service).rpo_s)
        source_bucket = ctx.outputs.bucket(service, primary).name
        dest_bucket = ctx.outputs.bucket(service, secondary).name
        listed = [attempt("storage.lag", service, site,
                          partial(sample_versions, ctx.clients, site, bucket, limit),
                          what=f"object versions of {bucket} at {site}")
                  for site, bucket in ((primary, source_bucket), (secondary, dest_bucket))]
        trouble = next((got for got in listed if got.result or got.missing), None)
        if trouble is not None:
            yield trouble.result or _skipped("storage.lag", service, secondary, dest_bucket)
            continue
        (source, source_whole), (dest, dest_whole) = (got.value for got in listed)
        yield _lag_row(ctx, service, primary, secondary, source, source_whole, dest,
                       dest_whole, rpo=rpo, limit=limit)


def _lag_row(ctx: ReadinessContext, service: str, primary: str, secondary: str,
             source: History, source_whole: bool, dest: History, dest_whole: bool, *,
             rpo: float, limit: int) -> CheckResult:
    # Each listing is the complete history of a prefix of the keys: compare the common prefix.
    sampled = ""
    if not (source_whole and dest_whole):
        ends = [max(h, default="") for h, whole in ((source, source_whole), (dest, dest_whole))
                if not whole]
        last = min(ends)
        source = {k: v for k, v in source.items() if k <= last}
        dest = {k: v for k, v in dest.items() if k <= last}
        sampled = f" (keys up to {last!r} sampled: at most {limit} versions read per side)"
    bucket = ctx.outputs.bucket(service, secondary).name
    report = compare(secondary, bucket, source, dest, ctx.now)
    age = report.oldest_unreplicated_age_s
    if report.in_sync:
        return CheckResult("storage.lag", CheckStatus.OK, service, secondary,
                           f"in sync with {primary}{sampled}", value=0.0)
    # Async replicas always lag a little: within half the RPO is healthy, within the RPO an
    # early warning, beyond it a failure (writes older than the RPO would be lost now).
    status = (CheckStatus.FAIL if age > rpo else
              CheckStatus.WARN if age > WARN_FRACTION * rpo else CheckStatus.OK)
    if status is CheckStatus.OK:
        return CheckResult("storage.lag", status, service, secondary,
                           f"{report.pending_versions} version(s) in flight to {secondary}, the "
                           f"oldest written {age:.0f} s ago; RPO {rpo:.0f} s{sampled}", value=age)
    return CheckResult(
        "storage.lag", status, service, secondary,
        f"{report.pending_versions} version(s) not yet at {secondary}, the oldest written "
        f"{age:.0f} s ago; RPO {rpo:.0f} s{sampled}",
        f"catch up now: `georesil mirror sync {service} --to {secondary}`, then find why "
        "replication fell behind (storage.replication)", value=age)

