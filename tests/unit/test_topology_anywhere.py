"""Sites without region or location, cut rates without length, elements that never fail."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from georesil import InvalidTopology
from georesil.analysis.analyze import analyze
from georesil.hazards.earthquakes import OUT_OF_REACH_KM, Exposure
from georesil.hazards.elements import link_reliability, never_failing
from georesil.model import topology_from_dict
from georesil.model.schema import UNASSIGNED_REGION


def test_site_without_region_is_unassigned(base_doc: dict[str, Any]) -> None:
    """A site that names no region belongs to the 'unassigned' group."""
    doc = copy.deepcopy(base_doc)
    del doc["sites"][1]["region"]
    topo = topology_from_dict(doc)
    assert topo.sites["mid"].region == UNASSIGNED_REGION
    assert UNASSIGNED_REGION in topo.regions


def test_analysis_works_without_locations(base_doc: dict[str, Any]) -> None:
    """analyze gives the same SPOFs whether or not sites have a location."""
    bare = copy.deepcopy(base_doc)
    for site in bare["sites"]:
        site.pop("location")
    for link in bare["links"]:
        link.setdefault("length_km", 100)
    with_loc = copy.deepcopy(base_doc)
    for link in with_loc["links"]:
        link.setdefault("length_km", 100)
    a, b = analyze(topology_from_dict(bare)), analyze(topology_from_dict(with_loc))
    assert a.to_json()["spofs"] == b.to_json()["spofs"]


def test_unlocated_sites_are_out_of_quake_reach(base_doc: dict[str, Any]) -> None:
    """A site without a location is at OUT_OF_REACH_KM from every epicentre."""
    doc = copy.deepcopy(base_doc)
    doc["sites"][1].pop("location")
    exposure = Exposure.of(topology_from_dict(doc))
    dist = exposure.epicentral_km([24.0, 23.0], [120.5, 120.3])
    assert dist.shape == (2, 3 + 4)
    assert (dist[:, 1] == OUT_OF_REACH_KM).all()
    assert (dist[:, 0] < 1000).all() and (dist[:, 2] < 1000).all()


def test_cut_rate_without_length_uses_great_circle(base_doc: dict[str, Any]) -> None:
    """A cut rate with both ends located needs no length_km: λ = rate × great-circle km."""
    doc = copy.deepcopy(base_doc)
    doc["links"][2]["cut_rate_per_1000km_yr"] = 2.0  # s1: mid — south, no length_km
    topo = topology_from_dict(doc)
    rel = link_reliability(topo, topo.links["s1"])
    # mid (24.15, 120.67) — south (23.10, 120.28): about 123 km
    assert rel.rate_per_yr == pytest.approx(2.0 * 123.0 / 1000, rel=0.02)


def test_cut_rate_without_length_or_location_is_refused(base_doc: dict[str, Any]) -> None:
    """Without length_km and without a location at an end, the cut rate is refused."""
    doc = copy.deepcopy(base_doc)
    doc["links"][2]["cut_rate_per_1000km_yr"] = 2.0
    doc["sites"][2].pop("location")
    with pytest.raises(InvalidTopology, match="give length_km, or a location for site 'south'"):
        topology_from_dict(doc)


def test_never_failing_lists_elements_without_failure_data() -> None:
    """Elements with no data, no zone outage and no quake exposure are listed; others not."""
    doc = {"version": 1, "name": "t",
           "zones": [{"id": "grid", "kind": "power", "annual_rate": 0.1, "mean_duration_h": 4}],
           "sites": [{"id": "a"}, {"id": "b", "unavailability": 1e-4},
                     {"id": "c", "zones": ["grid"]}, {"id": "d", "location": {"lat": 1, "lon": 2}}],
           "links": [{"id": "ab", "a": "a", "b": "b"},
                     {"id": "cd", "a": "c", "b": "d", "length_km": 10},
                     {"id": "bd", "a": "b", "b": "d", "length_km": 0}]}
    assert never_failing(topology_from_dict(doc)) == ("site:a", "site:d", "link:ab", "link:bd")
    doc["seismic"] = {"sources": [{"id": "q", "location": {"lat": 1, "lon": 2},
                                   "annual_rate": 0.1}]}
    assert never_failing(topology_from_dict(doc)) == ("site:a", "link:ab")
