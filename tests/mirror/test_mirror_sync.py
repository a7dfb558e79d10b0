"""mirror sync against the lab's per-site moto servers."""

from __future__ import annotations

import io
import json
import random
import time
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from georesil.cloud import Credentials, SiteClients
from georesil.errors import AccessDenied, InvalidInput, Unavailable
from georesil.lab import FaultSettings, LabState, kill_site, lab_clients, revive_site, set_faults
from georesil.logging import configure_logging
from georesil.mirror import checkpoint_path, sync, verify
from georesil.model import Topology
from tests.mirror.conftest import body, fast_policy, history, put_many, put_multipart

MiB = 1024 * 1024


def small_objects(n: int, prefixes: int = 10) -> list[tuple[str, bytes]]:
    rng = random.Random(n)
    return [(f"p{i % prefixes:02d}/obj-{i:05d}", rng.randbytes(rng.randint(0, 2048)))
            for i in range(n)]


@pytest.mark.slow
def test_5000_objects_are_mirrored_byte_for_byte(topology: Topology, clients: SiteClients,
                                                 buckets: dict[str, str],
                                                 tmp_path: Path) -> None:
    """5,000 objects across prefixes, some large and multipart, arrive intact."""
    items = small_objects(4997)
    put_many(clients, "north", buckets["north"], items)
    rng = random.Random(1)
    large = {f"large/blob-{i}": rng.randbytes(11 * MiB + i) for i in range(3)}
    for key, data in large.items():
        put_multipart(clients, "north", buckets["north"], key, data)

    started = time.perf_counter()
    result = sync(topology, "store", clients, buckets, to="south", workers=8, workdir=tmp_path)
    elapsed = time.perf_counter() - started
    print(f"\nmirrored {result.versions_copied} objects in {elapsed:.1f}s "
          f"({result.versions_copied / elapsed:.0f}/s)")

    assert result.versions_copied == 5000 and result.sites["south"].multipart == 3
    source, copy = (history(clients, s, buckets[s]) for s in ("north", "south"))
    assert len(source) == 5000
    assert copy == source  # same keys, one version each, same ETag (MD5) and size
    for key, data in large.items():
        assert body(clients, "south", buckets["south"], key) == data
    for key, data in random.Random(2).sample(items, 100):
        assert body(clients, "south", buckets["south"], key) == data


def test_small_multipart_objects_keep_their_etag(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """A small object uploaded in one part (ETag '...-1') is copied so its ETag matches."""
    put_multipart(clients, "north", buckets["north"], "tiny", b"tiny object" * 10)
    result = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    source, copy = (history(clients, s, buckets[s]) for s in ("north", "south"))
    assert source["tiny"][0][1].endswith('-1"') and copy == source
    assert result.sites["south"].multipart == 1


def test_copies_carry_their_source_version(topology: Topology, clients: SiteClients,
                                           buckets: dict[str, str], tmp_path: Path) -> None:
    """Each copy records the source version, ETag and last-modified in its metadata."""
    put_many(clients, "north", buckets["north"], [("k", b"v")])
    sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    source = clients.call("north", "s3", "head_object", Bucket=buckets["north"], Key="k")
    meta = clients.call("south", "s3", "head_object", Bucket=buckets["south"],
                        Key="k")["Metadata"]
    assert meta["georesil-source-version"] == source["VersionId"]
    assert meta["georesil-source-etag"] == source["ETag"].strip('"')
    assert meta["georesil-source-last-modified"].startswith(
        source["LastModified"].strftime("%Y-%m-%dT%H:%M:%S"))


def test_versions_and_delete_markers_are_mirrored_in_order(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Every version and delete marker of a key is replayed at the secondary in order."""
    b = buckets["north"]
    for content in (b"one", b"two", b"three"):
        clients.call("north", "s3", "put_object", Bucket=b, Key="doc", Body=content)
    clients.call("north", "s3", "put_object", Bucket=b, Key="gone", Body=b"x")
    clients.call("north", "s3", "delete_object", Bucket=b, Key="gone")

    result = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)

    assert result.sites["south"].delete_markers == 1
    assert history(clients, "south", buckets["south"]) == history(clients, "north", b)
    assert body(clients, "south", buckets["south"], "doc") == b"three"


def test_a_second_sync_copies_nothing(topology: Topology, clients: SiteClients,
                                      buckets: dict[str, str], tmp_path: Path) -> None:
    """Sync is idempotent: run again, it finds nothing to copy."""
    put_many(clients, "north", buckets["north"], small_objects(50))
    sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    again = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    assert again.versions_copied == 0 and again.sites["south"].keys_planned == 0


def test_sync_without_to_fills_every_secondary(topology: Topology, clients: SiteClients,
                                               buckets: dict[str, str], tmp_path: Path) -> None:
    """Without --to every secondary is brought up to date."""
    put_many(clients, "north", buckets["north"], small_objects(20))
    result = sync(topology, "store", clients, buckets, workdir=tmp_path)
    assert set(result.sites) == {"south", "east"}
    report = verify(topology, "store", clients, buckets)
    assert all(r.in_sync for r in report.secondaries.values())


def test_to_must_name_a_secondary(topology: Topology, clients: SiteClients,
                                  buckets: dict[str, str]) -> None:
    """--to naming the primary is bad input listing the secondaries."""
    with pytest.raises(InvalidInput, match="--to 'north' is not a secondary.*south, east"):
        sync(topology, "store", clients, buckets, to="north")


def test_prune_removes_keys_the_primary_no_longer_has(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Keys only at the secondary are kept by default and removed with prune."""
    put_many(clients, "north", buckets["north"], [("keep", b"1")])
    put_many(clients, "south", buckets["south"], [("stray", b"2")])
    sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    assert "stray" in history(clients, "south", buckets["south"])
    result = sync(topology, "store", clients, buckets, to="south", prune=True, workdir=tmp_path)
    assert result.sites["south"].pruned == 1
    assert set(history(clients, "south", buckets["south"])) == {"keep"}


def test_checkpoint_records_completed_keys_and_etags(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """The checkpoint lists every copied key with its source version and ETag."""
    put_many(clients, "north", buckets["north"], small_objects(30))
    sync(topology, "store", clients, buckets, to="south", workdir=tmp_path, batch_size=10)
    saved = json.loads(checkpoint_path(tmp_path, "store", "south").read_text())
    source = history(clients, "north", buckets["north"])
    assert set(saved["done"]) == set(source)
    assert all(list(v.values())[0] == source[k][0][1] for k, v in saved["done"].items())


def test_killed_destination_then_resume_loses_and_duplicates_nothing(
        mirror_lab: LabState, topology: Topology, clients: SiteClients,
        buckets: dict[str, str], tmp_path: Path) -> None:
    """Kill the destination mid-sync, revive, resume: complete, nothing lost or duplicated."""
    items = small_objects(600)
    put_many(clients, "north", buckets["north"], items)

    def kill_after_200_keys(site: str, done: int, total: int) -> None:
        if done == 200:  # from a worker thread, while other copies are in flight
            kill_site(site, mirror_lab.workdir)

    try:
        with pytest.raises(Unavailable) as info:
            sync(topology, "store", clients, buckets, to="south", workdir=tmp_path,
                 batch_size=100, progress=kill_after_200_keys)
    finally:
        revive_site("south", mirror_lab.workdir)
    assert info.value.site == "south"
    first = json.loads(checkpoint_path(tmp_path, "store", "south").read_text())["done"]
    assert 200 <= len(first) < 600

    resumed = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)

    assert resumed.versions_copied <= 400
    copy = history(clients, "south", buckets["south"])
    assert copy == history(clients, "north", buckets["north"])  # one version per key
    assert len(copy) == 600


def test_throttling_on_30_percent_of_requests_completes_with_retries_logged(
        mirror_lab: LabState, topology: Topology, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """With 30 % of requests throttled at both sites the sync completes, retries logged."""
    clients = lab_clients(mirror_lab, policy=fast_policy(attempts=15))
    put_many(clients, "north", buckets["north"], small_objects(300))
    for site in ("north", "south"):
        set_faults(site, FaultSettings(throttle=0.3, seed=11), mirror_lab.workdir)
    try:
        with capture_logs() as logs:
            result = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    finally:
        for site in ("north", "south"):
            set_faults(site, FaultSettings(), mirror_lab.workdir)
    retries = [e for e in logs if e["event"] == "retry.scheduled"]
    assert result.sites["south"].complete and len(retries) > 50
    assert {"attempt", "sleep_s", "operation", "site"} <= set(retries[0])
    assert history(clients, "south", buckets["south"]) == history(clients, "north",
                                                                  buckets["north"])


def test_server_errors_are_retried_without_duplicates(
        mirror_lab: LabState, topology: Topology, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """10 % of requests failing with 5xx at the destination still yields an exact copy."""
    clients = lab_clients(mirror_lab, policy=fast_policy(attempts=12))
    put_many(clients, "north", buckets["north"], small_objects(150))
    set_faults("south", FaultSettings(error=0.1, seed=5), mirror_lab.workdir)
    try:
        sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    finally:
        set_faults("south", FaultSettings(), mirror_lab.workdir)
    assert history(clients, "south", buckets["south"]) == history(clients, "north",
                                                                  buckets["north"])


def test_access_denied_fails_fast_with_a_clear_message(
        mirror_lab: LabState, topology: Topology, clients: SiteClients,
        buckets: dict[str, str], tmp_path: Path) -> None:
    """A denied destination stops the sync at once, naming the site and the operation."""
    put_many(clients, "north", buckets["north"], small_objects(5))
    set_faults("south", FaultSettings(deny=1.0), mirror_lab.workdir)
    try:
        with capture_logs() as logs, pytest.raises(AccessDenied) as info:
            sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
    finally:
        set_faults("south", FaultSettings(), mirror_lab.workdir)
    assert not [e for e in logs if e["event"] == "retry.scheduled"]
    assert "site 'south'" in str(info.value) and "access denied" in str(info.value)
    assert "list_object_versions" in str(info.value)


def test_a_secret_key_never_reaches_the_logs(
        mirror_lab: LabState, topology: Topology, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Through retries, failures and summaries, the secret access key is never logged."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"
    clients = SiteClients(topology, mirror_lab.endpoints(),
                          credentials=Credentials("AKIAGEORESILTEST", secret),
                          policy=fast_policy(attempts=15))
    put_many(clients, "north", buckets["north"], small_objects(40))
    stream = io.StringIO()
    configure_logging("json", "debug", stream)
    set_faults("south", FaultSettings(throttle=0.3, seed=3), mirror_lab.workdir)
    try:
        sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)
        set_faults("south", FaultSettings(deny=1.0), mirror_lab.workdir)
        with pytest.raises(AccessDenied) as info:
            verify(topology, "store", clients, buckets, to="south")
        structlog.get_logger("test").error("sync.failed", error=str(info.value),
                                           credentials=clients.credentials)
    finally:
        set_faults("south", FaultSettings(), mirror_lab.workdir)
        structlog.reset_defaults()
    output = stream.getvalue()
    assert "retry.scheduled" in output and "sync.failed" in output
    assert secret not in output


