"""mirror sync keeps going when single keys run out of retries, and converges under faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from structlog.testing import capture_logs

from georesil.cloud import SiteClients
from georesil.errors import AccessDenied, Throttled
from georesil.lab import FaultSettings, LabState, lab_clients, set_faults
from georesil.mirror import read_checkpoint, sync
from georesil.mirror.sync import MAX_CONSECUTIVE_FAILURES
from georesil.model import Topology
from tests.mirror.conftest import fast_policy, history, put_many
from tests.mirror.test_mirror_sync import small_objects


class _Refusing:
    """A boto3 client whose writes of some keys always fail with ``code``."""

    def __init__(self, client: Any, keys: set[str], code: str, status: int,
                 written: list[str]) -> None:
        self._client, self._keys, self._code, self._status = client, keys, code, status
        self._written = written

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._client, name)
        if name not in ("put_object", "delete_object"):
            return real

        def call(**params: Any) -> Any:
            self._written.append(params["Key"])
            if params.get("Key") in self._keys:
                raise ClientError({"Error": {"Code": self._code, "Message": "injected"},
                                   "ResponseMetadata": {"HTTPStatusCode": self._status}},
                                  name)
            return real(**params)
        return call


class RefusingClients(SiteClients):
    """Lab clients whose destination refuses writes of ``keys`` (a seam, not a patch)."""

    def __init__(self, base: SiteClients, site: str, keys: set[str], code: str = "SlowDown",
                 status: int = 503) -> None:
        super().__init__(base.topology, base.overrides, credentials=base.credentials,
                         policy=base.policy)
        self._refuse = (site, keys, code, status)
        self.written: list[str] = []  # keys whose write was attempted, in order

    def client(self, site: str, service: str) -> Any:
        real = super().client(site, service)
        where, keys, code, status = self._refuse
        return _Refusing(real, keys, code, status, self.written) if site == where else real


def test_a_key_out_of_retries_is_skipped_and_the_next_run_retries_it(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Keys that keep failing are recorded and skipped; the rest is copied; the next run
    copies them first."""
    items = small_objects(40)
    put_many(clients, "north", buckets["north"], items)
    stuck = {items[3][0], items[27][0]}
    flaky = RefusingClients(clients, "south", stuck)

    with capture_logs() as logs:
        first = sync(topology, "store", flaky, buckets, to="south", workdir=tmp_path,
                     batch_size=10)

    assert first.failed == {"south": sorted(stuck)}
    assert not first.sites["south"].complete
    copied = history(clients, "south", buckets["south"])
    assert set(copied) == {k for k, _ in items} - stuck
    assert {e["key"] for e in logs if e["event"] == "mirror.key_skipped"} == stuck
    saved = read_checkpoint(tmp_path, "store", "south")
    assert saved is not None and set(saved.failed) == stuck and saved.last_success_at is None

    with capture_logs() as logs:
        second = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path)

    assert second.failed == {} and second.sites["south"].complete
    assert second.sites["south"].versions_copied == len(stuck)
    copies = [e for e in logs if e["event"] == "mirror.batch_copied"]
    assert copies and copies[0]["versions"] == len(stuck)
    assert history(clients, "south", buckets["south"]) == history(clients, "north",
                                                                  buckets["north"])
    saved = read_checkpoint(tmp_path, "store", "south")
    assert saved is not None and saved.failed == {} and saved.last_success_at is not None


def test_keys_left_behind_go_first_in_the_next_run(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """The next run copies the keys the last run left before any other key."""
    items = small_objects(30)
    put_many(clients, "north", buckets["north"], items[:20])
    stuck = {items[15][0]}
    sync(topology, "store", RefusingClients(clients, "south", stuck), buckets, to="south",
         workdir=tmp_path)
    put_many(clients, "north", buckets["north"], items[20:])
    spy = RefusingClients(clients, "south", set())
    sync(topology, "store", spy, buckets, to="south", workdir=tmp_path, workers=1)
    assert spy.written[0] == items[15][0]
    assert sorted(spy.written) == sorted([items[15][0]] + [k for k, _ in items[20:]])
    assert history(clients, "south", buckets["south"]) == history(clients, "north",
                                                                  buckets["north"])


def test_a_site_that_fails_every_key_stops_the_sync(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """When every key fails, the sync stops after a bounded number instead of trying all."""
    items = small_objects(120)
    put_many(clients, "north", buckets["north"], items)
    every = RefusingClients(clients, "south", {k for k, _ in items})
    with capture_logs() as logs, pytest.raises(Throttled):
        sync(topology, "store", every, buckets, to="south", workdir=tmp_path, workers=2)
    skipped = [e for e in logs if e["event"] == "mirror.key_skipped"]
    assert MAX_CONSECUTIVE_FAILURES <= len(skipped) < len(items)
    saved = read_checkpoint(tmp_path, "store", "south")
    assert saved is not None and len(saved.failed) == len(skipped)


def test_access_denied_on_a_write_still_stops_at_once(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """A denied write is not skipped key by key: the first one stops the sync."""
    items = small_objects(30)
    put_many(clients, "north", buckets["north"], items)
    denied = RefusingClients(clients, "south", {items[0][0]}, "AccessDenied", 403)
    with pytest.raises(AccessDenied):
        sync(topology, "store", denied, buckets, to="south", workdir=tmp_path, workers=1)


@pytest.mark.slow
def test_at_30_percent_faults_one_sync_converges_99_percent_and_two_fully(
        mirror_lab: LabState, topology: Topology, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """30 % of requests at both sites throttled or failed: the first sync mirrors >= 99 % of
    the keys, the second all of them (the default six attempts per call)."""
    clients = lab_clients(mirror_lab, policy=fast_policy(attempts=6))
    items = small_objects(300)
    put_many(clients, "north", buckets["north"], items)
    source = history(clients, "north", buckets["north"])
    for seed, site in enumerate(("north", "south")):
        set_faults(site, FaultSettings(throttle=0.15, error=0.15, seed=seed),
                   mirror_lab.workdir)
    try:
        # one worker: each server sees its requests in a fixed order, so the seeded fault
        # draws fall on the same requests on every run of this test
        first = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path,
                     workers=1)
        set_faults("north", FaultSettings(), mirror_lab.workdir)
        set_faults("south", FaultSettings(), mirror_lab.workdir)
        after_first = history(clients, "south", buckets["south"])
        for seed, site in enumerate(("north", "south")):
            set_faults(site, FaultSettings(throttle=0.15, error=0.15, seed=seed + 10),
                       mirror_lab.workdir)
        second = sync(topology, "store", clients, buckets, to="south", workdir=tmp_path,
                      workers=1)
    finally:
        for site in ("north", "south"):
            set_faults(site, FaultSettings(), mirror_lab.workdir)
    converged = sum(1 for k, h in source.items() if after_first.get(k) == h)
    assert converged >= 0.99 * len(source)
    assert set(first.failed.get("south", [])) == {k for k in source
                                                  if after_first.get(k) != source[k]}
    assert second.failed == {}
    assert history(clients, "south", buckets["south"]) == source
