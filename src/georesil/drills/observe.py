"""Observing the deployed world for probes, actions and measurements: endpoint health, the
failover records, canary reads and writes, the buckets of a service."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from georesil.errors import InvalidInput, StepFailed
from georesil.lab.faults import HEALTH_PATH
from georesil.model.schema import ServiceKind
from georesil.provision.outputs import database_table_key, record_name_key
from georesil.provision.stack import dns_zone_of

if TYPE_CHECKING:
    from georesil.drills.context import DrillContext

__all__ = [
    "CANARY_PREFIX",
    "FailoverRecords",
    "buckets_of",
    "canary_read_write",
    "failover_records",
    "has_dns",
    "serving_site",
    "site_healthy",
    "site_of",
]

#: Canary objects live here; measurements and mirror comparisons of drills ignore them.
CANARY_PREFIX = "_georesil/canary/"


def site_healthy(ctx: DrillContext, site: str, timeout_s: float = 2.0) -> bool:
    """georesil's own health evaluation of a site's endpoint.

    moto's Route 53 health checks always say healthy, so this looks for itself: an endpoint
    URL is healthy when it answers HTTP below 500 (the lab's ``/_georesil/health``; any S3
    endpoint answers something); an AWS region (no URL) is assumed healthy.
    """
    url = ctx.endpoint_url(site)
    if url is None:
        return True
    try:
        with urllib.request.urlopen(url.rstrip("/") + HEALTH_PATH, timeout=timeout_s) as resp:
            return int(resp.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class FailoverRecords:
    """A service's failover records: the chain of sites clients fail over along.

    Route 53 allows one PRIMARY and one SECONDARY per name, so a service with more than one
    secondary has a **chain**: its name's SECONDARY is an alias to a second name with its
    own PRIMARY and SECONDARY, and so on (docs/provisioning.md). ``chain`` is the sites in
    failover order (the first healthy one serves); ``names`` the record names walked, the
    service's own first; ``raw`` every failover record of those names, as Route 53 lists them.
    """

    zone_id: str
    name: str
    chain: tuple[str, ...]
    names: tuple[str, ...]
    raw: tuple[dict[str, Any], ...]

    @property
    def primary(self) -> str | None:
        return self.chain[0] if self.chain else None

    @property
    def secondary(self) -> str | None:
        return self.chain[1] if len(self.chain) > 1 else None


def has_dns(ctx: DrillContext, service: str) -> bool:
    """Whether the stack exported failover records for ``service``."""
    return record_name_key(service) in ctx.outputs


def failover_records(ctx: DrillContext, service: str) -> FailoverRecords:
    """The failover chain of ``service`` as Route 53 holds it now."""
    if not has_dns(ctx, service):
        raise InvalidInput(f"service {service!r} has no failover DNS record (no 'dns_name' "
                           "in the topology)", service=service)
    name = ctx.outputs.record_name(service)
    zone_id = ctx.outputs.zone_id(dns_zone_of(name))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for record in _zone_records(ctx, zone_id):
        if record.get("Failover"):
            by_name.setdefault(_bare(record["Name"]), []).append(record)
    chain: list[str] = []
    names: list[str] = []
    raw: list[dict[str, Any]] = []
    current: str | None = _bare(name)
    while current is not None and current not in names:  # a loop would be a broken chain
        names.append(current)
        here = by_name.get(current, [])
        raw += here
        roles = {r["Failover"]: r for r in here}
        level = len(names) - 1
        current = None
        if "PRIMARY" in roles:
            chain.append(site_of(service, roles["PRIMARY"].get("SetIdentifier", ""), level))
        second = roles.get("SECONDARY")
        if second is not None and "AliasTarget" in second:
            current = _bare(second["AliasTarget"]["DNSName"])
        elif second is not None:
            chain.append(site_of(service, second.get("SetIdentifier", ""), level))
    return FailoverRecords(zone_id, name, tuple(dict.fromkeys(chain)), tuple(names),
                           tuple(raw))


def _zone_records(ctx: DrillContext, zone_id: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    start: dict[str, Any] = {}
    while True:
        got = ctx.clients.call(ctx.control.site, "route53", "list_resource_record_sets",
                               HostedZoneId=zone_id, **start)
        records += got["ResourceRecordSets"]
        if not got.get("IsTruncated"):
            return records
        start = {"StartRecordName": got["NextRecordName"],
                 "StartRecordType": got["NextRecordType"]}
        if got.get("NextRecordIdentifier"):
            start["StartRecordIdentifier"] = got["NextRecordIdentifier"]


def _bare(name: str) -> str:
    return name.rstrip(".").lower()


def site_of(service: str, identifier: str, level: int) -> str:
    """The site a set identifier at chain ``level`` names (the inverse of
    :func:`georesil.provision.plan.set_identifier`)."""
    for prefix in (f"{service}-{level}-" if level else None, f"{service}-"):
        if prefix and identifier.startswith(prefix):
            return identifier[len(prefix):]
    return identifier


def serving_site(ctx: DrillContext, service: str) -> dict[str, Any]:
    """What the failover chain resolves to: its first site that georesil's own health
    evaluation finds healthy (moto's Route 53 health checks always say healthy)."""
    records = failover_records(ctx, service)
    healthy = {s: site_healthy(ctx, s) for s in records.chain}
    serving = next((s for s in records.chain if healthy[s]), None)
    return {"value": serving, "primary": records.primary, "secondary": records.secondary,
            "chain": list(records.chain), "healthy": healthy, "record": records.name}


def canary_read_write(ctx: DrillContext, service: str, site: str) -> dict[str, Any]:
    """Write a canary to ``service``'s store at ``site`` and read it back.

    Object storage: an object in the service's bucket. Database: an item in the service's
    table at the site. Other kinds have no data plane in the lab: the endpoint's health.

    Raises:
        StepFailed: the object read back differs.
        CloudError: a call failed (after the retry policy).
    """
    kind = ctx.topology.service(service).kind
    started = time.monotonic()
    token = f"{ctx.run_id}-{uuid.uuid4().hex[:8]}"
    if kind is ServiceKind.OBJECT_STORAGE:
        bucket = ctx.bucket(service, site)
        if bucket is None:
            raise InvalidInput(f"{service!r} has no bucket at {site!r}", service=service,
                               site=site)
        key = f"{CANARY_PREFIX}{site}/{token}"
        ctx.clients.call(site, "s3", "put_object", Bucket=bucket, Key=key, Body=token.encode())
        body = ctx.clients.run(site, "s3", "get_object", lambda c: c.get_object(
            Bucket=bucket, Key=key)["Body"].read())
        ok, where = body == token.encode(), {"bucket": bucket, "key": key}
    elif kind is ServiceKind.DATABASE and database_table_key(service, site) in ctx.outputs:
        table = ctx.outputs.database_table(service, site)
        item = {"pk": {"S": "_georesil#canary"}, "sk": {"S": token}}
        ctx.clients.call(site, "dynamodb", "put_item", TableName=table, Item=item)
        got = ctx.clients.call(site, "dynamodb", "get_item", TableName=table,
                               Key=item, ConsistentRead=True)
        ok, where = got.get("Item", {}).get("sk") == {"S": token}, {"table": table}
    else:
        ok, where = site_healthy(ctx, site), {"endpoint": ctx.endpoint_url(site) or site}
    if not ok:
        raise StepFailed(f"{service} at {site}: the canary read back differs from what was "
                         "written", service=service, site=site)
    return {"value": True, "site": site, "service": service,
            "duration_ms": round((time.monotonic() - started) * 1000, 1), **where}


def buckets_of(ctx: DrillContext, service: str) -> dict[str, str]:
    """``{site: bucket}`` of an object-storage service."""
    return {site: ref.name for site, ref in ctx.outputs.buckets(service).items()}
