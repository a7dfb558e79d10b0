"""Audit object replication: compare every object version at the primary with each secondary.

Version ids differ between buckets (each bucket mints its own), so versions are matched by
what they hold. The rule, per key:

1. Each bucket's history of the key is read oldest to newest, delete markers included. A
   version's *signature* is ``("object", ETag, size)`` or ``("marker",)``. For objects
   uploaded in parts the ETag is the MD5 of the part MD5s, so :mod:`georesil.mirror.sync`
   copies them with the same part layout to keep ETags comparable.
2. If the secondary's signatures are a prefix of the primary's (the normal case: replication,
   or an interrupted sync, stopped part-way), the rest of the primary's history is
   **pending**, to be copied in order.
3. Otherwise the histories have diverged (versions were lost, or someone wrote to the
   secondary). They are anchored on the secondary's latest version: its last occurrence in
   the primary's history, and everything after it is pending. When the primary never had
   that version, only the primary's latest version is pending: copying it makes the current
   state agree. Primary versions before the anchor that the secondary never had are
   **lost history** (S3 only appends, so they can no longer be put in place).

Either way, appending the pending versions makes the two histories agree by these rules, so a
second sync finds nothing to do.

Per secondary this yields ``missing`` (the primary's current object is not readable at the
secondary), ``differing`` (both have a current object, with a different ETag or size),
``deletes_pending`` (deleted at the primary, still readable at the secondary), ``extra``
(keys the primary never had: ``--prune`` removes them) and the age of the oldest pending
write: the live RPO exposure, compared with the service's ``rpo_s``.

Listing timestamps may have one-second resolution (moto); versions of one key that share a
timestamp keep the order the listing gives, and a delete marker is taken as newer than an
object version with the same timestamp unless the listing marks that version as latest.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import structlog

from georesil.cloud import SiteClients
from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.model.schema import ServiceKind

__all__ = [
    "KeyDiff",
    "MirrorReport",
    "SecondaryReport",
    "Version",
    "diff_key",
    "list_versions",
    "verify",
]

log = structlog.get_logger(__name__)

Signature = tuple[Any, ...]


@dataclass(frozen=True)
class Version:
    """One version of one key: an object or a delete marker."""

    key: str
    version_id: str
    last_modified: datetime
    is_delete_marker: bool = False
    etag: str | None = None
    size: int = 0
    is_latest: bool = False

    @property
    def signature(self) -> Signature:
        return ("marker",) if self.is_delete_marker else ("object", self.etag, self.size)


#: A bucket's history: key -> versions, oldest first.
History = dict[str, list[Version]]


def list_versions(clients: SiteClients, site: str, bucket: str, prefix: str = "") -> History:
    """Every version and delete marker in ``bucket`` at ``site``, per key, oldest first."""
    return sample_versions(clients, site, bucket, None, prefix)[0]


def sample_versions(clients: SiteClients, site: str, bucket: str, max_versions: int | None,
                    prefix: str = "") -> tuple[History, bool]:
    """The complete history of the first keys of ``bucket``, reading a bounded number of pages.

    Listing stops after the page that reaches ``max_versions`` versions (so at most
    ``ceil(max_versions / 1000)`` requests); the last key, whose history may be cut, is then
    left out. Returns the histories and whether they cover every key (nothing was cut).
    """
    objects: dict[str, list[Version]] = {}
    markers: dict[str, list[Version]] = {}
    seen = 0
    cut = False
    for page in _pages(clients, site, bucket, prefix):
        seen += len(page.get("Versions", ())) + len(page.get("DeleteMarkers", ()))
        for v in page.get("Versions", ()):
            objects.setdefault(v["Key"], []).append(Version(
                v["Key"], str(v.get("VersionId") or "null"), v["LastModified"], False,
                v.get("ETag"), int(v.get("Size", 0)), bool(v.get("IsLatest"))))
        for m in page.get("DeleteMarkers", ()):
            markers.setdefault(m["Key"], []).append(Version(
                m["Key"], str(m.get("VersionId") or "null"), m["LastModified"], True,
                is_latest=bool(m.get("IsLatest"))))
        if max_versions is not None and seen >= max_versions and page.get("IsTruncated"):
            cut = True
            break
    keys = sorted(objects.keys() | markers.keys())
    if cut and keys:
        keys.pop()
    return {key: _merge(objects.get(key, []), markers.get(key, [])) for key in keys}, not cut


def _pages(clients: SiteClients, site: str, bucket: str, prefix: str) -> Iterator[Any]:
    """Pages of ``ListObjectVersions``, each page fetched under the retry policy."""
    params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1000}
    while True:
        page = clients.call(site, "s3", "list_object_versions", **params)
        yield page
        if not page.get("IsTruncated"):
            return
        params["KeyMarker"] = page.get("NextKeyMarker")
        params["VersionIdMarker"] = page.get("NextVersionIdMarker")


def _merge(objects: list[Version], markers: list[Version]) -> list[Version]:
    """Merge two newest-first lists into one oldest-first history (see the module notes)."""
    merged: list[Version] = []
    i = j = 0
    while i < len(objects) or j < len(markers):
        if j >= len(markers):
            take_object = True
        elif i >= len(objects):
            take_object = False
        else:
            o, m = objects[i], markers[j]
            if o.last_modified != m.last_modified:
                take_object = o.last_modified > m.last_modified
            else:
                take_object = o.is_latest
        if take_object:
            merged.append(objects[i])
            i += 1
        else:
            merged.append(markers[j])
            j += 1
    merged.reverse()
    return merged


@dataclass(frozen=True)
class KeyDiff:
    """How one key's history at a secondary compares with the primary's."""

    key: str
    pending: tuple[Version, ...]
    lost: int = 0

    @property
    def in_sync(self) -> bool:
        return not self.pending


def diff_key(key: str, primary: list[Version], secondary: list[Version]) -> KeyDiff:
    """Compare two histories of ``key`` (oldest first) by signature; see the module notes."""
    mine = [v.signature for v in primary]
    theirs = [v.signature for v in secondary]
    if len(theirs) <= len(mine) and mine[:len(theirs)] == theirs:
        return KeyDiff(key, tuple(primary[len(theirs):]))
    anchor = next((i for i in range(len(mine) - 1, -1, -1) if mine[i] == theirs[-1]), None)
    pending = primary[anchor + 1:] if anchor is not None else primary[-1:]
    have = set(theirs)
    before = mine[:anchor + 1] if anchor is not None else mine[:-1]
    return KeyDiff(key, tuple(pending), sum(1 for sig in before if sig not in have))


@dataclass(frozen=True)
class SecondaryReport:
    """Replication state of one secondary bucket."""

    site: str
    bucket: str
    objects: int = 0
    missing: int = 0
    differing: int = 0
    missing_bytes: int = 0
    differing_bytes: int = 0
    deletes_pending: int = 0
    pending_versions: int = 0
    lost_versions: int = 0
    extra: int = 0
    extra_bytes: int = 0
    oldest_unreplicated_age_s: float = 0.0

    @property
    def in_sync(self) -> bool:
        return not (self.pending_versions or self.missing or self.differing
                    or self.deletes_pending)


@dataclass(frozen=True)
class MirrorReport:
    """What :func:`verify` found; :meth:`to_json` is the stable form of ``--json``."""

    service: str
    primary: str
    bucket: str
    rpo_s: float
    objects: int
    bytes: int
    delete_markers: int
    secondaries: dict[str, SecondaryReport] = field(default_factory=dict)

    @property
    def lagging(self) -> list[str]:
        """Secondaries whose oldest pending write is older than the service's RPO."""
        return [s.site for s in self.secondaries.values()
                if s.oldest_unreplicated_age_s > self.rpo_s]

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "primary": self.primary,
            "bucket": self.bucket,
            "rpo_s": self.rpo_s,
            "objects": self.objects,
            "bytes": self.bytes,
            "delete_markers": self.delete_markers,
            "lagging": self.lagging,
            "secondaries": {
                site: {k: v for k, v in asdict(s).items() if k != "site"}
                for site, s in self.secondaries.items()
            },
        }


def replica_sites(topology: Topology, service: str, to: str | None = None) -> tuple[str,
                                                                                      list[str]]:
    """The primary site of ``service`` and the secondary sites to compare (all, or ``to``)."""
    spec = topology.service(service)
    if spec.kind is not ServiceKind.OBJECT_STORAGE:
        raise InvalidInput(f"service {service!r} is {spec.kind.value!r}; mirror works on "
                           "object-storage services", service=service)
    primary = topology.primary(service).site
    secondaries = [r.site for r in topology.secondaries(service)]
    if to is not None:
        if to not in secondaries:
            raise InvalidInput(f"--to {to!r} is not a secondary of {service!r}; secondaries: "
                               f"{', '.join(secondaries) or 'none'}", service=service, site=to)
        secondaries = [to]
    return primary, secondaries


def _bucket(buckets: Mapping[str, str], service: str, site: str) -> str:
    try:
        return buckets[site]
    except KeyError:
        raise InvalidInput(f"no bucket known for service {service!r} at site {site!r}; "
                           f"known: {dict(buckets)}", service=service, site=site) from None


def verify(
    topology: Topology,
    service: str,
    clients: SiteClients,
    buckets: Mapping[str, str],
    *,
    to: str | None = None,
    now: float | None = None,
) -> MirrorReport:
    """Compare ``service``'s primary bucket with each secondary, version by version.

    Args:
        topology: Names the primary and the secondaries, and the RPO.
        service: An object-storage service.
        clients: Per-site clients.
        buckets: ``{site: bucket name}`` for the service's replicas (stack outputs).
        to: Compare only this secondary.
        now: Reference time (epoch seconds) for ages; the current time by default.

    Raises:
        InvalidInput: not an object-storage service, or a bucket is unknown.
        CloudError: a listing failed after retries.
    """
    primary, targets = replica_sites(topology, service, to)
    source = list_versions(clients, primary, _bucket(buckets, service, primary))
    now = time.time() if now is None else now
    latest = [h[-1] for h in source.values() if h]
    live = [v for v in latest if not v.is_delete_marker]
    report = MirrorReport(
        service, primary, buckets[primary], float(topology.service(service).rpo_s),
        objects=len(live), bytes=sum(v.size for v in live),
        delete_markers=sum(1 for v in latest if v.is_delete_marker))
    for site in targets:
        dest = list_versions(clients, site, _bucket(buckets, service, site))
        report.secondaries[site] = compare(site, buckets[site], source, dest, now)
    log.info("mirror.verified", service=service, primary=primary, lagging=report.lagging,
             **{f"missing_{s}": r.missing for s, r in report.secondaries.items()})
    return report


def compare(site: str, bucket: str, source: History, dest: History, now: float) -> SecondaryReport:
    """Summarise how ``dest`` (at ``site``) lags ``source``."""
    counts: dict[str, int] = dict.fromkeys(
        ("missing", "differing", "missing_bytes", "differing_bytes", "deletes_pending",
         "pending_versions", "lost_versions", "extra", "extra_bytes"), 0)
    oldest: datetime | None = None
    for key, history in source.items():
        there = dest.get(key, [])
        d = diff_key(key, history, there)
        counts["pending_versions"] += len(d.pending)
        counts["lost_versions"] += d.lost
        if d.pending:
            first = min(v.last_modified for v in d.pending)
            oldest = first if oldest is None else min(oldest, first)
        mine, theirs = history[-1], (there[-1] if there else None)
        if not mine.is_delete_marker:
            if theirs is None or theirs.is_delete_marker:
                counts["missing"] += 1
                counts["missing_bytes"] += mine.size
            elif theirs.signature != mine.signature:
                counts["differing"] += 1
                counts["differing_bytes"] += mine.size
        elif theirs is not None and not theirs.is_delete_marker:
            counts["deletes_pending"] += 1
    for key, there in dest.items():
        if key not in source and there and not there[-1].is_delete_marker:
            counts["extra"] += 1
            counts["extra_bytes"] += there[-1].size
    objects = sum(1 for h in dest.values() if h and not h[-1].is_delete_marker)
    age = max(0.0, now - oldest.timestamp()) if oldest is not None else 0.0
    return SecondaryReport(site, bucket, objects, oldest_unreplicated_age_s=round(age, 3),
                           **counts)
