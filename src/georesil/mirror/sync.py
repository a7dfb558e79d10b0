"""Repair replication: copy what a secondary is missing, resumably and without duplicates.

For each secondary, :func:`sync` lists both histories, works out each key's pending versions
with the rule in :mod:`georesil.mirror.verify`, and copies them in order (one worker per key,
``workers`` keys at a time): an object version is read from the primary and written to the
secondary — objects uploaded in parts are copied part by part with the source's part size, so
the ETags stay comparable; a delete marker is mirrored by a delete. Each copy carries user
metadata ``georesil-source-version``, ``georesil-source-etag`` and
``georesil-source-last-modified`` (headers ``x-amz-meta-georesil-source-*``).

Nothing is copied twice:

- the plan comes from listing the destination, so anything already there is skipped;
- writes that create a version (put, delete marker, complete multipart) are retried only after
  checking that the previous attempt did not already land (a HEAD comparing
  ``georesil-source-version``);
- a checkpoint, ``.georesil/mirror/<service>/<site>.json``, records every completed
  (key, source version, ETag) and is rewritten atomically after each batch; a version it
  records is not copied again when the destination holds its signature, even where listing
  timestamps are too coarse to order a key's versions.

A key whose copy still fails when the retry policy gives up (throttles, server errors, a
version gone meanwhile) is recorded in the checkpoint and skipped; the sync goes on with the
other keys, reports the keys left (:attr:`SiteSync.failed`) and the next sync tries them first.
A site that cannot be reached at all (connection refused), denies access, or fails
:data:`MAX_CONSECUTIVE_FAILURES` keys in a row stops the sync instead: the checkpoint is
saved and the error re-raised; run it again to resume. ``prune`` deletes every version of
keys the primary no longer has at all.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import structlog

from georesil._atomic import write_atomic
from georesil.cloud import SiteClients
from georesil.errors import CloudError, InvalidInput, NotFound, Throttled, Unavailable
from georesil.mirror.verify import (
    History,
    Version,
    _bucket,
    diff_key,
    list_versions,
    replica_sites,
)
from georesil.model import Topology

__all__ = [
    "MAX_CONSECUTIVE_FAILURES",
    "META_ETAG",
    "META_LAST_MODIFIED",
    "META_VERSION",
    "Checkpoint",
    "SiteSync",
    "SyncResult",
    "checkpoint_path",
    "mark_heartbeat",
    "read_checkpoint",
    "sync",
]

log = structlog.get_logger(__name__)

META_VERSION = "georesil-source-version"
META_ETAG = "georesil-source-etag"
META_LAST_MODIFIED = "georesil-source-last-modified"
#: This many keys failing in a row (after their retries) means the site, not the keys, is
#: the problem: the sync stops instead of trying every key.
MAX_CONSECUTIVE_FAILURES = 20

Progress = Callable[[str, int, int], None]
"""``progress(site, done, total)``: keys handled so far out of ``total``; called once with 0
before the first copy and then after every key, from the worker threads."""


@dataclass
class SiteSync:
    """What one secondary received."""

    site: str
    bucket: str
    keys_planned: int = 0
    versions_copied: int = 0
    bytes_copied: int = 0
    delete_markers: int = 0
    multipart: int = 0
    pruned: int = 0
    skipped_checkpoint: int = 0
    complete: bool = False
    #: Keys not mirrored because their retries ran out: ``{key: error}``; the next sync
    #: tries them first.
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class SyncResult:
    """The outcome of :func:`sync`."""

    service: str
    primary: str
    sites: dict[str, SiteSync] = field(default_factory=dict)
    duration_s: float = 0.0

    @property
    def versions_copied(self) -> int:
        return sum(s.versions_copied for s in self.sites.values())

    @property
    def bytes_copied(self) -> int:
        return sum(s.bytes_copied for s in self.sites.values())

    @property
    def failed(self) -> dict[str, list[str]]:
        """``{site: [keys left]}`` for every secondary with keys not mirrored."""
        return {site: sorted(s.failed) for site, s in self.sites.items() if s.failed}

    def to_json(self) -> dict[str, Any]:
        return {"service": self.service, "primary": self.primary,
                "duration_s": round(self.duration_s, 3),
                "sites": {k: asdict(v) for k, v in self.sites.items()}}


@dataclass(frozen=True)
class Checkpoint:
    """What the checkpoint of one (service, secondary) says, for status and readiness.

    Times are epoch seconds; ``None`` when it never happened.
    """

    path: Path
    source_bucket: str | None
    dest_bucket: str | None
    keys_done: int
    failed: dict[str, str]
    updated_at: float | None
    last_success_at: float | None
    heartbeat_at: float | None


class _Checkpoint:
    """Completed copies, per key: ``{key: {source_version_id: etag}}``, saved atomically,
    with the keys left by the last run and the times of the last success and heartbeat."""

    def __init__(self, path: Path, source_bucket: str, dest_bucket: str) -> None:
        self.path = path
        self.buckets = (source_bucket, dest_bucket)
        self.done: dict[str, dict[str, str]] = {}
        self.failed: dict[str, str] = {}
        self.last_success_at: float | None = None
        self.heartbeat_at: float | None = None
        self._lock = threading.Lock()
        data = _read_json(path)
        if (data.get("source_bucket"), data.get("dest_bucket")) == self.buckets:
            self.done = {str(k): dict(v) for k, v in dict(data.get("done") or {}).items()}
            self.failed = {str(k): str(v) for k, v in dict(data.get("failed") or {}).items()}
            self.last_success_at = _float_or_none(data.get("last_success_at"))
            self.heartbeat_at = _float_or_none(data.get("heartbeat_at"))

    def has(self, version: Version) -> bool:
        return self.done.get(version.key, {}).get(version.version_id) == (version.etag or "")

    def add(self, version: Version) -> None:
        with self._lock:
            self.done.setdefault(version.key, {})[version.version_id] = version.etag or ""

    def settle(self, failed: Mapping[str, str], *, now: float) -> None:
        """Record the keys left by a finished run; no key left is a success at ``now``."""
        with self._lock:
            self.failed = dict(failed)
            self.heartbeat_at = now
            if not failed:
                self.last_success_at = now

    def save(self) -> None:
        with self._lock:
            payload = json.dumps({"source_bucket": self.buckets[0],
                                  "dest_bucket": self.buckets[1],
                                  "updated_at": time.time(),
                                  "last_success_at": self.last_success_at,
                                  "heartbeat_at": self.heartbeat_at,
                                  "failed": self.failed, "done": self.done})
        write_atomic(self.path, payload)


def _read_json(path: Path) -> dict[str, Any]:
    """A checkpoint's content; ``{}`` when it is missing or unreadable (it is only a guard)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _float_or_none(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def checkpoint_path(workdir: str | Path, service: str, site: str) -> Path:
    """Where the checkpoint of ``service``'s mirror to ``site`` lives."""
    return Path(workdir) / ".georesil" / "mirror" / service / f"{site}.json"


def mark_heartbeat(workdir: str | Path, service: str, site: str, *, now: float) -> None:
    """Write ``heartbeat_at`` into the checkpoint of ``service``'s mirror to ``site`` (the
    scheduled runner does after every round, whatever its outcome)."""
    path = checkpoint_path(workdir, service, site)
    data = _read_json(path)
    data["heartbeat_at"] = now
    write_atomic(path, json.dumps(data))


def read_checkpoint(workdir: str | Path, service: str, site: str) -> Checkpoint | None:
    """The checkpoint of ``service``'s mirror to ``site``, or ``None`` when there is none."""
    path = checkpoint_path(workdir, service, site)
    data = _read_json(path)
    if not data:
        return None
    return Checkpoint(
        path, data.get("source_bucket"), data.get("dest_bucket"),
        keys_done=len(dict(data.get("done") or {})),
        failed={str(k): str(v) for k, v in dict(data.get("failed") or {}).items()},
        updated_at=_float_or_none(data.get("updated_at")),
        last_success_at=_float_or_none(data.get("last_success_at")),
        heartbeat_at=_float_or_none(data.get("heartbeat_at")))


def sync(
    topology: Topology,
    service: str,
    clients: SiteClients,
    buckets: Mapping[str, str],
    *,
    to: str | None = None,
    workers: int = 8,
    prune: bool = False,
    progress: Progress | None = None,
    workdir: str | Path = ".",
    batch_size: int = 200,
) -> SyncResult:
    """Copy to each secondary of ``service`` (or only ``to``) what it is missing.

    Args:
        topology: Names the primary and the secondaries.
        service: An object-storage service.
        clients: Per-site clients (their retry policy applies to every call).
        buckets: ``{site: bucket name}`` for the service's replicas.
        to: Sync only this secondary.
        workers: Keys copied concurrently.
        prune: Also delete keys that no longer exist at the primary.
        progress: Called as ``progress(site, done, total)`` after each key (from the worker
            threads).
        workdir: Where ``.georesil/mirror/`` checkpoints live.
        batch_size: Keys per checkpoint save and ``mirror.batch_copied`` event.

    Returns:
        What each secondary received; keys whose retries ran out are in
        ``result.sites[site].failed`` (the sync went on without them).

    Raises:
        InvalidInput: a bad service, ``to`` or ``workers``.
        CloudError: a listing failed after retries, a site refused connections or denied
            access, or :data:`MAX_CONSECUTIVE_FAILURES` keys failed in a row; the checkpoint
            is saved, run again to resume.
    """
    if workers < 1:
        raise InvalidInput(f"--workers: got {workers}; must be 1 or more", field="workers")
    started = time.monotonic()
    primary, targets = replica_sites(topology, service, to)
    source_bucket = _bucket(buckets, service, primary)
    result = SyncResult(service, primary)
    source = list_versions(clients, primary, source_bucket)
    for site in targets:
        dest_bucket = _bucket(buckets, service, site)
        outcome = SiteSync(site, dest_bucket)
        result.sites[site] = outcome
        copier = _Copier(clients, primary, source_bucket, site, dest_bucket, outcome)
        checkpoint = _Checkpoint(checkpoint_path(workdir, service, site), source_bucket,
                                 dest_bucket)
        with structlog.contextvars.bound_contextvars(service=service, site=site):
            _sync_site(copier, source, checkpoint, workers=workers, prune=prune,
                       progress=progress, batch_size=batch_size)
    result.duration_s = time.monotonic() - started
    for s in result.sites.values():
        log.info("mirror.sync_finished", service=service, primary=primary, site=s.site,
                 versions=s.versions_copied, bytes=s.bytes_copied,
                 delete_markers=s.delete_markers, pruned=s.pruned,
                 skipped_checkpoint=s.skipped_checkpoint,
                 duration_s=round(result.duration_s, 3))
    return result


def _plan(source: History, dest: History, checkpoint: _Checkpoint,
          outcome: SiteSync) -> list[tuple[str, tuple[Version, ...]]]:
    """Pending versions per key; the keys the last run left behind come first."""
    work = []
    for key, history in source.items():
        there = dest.get(key, [])
        pending = diff_key(key, history, there).pending
        if not pending:
            continue
        present = {v.signature for v in there}
        todo = tuple(v for v in pending if not (checkpoint.has(v) and v.signature in present))
        outcome.skipped_checkpoint += len(pending) - len(todo)
        if todo:
            work.append((key, todo))
    work.sort(key=lambda item: item[0] not in checkpoint.failed)  # stable: else source order
    return work


def _sync_site(copier: _Copier, source: History, checkpoint: _Checkpoint, *, workers: int,
               prune: bool, progress: Progress | None, batch_size: int) -> None:
    outcome = copier.outcome
    dest = list_versions(copier.clients, copier.dest_site, copier.dest_bucket)
    work = _plan(source, dest, checkpoint, outcome)
    outcome.keys_planned = len(work)
    stale = [(k, h) for k, h in dest.items() if k not in source] if prune else []
    total = len(work) + len(stale)
    done = 0
    tracker = _Tracker(copier.dest_site, total, progress)
    if progress:
        progress(copier.dest_site, 0, total)
    for start in range(0, total, batch_size):
        began = time.monotonic()
        before = (outcome.versions_copied, outcome.bytes_copied)
        chunk = work[start:start + batch_size]
        prune_chunk = stale[max(0, start - len(work)):max(0, start + batch_size - len(work))]
        try:
            _run_batch(copier, chunk, prune_chunk, checkpoint, workers, tracker)
        finally:
            outcome.failed = dict(tracker.failed)
            checkpoint.failed = {**checkpoint.failed, **tracker.failed}
            checkpoint.save()
        done += len(chunk) + len(prune_chunk)
        log.info("mirror.batch_copied", batch=start // batch_size, keys=len(chunk),
                 pruned=len(prune_chunk), versions=outcome.versions_copied - before[0],
                 bytes=outcome.bytes_copied - before[1], done=done, total=total,
                 failed=len(tracker.failed), duration_s=round(time.monotonic() - began, 3))
    checkpoint.settle(tracker.failed, now=time.time())
    checkpoint.save()
    outcome.complete = not tracker.failed
    if tracker.failed:
        log.warning("mirror.keys_left", keys=sorted(tracker.failed)[:20],
                    count=len(tracker.failed))


class _Tracker:
    """Counts finished keys for progress, and keys given up, stopping a run that only fails."""

    def __init__(self, site: str, total: int, progress: Progress | None) -> None:
        self.site, self.total, self.progress = site, total, progress
        self.failed: dict[str, str] = {}
        self._done = 0
        self._in_a_row = 0
        self._lock = threading.Lock()

    def succeeded(self) -> None:
        with self._lock:
            self._in_a_row = 0
        self._tick()

    def gave_up(self, key: str, exc: CloudError) -> None:
        """Record ``key`` as left behind; re-raise when the site itself looks unusable."""
        if isinstance(exc, Unavailable) and getattr(exc, "sent", True) is False:
            raise exc  # connection refused: the site is down, not this key
        if not isinstance(exc, (Throttled, Unavailable, NotFound)):
            raise exc  # access denied, validation: every key would fail the same way
        with self._lock:
            self.failed[key] = str(exc)
            self._in_a_row += 1
            in_a_row = self._in_a_row
        log.warning("mirror.key_skipped", key=key, error=type(exc).__name__,
                    code=getattr(exc, "code", None))
        if in_a_row >= MAX_CONSECUTIVE_FAILURES:
            raise exc
        self._tick()

    def _tick(self) -> None:
        with self._lock:
            self._done += 1
            count = self._done
        if self.progress:
            self.progress(self.site, count, self.total)


def _run_batch(copier: _Copier, chunk: list[tuple[str, tuple[Version, ...]]],
               prune_chunk: list[tuple[str, list[Version]]], checkpoint: _Checkpoint,
               workers: int, tracker: _Tracker) -> None:
    context = structlog.contextvars.get_contextvars()

    def copy_key(key: str, versions: tuple[Version, ...]) -> None:
        with structlog.contextvars.bound_contextvars(**context):
            try:
                for version in versions:
                    copier.copy(version)
                    checkpoint.add(version)
            except CloudError as exc:
                tracker.gave_up(key, exc)
                return
        tracker.succeeded()

    def prune_key(key: str, history: list[Version]) -> None:
        with structlog.contextvars.bound_contextvars(**context):
            try:
                copier.prune(key, history)
            except CloudError as exc:
                tracker.gave_up(key, exc)
                return
        tracker.succeeded()

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mirror") as pool:
        futures: list[Future[None]] = [pool.submit(copy_key, k, v) for k, v in chunk]
        futures += [pool.submit(prune_key, k, h) for k, h in prune_chunk]
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in finished if f.exception() is not None), None)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            error = failed.exception()
            log.warning("mirror.sync_interrupted", error=str(error),
                        versions=copier.outcome.versions_copied)
            assert error is not None
            raise error


class _Copier:
    """Copies single versions from the primary bucket to one destination bucket."""

    def __init__(self, clients: SiteClients, source_site: str, source_bucket: str,
                 dest_site: str, dest_bucket: str, outcome: SiteSync) -> None:
        self.clients = clients
        self.source_site, self.source_bucket = source_site, source_bucket
        self.dest_site, self.dest_bucket = dest_site, dest_bucket
        self.outcome = outcome
        self._lock = threading.Lock()

    def _count(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self.outcome, name, getattr(self.outcome, name) + amount)

    def copy(self, version: Version) -> None:
        if version.is_delete_marker:
            self._once("delete_object", lambda: self._dest_is_deleted(version.key),
                       lambda c: c.delete_object(Bucket=self.dest_bucket, Key=version.key),
                       version.key)
            self._count(versions_copied=1, delete_markers=1)
            return
        meta = {META_VERSION: version.version_id, META_ETAG: (version.etag or "").strip('"'),
                META_LAST_MODIFIED: version.last_modified.isoformat()}
        parts = self._parts(version)
        if parts:
            self._copy_parts(version, meta, *parts)
            self._count(multipart=1)
        else:
            body = self._read(version)
            self._once("put_object", lambda: self._dest_has(version),
                       lambda c: c.put_object(Bucket=self.dest_bucket, Key=version.key,
                                              Body=body, Metadata=meta), version.key)
        self._count(versions_copied=1, bytes_copied=version.size)

    def _once(self, operation: str, landed: Callable[[], bool], act: Callable[[Any], Any],
              key: str) -> None:
        """Do a version-creating write once: a retry first checks the last attempt's effect."""
        client = self.clients.client(self.dest_site, "s3")
        last: list[BaseException] = []

        def attempt() -> None:
            # A throttled request never ran; anything else may have: check before repeating.
            # The check has its own retries, so a transient failure of the check does not
            # use up the write's attempts.
            if last and not isinstance(last[-1], Throttled) \
                    and self.clients.policy(idempotent=True)(landed):
                return
            try:
                with self.clients.mapped(self.dest_site, "s3", operation):
                    act(client)
            except CloudError as exc:
                last.append(exc)
                raise

        self.clients.policy(idempotent=True)(attempt)

    def _dest_head(self, key: str) -> dict[str, Any] | None:
        client = self.clients.client(self.dest_site, "s3")
        try:
            with self.clients.mapped(self.dest_site, "s3", "head_object"):
                return dict(client.head_object(Bucket=self.dest_bucket, Key=key))
        except NotFound:
            return None

    def _dest_has(self, version: Version) -> bool:
        head = self._dest_head(version.key)
        return head is not None and head.get("Metadata", {}).get(META_VERSION) == \
            version.version_id

    def _dest_is_deleted(self, key: str) -> bool:
        """Whether ``key``'s latest version at the destination is a delete marker.

        Versions of one key are copied in order, so when a retried delete finds the key
        deleted, the earlier attempt is what deleted it.
        """
        client = self.clients.client(self.dest_site, "s3")
        with self.clients.mapped(self.dest_site, "s3", "list_object_versions"):
            page = client.list_object_versions(Bucket=self.dest_bucket, Prefix=key,
                                               MaxKeys=50)
        return any(m["Key"] == key and m.get("IsLatest") for m in page.get("DeleteMarkers", ()))

    def _read(self, version: Version, byte_range: str | None = None) -> bytes:
        extra = {"Range": byte_range} if byte_range else {}

        def read(client: Any) -> bytes:
            data = client.get_object(Bucket=self.source_bucket, Key=version.key,
                                     VersionId=version.version_id, **extra)["Body"].read()
            if not isinstance(data, bytes):
                # Seen once when a site was cut mid-response: no body rather than an error.
                # Treat it as the transient failure it is, so the retry policy handles it.
                raise Unavailable(
                    f"get_object {version.key!r} at {self.source_site} returned no body",
                    site=self.source_site, service="s3", operation="get_object",
                )
            return data

        result: bytes = self.clients.run(self.source_site, "s3", "get_object", read)
        return result

    def _parts(self, version: Version) -> tuple[int, int] | None:
        """``(part count, part size)`` of a multipart-uploaded source, else ``None``.

        Only a multipart source ETag has a ``-N`` suffix; copying it with the same part size
        gives the copy the same ETag. Anything else is copied with one ``PutObject`` (held
        in memory: at most 5 GB, S3's single-upload limit).
        """
        if "-" not in (version.etag or ""):
            return None
        head = self.clients.call(self.source_site, "s3", "head_object",
                                 Bucket=self.source_bucket, Key=version.key,
                                 VersionId=version.version_id, PartNumber=1)
        count = int(head.get("PartsCount") or 0)
        return (count, int(head["ContentLength"])) if count >= 1 else None

    def _copy_parts(self, version: Version, meta: dict[str, str], count: int,
                    part_size: int) -> None:
        key, bucket = version.key, self.dest_bucket
        upload = self.clients.call(self.dest_site, "s3", "create_multipart_upload",
                                   Bucket=bucket, Key=key, Metadata=meta)["UploadId"]
        try:
            parts = []
            for number in range(1, count + 1):
                first = (number - 1) * part_size
                last = min(number * part_size, version.size) - 1
                data = self._read(version, f"bytes={first}-{last}")
                etag = self.clients.call(self.dest_site, "s3", "upload_part", Bucket=bucket,
                                         Key=key, UploadId=upload, PartNumber=number,
                                         Body=data)["ETag"]
                parts.append({"PartNumber": number, "ETag": etag})
            self._once("complete_multipart_upload", lambda: self._dest_has(version),
                       lambda c: c.complete_multipart_upload(
                           Bucket=bucket, Key=key, UploadId=upload,
                           MultipartUpload={"Parts": parts}), key)
        except BaseException:
            try:
                self.clients.client(self.dest_site, "s3").abort_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=upload)
            except Exception:  # best effort: the site may be the reason we are here
                log.debug("mirror.abort_failed", key=key, upload_id=upload)
            raise

    def prune(self, key: str, history: list[Version]) -> None:
        for version in reversed(history):
            with contextlib.suppress(NotFound):
                self.clients.call(self.dest_site, "s3", "delete_object",
                                  Bucket=self.dest_bucket, Key=key,
                                  VersionId=version.version_id)
        self._count(pruned=1)


