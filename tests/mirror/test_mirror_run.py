"""Scheduled mirroring (``mirror run``): rounds, heartbeat, one runner per service."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from georesil.cloud import SiteClients
from georesil.errors import InvalidInput
from georesil.mirror import Round, parse_interval, read_checkpoint, run_every
from georesil.mirror.schedule import runner_lock
from georesil.model import Topology
from tests.mirror.conftest import history, put_many
from tests.mirror.test_mirror_sync import small_objects


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60.0), ("5m", 300.0), ("1h", 3600.0),
                                               ("2.5", 2.5), (" 0.2s ", 0.2)])
def test_intervals_parse_to_seconds(text: str, seconds: float) -> None:
    """--every takes seconds, minutes or hours."""
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0s", "-1s", "abc", "5d", "", "1e3"])
def test_bad_intervals_are_invalid_input(text: str) -> None:
    """A zero, negative or unknown duration is bad input naming the option."""
    with pytest.raises(InvalidInput, match="--every"):
        parse_interval(text)


def test_rounds_mirror_new_writes_and_record_a_heartbeat(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Each round copies what was written since the last; the checkpoint says when."""
    items = small_objects(30)
    put_many(clients, "north", buckets["north"], items[:10])
    seen: list[Round] = []

    def write_more(r: Round) -> None:
        seen.append(r)
        if r.number == 1:
            put_many(clients, "north", buckets["north"], items[10:])

    before = time.time()
    count = run_every(topology, "store", clients, buckets, every_s=0.01,
                      stop=threading.Event(), to="south", workdir=tmp_path, rounds=2,
                      on_round=write_more)

    assert count == 2 and [r.number for r in seen] == [1, 2]
    assert [r.result.versions_copied for r in seen if r.result] == [10, 20]
    assert history(clients, "south", buckets["south"]) == history(clients, "north",
                                                                  buckets["north"])
    saved = read_checkpoint(tmp_path, "store", "south")
    assert saved is not None and saved.heartbeat_at is not None
    assert saved.last_success_at is not None and saved.last_success_at >= before
    assert saved.heartbeat_at >= saved.last_success_at


def test_a_failed_round_is_reported_and_the_runner_goes_on(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """A round that cannot reach a bucket is reported; the heartbeat is still written."""
    broken = {**buckets, "south": "no-such-bucket-here"}
    seen: list[Round] = []
    run_every(topology, "store", clients, broken, every_s=0.01, stop=threading.Event(),
              to="south", workdir=tmp_path, rounds=2, on_round=seen.append)
    assert [r.error is not None for r in seen] == [True, True]
    saved = read_checkpoint(tmp_path, "store", "south")
    assert saved is not None and saved.heartbeat_at is not None
    assert saved.last_success_at is None


def test_stop_ends_the_runner_between_rounds(
        topology: Topology, clients: SiteClients, buckets: dict[str, str],
        tmp_path: Path) -> None:
    """Setting stop while the runner waits ends it without another round."""
    stop = threading.Event()
    seen: list[Round] = []

    def stop_after_first(r: Round) -> None:
        seen.append(r)
        stop.set()

    count = run_every(topology, "store", clients, buckets, every_s=3600, stop=stop,
                      to="south", workdir=tmp_path, on_round=stop_after_first)
    assert count == 1 and len(seen) == 1


def test_only_one_runner_per_service(topology: Topology, clients: SiteClients,
                                     buckets: dict[str, str], tmp_path: Path) -> None:
    """A second runner for the same service and directory is refused, naming the first."""
    with runner_lock(tmp_path, "store"), pytest.raises(InvalidInput, match=r"\(pid \d+\)"):
        run_every(topology, "store", clients, buckets, every_s=1, stop=threading.Event(),
                  workdir=tmp_path, rounds=1)
