"""The Topology model: lookups, failure references, dependency order, immutability."""

from __future__ import annotations

from typing import Any

import pytest

from georesil import FailureSet, topology_from_dict
from georesil.errors import InvalidReference, InvalidTopology


def test_parallel_links_are_kept_apart(base_doc: dict[str, Any]) -> None:
    """Two links between the same sites are two edges of the multigraph."""
    topo = topology_from_dict(base_doc)
    assert sorted(topo.graph["north"]["mid"]) == ["w1", "w2"]


def test_srlg_expands_to_every_link_carrying_it(base_doc: dict[str, Any]) -> None:
    """srlg:X fails every link that lists X."""
    topo = topology_from_dict(base_doc)
    assert topo.resolve("srlg:west") == FailureSet(links=frozenset({"w1", "w2"}))


def test_zone_expands_to_sites_and_links(base_doc: dict[str, Any]) -> None:
    """zone:X fails its member sites and links."""
    topo = topology_from_dict(base_doc)
    assert topo.resolve("zone:quake-s") == FailureSet(
        sites=frozenset({"south"}), links=frozenset({"w2"})
    )


def test_expand_unions_and_sorts_refs(base_doc: dict[str, Any]) -> None:
    """Several references expand to the sorted union of base references."""
    topo = topology_from_dict(base_doc)
    failure = topo.expand(["zone:grid-n", "link:s1", "service:dns", "srlg:west"])
    assert failure.refs == ["link:s1", "link:w1", "link:w2", "service:dns", "site:north"]


@pytest.mark.parametrize(
    ("ref", "pattern"),
    [
        ("site:nort", r"unknown site 'nort'.*did you mean 'north'"),
        ("srlg:wes", r"unknown SRLG 'wes'.*did you mean 'west'"),
        ("north", r"malformed failure reference 'north'"),
        ("rack:1", r"malformed failure reference 'rack:1'"),
    ],
)
def test_bad_reference_is_explained(base_doc: dict[str, Any], ref: str, pattern: str) -> None:
    """Unknown or malformed references raise InvalidReference with a hint."""
    topo = topology_from_dict(base_doc)
    with pytest.raises(InvalidReference, match=pattern):
        topo.resolve(ref)


def test_service_order_puts_dependencies_first(base_doc: dict[str, Any]) -> None:
    """A service comes after everything it depends on, even when listed before it."""
    base_doc["services"].reverse()
    topo = topology_from_dict(base_doc)
    assert topo.service_order == ("dns", "store")


def test_clients_default_to_replica_sites(base_doc: dict[str, Any]) -> None:
    """Without declared clients, a service's clients are its replica sites."""
    topo = topology_from_dict(base_doc)
    assert topo.clients("dns") == ("north", "south")
    assert topo.clients("store") == ("north", "mid")


def test_primary_and_secondaries(base_doc: dict[str, Any]) -> None:
    """The primary and the secondaries are found by role."""
    topo = topology_from_dict(base_doc)
    assert topo.primary("store").site == "north"
    assert [r.site for r in topo.secondaries("store")] == ["south"]


def test_model_is_immutable(base_doc: dict[str, Any]) -> None:
    """Neither the parsed records nor the graph can be changed."""
    topo = topology_from_dict(base_doc)
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
        topo.site("north").region = "south"  # type: ignore[misc]
    with pytest.raises(Exception):  # noqa: B017 - networkx raises NetworkXError
        topo.graph.add_node("x")
    with pytest.raises(TypeError):
        topo.sites["x"] = topo.site("north")  # type: ignore[index]


def test_to_dict_round_trips(base_doc: dict[str, Any]) -> None:
    """The normalised model loads back to the same normalised model."""
    topo = topology_from_dict(base_doc)
    assert topology_from_dict(topo.to_dict()).to_dict() == topo.to_dict()


def test_python_input_reports_fields_without_positions(base_doc: dict[str, Any]) -> None:
    """A document built in Python gets field paths even though it has no lines."""
    base_doc["links"][0]["b"] = "nowhere"
    with pytest.raises(InvalidTopology) as info:
        topology_from_dict(base_doc)
    (problem,) = info.value.problems
    assert (problem.line, problem.field) == (None, "links[0].b")
    assert "unknown site 'nowhere'" in problem.message


def test_summary_counts_everything(base_doc: dict[str, Any]) -> None:
    """The one-line summary counts sites, links, services, zones, SRLGs and scenarios."""
    topo = topology_from_dict(base_doc)
    assert topo.summary() == (
        "two-sides: 3 sites, 4 links, 2 services, 2 zones, 1 SRLG, 1 scenario"
    )


def test_with_primary_reverses_replication(base_doc: dict[str, Any]) -> None:
    """Moving the primary makes the old primary a secondary with the same mode and lag."""
    topo = topology_from_dict(base_doc)
    moved = topo.with_primary("store", "south")
    assert moved.primary("store").site == "south"
    (old,) = moved.secondaries("store")
    assert (old.site, old.replication.value, old.lag_s) == ("north", "async", 60)
    assert topo.primary("store").site == "north"  # the original is untouched
    assert topo.with_primary("store", "north") is topo


def test_with_primary_needs_a_replica_there(base_doc: dict[str, Any]) -> None:
    """A site without a replica of the service cannot become its primary."""
    topo = topology_from_dict(base_doc)
    with pytest.raises(InvalidReference, match="no replica at 'mid'"):
        topo.with_primary("store", "mid")
