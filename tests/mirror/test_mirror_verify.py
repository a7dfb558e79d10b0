"""mirror verify: the matching rule, the counts, the RPO exposure, the JSON and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from georesil.cloud import SiteClients
from georesil.mirror import Version, diff_key, sync, verify
from georesil.mirror.verify import _merge
from georesil.model import Topology
from tests.mirror.conftest import put_many

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def chain(*contents: str) -> list[Version]:
    """A history: one version per item, '-' for a delete marker, one second apart."""
    return [Version("k", f"v{i}-{c}", T0 + timedelta(seconds=i), c == "-",
                    None if c == "-" else f'"{c}"', 0 if c == "-" else len(c))
            for i, c in enumerate(contents)]


def contents(versions: tuple[Version, ...] | list[Version]) -> list[str]:
    return ["-" if v.is_delete_marker else (v.etag or "").strip('"') for v in versions]


def test_an_empty_secondary_needs_the_whole_history() -> None:
    """Nothing at the secondary: every primary version is pending, in order."""
    assert contents(diff_key("k", chain("a", "b", "-"), []).pending) == ["a", "b", "-"]


def test_a_prefix_needs_the_rest() -> None:
    """A secondary holding the first versions needs the later ones, repeats included."""
    assert contents(diff_key("k", chain("a", "b", "a"), chain("a")).pending) == ["b", "a"]


def test_identical_histories_are_in_sync() -> None:
    """Same signatures in the same order: nothing pending, nothing lost."""
    d = diff_key("k", chain("a", "-", "b"), chain("a", "-", "b"))
    assert d.in_sync and d.lost == 0


def test_a_diverged_secondary_is_anchored_on_its_latest_version() -> None:
    """A gap in the secondary's history is lost history; later versions are pending."""
    d = diff_key("k", chain("a", "b", "c", "d"), chain("b"))
    assert contents(d.pending) == ["c", "d"] and d.lost == 1


def test_a_foreign_write_at_the_secondary_makes_the_latest_pending() -> None:
    """When the secondary's latest is unknown to the primary, the primary's latest is pending."""
    assert contents(diff_key("k", chain("a", "b"), chain("a", "x")).pending) == ["b"]


histories = st.lists(st.sampled_from(["a", "b", "c", "-"]), min_size=1, max_size=8)


@given(primary=histories, secondary=st.lists(st.sampled_from(["a", "b", "x", "-"]),
                                             max_size=8))
def test_appending_the_pending_versions_converges(primary: list[str],
                                                  secondary: list[str]) -> None:
    """After a sync appends the pending versions, nothing is pending and the latest agree."""
    p = chain(*primary)
    s = chain(*secondary)
    repaired = s + list(diff_key("k", p, s).pending)
    assert diff_key("k", p, repaired).in_sync
    assert repaired[-1].signature == p[-1].signature


@given(st.lists(st.sampled_from(["a", "b", "-"]), min_size=1, max_size=8), st.data())
def test_any_prefix_needs_exactly_the_rest(primary: list[str], data: Any) -> None:
    """For every prefix of the primary's history, the pending versions are the remainder."""
    k = data.draw(st.integers(0, len(primary)))
    p = chain(*primary)
    assert list(diff_key("k", p, p[:k]).pending) == p[k:]


def test_merge_orders_same_second_versions_by_the_latest_flag() -> None:
    """A delete marker and a version in the same second: the one marked latest is newer."""
    obj = Version("k", "o", T0, etag='"a"', size=1, is_latest=True)
    marker = Version("k", "m", T0, is_delete_marker=True)
    assert [v.version_id for v in _merge([obj], [marker])] == ["m", "o"]
    obj_old = Version("k", "o", T0, etag='"a"', size=1)
    marker_latest = Version("k", "m", T0, is_delete_marker=True, is_latest=True)
    assert [v.version_id for v in _merge([obj_old], [marker_latest])] == ["o", "m"]


# -- against the lab -------------------------------------------------------------------------
def test_verify_counts_missing_differing_deletes_and_extra(
        topology: Topology, clients: SiteClients, buckets: dict[str, str]) -> None:
    """verify reports missing, differing, pending deletes and extra keys with their bytes."""
    n, s = buckets["north"], buckets["south"]
    put_many(clients, "north", n, [("same", b"1"), ("missing", b"12345"), ("differs", b"new!"),
                                   ("deleted", b"x")])
    put_many(clients, "south", s, [("same", b"1"), ("differs", b"old"), ("deleted", b"x"),
                                   ("stray", b"abc")])
    clients.call("north", "s3", "delete_object", Bucket=n, Key="deleted")

    r = verify(topology, "store", clients, buckets, to="south").secondaries["south"]

    assert (r.missing, r.missing_bytes, r.differing, r.differing_bytes) == (1, 5, 1, 4)
    assert (r.deletes_pending, r.extra, r.extra_bytes) == (1, 1, 3)


def test_oldest_unreplicated_age_is_the_rpo_exposure(
        topology: Topology, clients: SiteClients, buckets: dict[str, str]) -> None:
    """The age of the oldest pending write is measured from its primary timestamp."""
    put_many(clients, "north", buckets["north"], [("k", b"v")])
    written = clients.call("north", "s3", "head_object", Bucket=buckets["north"],
                           Key="k")["LastModified"]
    report = verify(topology, "store", clients, buckets, to="south",
                    now=written.timestamp() + 42)
    assert report.secondaries["south"].oldest_unreplicated_age_s == pytest.approx(42)
    assert report.lagging == ["south"]  # rpo_s is 0 in the test topology


def test_a_synced_secondary_has_no_exposure(topology: Topology, clients: SiteClients,
                                            buckets: dict[str, str], tmp_path: Any) -> None:
    """After a sync, verify finds every secondary in sync with zero exposure."""
    put_many(clients, "north", buckets["north"], [("a", b"1"), ("b", b"2")])
    sync(topology, "store", clients, buckets, workdir=tmp_path)
    report = verify(topology, "store", clients, buckets)
    assert report.lagging == []
    assert all(r.in_sync and r.oldest_unreplicated_age_s == 0
               for r in report.secondaries.values())


def test_json_has_the_documented_keys(topology: Topology, clients: SiteClients,
                                      buckets: dict[str, str]) -> None:
    """to_json: service, primary, and per secondary missing, differing, missing_bytes, age."""
    put_many(clients, "north", buckets["north"], [("a", b"1")])
    data = verify(topology, "store", clients, buckets).to_json()
    assert data["service"] == "store" and data["primary"] == "north"
    assert set(data["secondaries"]) == {"south", "east"}
    assert {"missing", "differing", "missing_bytes", "oldest_unreplicated_age_s"} <= set(
        data["secondaries"]["south"])
    assert data["secondaries"]["south"]["missing"] == 1
