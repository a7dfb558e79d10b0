"""Importing inventories: GML, GraphML and CSV become valid, commented topologies."""

from __future__ import annotations

import math
import random
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from georesil.errors import InvalidInput, InvalidInventory
from georesil.inventory import (
    inventory_to_topology,
    parse_region_rule,
    read_inventory,
    render_yaml,
    slug,
)
from georesil.inventory.readers import parse_gml
from georesil.inventory.regions import kmeans
from georesil.model import parse_topology

FIXTURES = Path(__file__).parent.parent / "fixtures" / "inventory"
ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from gen_backbone_gml import generate_gml  # noqa: E402


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Plain reference: great-circle distance on a sphere of radius 6371.0088 km."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def imported(name: str, region_by: str | None = None):  # type: ignore[no-untyped-def]
    return inventory_to_topology(read_inventory(FIXTURES / name), parse_region_rule(region_by))


# -- ids ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("Zürich", "zurich"), ("São Paulo (GRU) #2", "sao-paulo-gru-2"),
    ("  --Frankfurt am Main--", "frankfurt-am-main"), ("St. Louis?", "st.-louis"),
    ("台北", ""),
])
def test_slug_examples(text: str, expected: str) -> None:
    """Labels become lower-case ASCII slugs (empty when nothing is left)."""
    assert slug(text) == expected


@given(st.text(max_size=200))
def test_slug_is_a_valid_id_or_empty(text: str) -> None:
    """Any text slugs to a valid topology id of at most 63 characters, or to nothing."""
    out = slug(text)
    assert out == "" or (ID.match(out) and len(out) <= 63)


def test_gml_ids_unique_names_kept() -> None:
    """Repeated labels get -2, the label stays as name, 'None' becomes node-KEY."""
    doc = imported("zoo.gml").doc
    ids = [s.id for s in doc.sites]
    assert len(set(ids)) == len(ids)
    assert all(ID.match(i) and len(i) <= 63 for i in ids)
    by_id = {s.id: s for s in doc.sites}
    assert by_id["zurich"].name == "Zürich" and by_id["zurich-2"].name == "Zürich"
    assert "node-1" in by_id and by_id["node-1"].name is None
    assert by_id["sao-paulo"].name == "São Paulo?"


def test_gml_self_loop_dropped_parallel_kept() -> None:
    """Self-loops are dropped with a warning; parallel links stay, with distinct ids."""
    result = imported("zoo.gml")
    pairs = Counter(frozenset((k.a, k.b)) for k in result.doc.links)
    assert pairs[frozenset(("zurich", "node-1"))] == 2
    assert all(k.a != k.b for k in result.doc.links)
    assert len(result.doc.links) == 7  # 8 edges less one self-loop
    assert any("self-loop" in w for w in result.summary.warnings)
    assert result.summary.parallel == 1


def test_gml_bad_coordinates_become_unlocated() -> None:
    """A latitude out of range drops the location (with a warning), not the site."""
    result = imported("zoo.gml")
    site = {s.id: s for s in result.doc.sites}["bad-place"]
    assert site.location is None
    assert any("out of range" in w for w in result.summary.warnings)
    assert set(result.summary.unlocated) == {"node-1", "bad-place"}


def test_lengths_are_great_circle() -> None:
    """length_km is the great-circle distance between located ends (0.1 km rounding)."""
    result = imported("zoo.gml")
    sites = {s.id: s for s in result.doc.sites}
    checked = 0
    for link in result.doc.links:
        a, b = sites[link.a].location, sites[link.b].location
        if a is None or b is None:
            continue
        assert link.length_km == pytest.approx(haversine_km(a.lat, a.lon, b.lat, b.lon), abs=0.06)
        checked += 1
    assert checked >= 4


def test_unlocated_links_take_the_median_length() -> None:
    """A link with an end without a location gets the median of the computed lengths."""
    result = imported("zoo.gml")
    sites = {s.id: s for s in result.doc.sites}
    known = [k.length_km for k in result.doc.links
             if sites[k.a].location is not None and sites[k.b].location is not None]
    guessed = [k for k in result.doc.links if k.id in result.summary.assumed_length]
    assert guessed and all(k.length_km == pytest.approx(float(np.median(known)), abs=0.06)
                           for k in guessed)
    assert all(f"link:{k.id}" in result.notes for k in guessed)


def test_long_label_truncated() -> None:
    """A label past 63 characters is cut to a valid id of at most 63 characters."""
    doc = imported("zoo.gml").doc
    long = next(s for s in doc.sites if s.name and s.name.startswith("A very long"))
    assert len(long.id) <= 63 and long.id.startswith("a-very-long-point")


def test_sites_get_the_default_unavailability() -> None:
    """Every imported site carries the documented default unavailability."""
    from georesil.inventory.convert import SITE_DEFAULT_UNAVAILABILITY

    doc = imported("zoo.gml").doc
    assert {s.unavailability for s in doc.sites} == {SITE_DEFAULT_UNAVAILABILITY}


def test_graphml_reads_speed_and_parallel_links() -> None:
    """GraphML nodes keep their coordinates; LinkSpeedRaw (bit/s) becomes bandwidth_gbps."""
    doc = imported("net.graphml").doc
    assert {s.id for s in doc.sites} == {"taipei", "los-angeles", "chicago", "tainan"}
    tp_la = next(k for k in doc.links if {k.a, k.b} == {"taipei", "los-angeles"})
    assert tp_la.bandwidth_gbps == pytest.approx(100.0)
    assert sum(1 for k in doc.links if {k.a, k.b} == {"taipei", "tainan"}) == 2


# -- CSV ---------------------------------------------------------------------------------------
def test_csv_ids_capacity_srlg_kind() -> None:
    """CSV ids come from the id column; names, capacity, SRLGs and kinds are kept."""
    doc = imported("csv", "attr:region").doc
    sites = {s.id: s for s in doc.sites}
    assert set(sites) == {"fra1", "fra2", "ams1", "par1", "lon1", "cage7"}
    assert sites["fra1"].name == "Frankfurt 1" and sites["fra1"].capacity.power_mw == 12
    assert sites["fra1"].region == "de" and sites["cage7"].region == "unassigned"
    links = {k.id: k for k in doc.links}
    assert links["fra-ams"].srlg == ("rhine-duct",) and links["fra-par"].length_km == 520
    assert sum(1 for k in doc.links if k.kind.value == "submarine") == 2


def test_csv_unknown_site_and_kind_reported_with_line(tmp_path: Path) -> None:
    """Every bad link row is reported with its file and line."""
    (tmp_path / "sites.csv").write_text("id,lat,lon\nA,1,2\nB,3,4\n")
    (tmp_path / "links.csv").write_text("a,b,kind\nA,B,fibre\nA,C,\n")
    with pytest.raises(InvalidInventory) as err:
        read_inventory(tmp_path)
    text = str(err.value)
    assert f"{tmp_path / 'links.csv'}:2: kind: unknown link kind 'fibre'" in text
    assert f"{tmp_path / 'links.csv'}:3: b: unknown site 'C'" in text


def test_csv_missing_column(tmp_path: Path) -> None:
    """A sites.csv without an id column names the columns it expects."""
    (tmp_path / "sites.csv").write_text("where,lat\nx,1\n")
    (tmp_path / "links.csv").write_text("a,b\n")
    with pytest.raises(InvalidInventory, match=r"sites.csv:1: no column 'id'"):
        read_inventory(tmp_path)


def test_unreadable_gml() -> None:
    """Text that is not GML is bad input naming the source."""
    with pytest.raises(InvalidInventory, match="x.gml: not valid GML"):
        parse_gml("graph [ node [ id 0 ", "x.gml")


# -- regions -----------------------------------------------------------------------------------
def test_region_by_lat_splits_at_the_median() -> None:
    """--region-by lat: north at or above the median latitude, south below; unlocated none."""
    result = imported("zoo.gml", "lat")
    lats = sorted(s.location.lat for s in result.doc.sites if s.location)
    median = float(np.median(lats))
    for site in result.doc.sites:
        want = ("unassigned" if site.location is None
                else "north" if site.location.lat >= median else "south")
        assert site.region == want


@pytest.mark.parametrize("bad", ["latitude", "cluster:1", "cluster:x", "attr:", "cluster:65"])
def test_bad_region_rule(bad: str) -> None:
    """Unknown --region-by values are bad input naming what is allowed."""
    with pytest.raises(InvalidInput, match="allowed: lat, lon, cluster:N"):
        parse_region_rule(bad)


def test_kmeans_is_a_lloyd_fixpoint() -> None:
    """On random points, every point ends nearest its own cluster's mean (plain check)."""
    rng = random.Random(4)
    for _ in range(20):
        pts = np.array([[rng.gauss(c, 1.0), rng.gauss(-c, 1.0)]
                        for c in (0, 5, 10) for _ in range(rng.randint(3, 15))])
        k = rng.randint(2, 4)
        labels = kmeans(pts, k)
        means = {j: pts[labels == j].mean(axis=0) for j in set(labels.tolist())}
        for p, lab in zip(pts, labels, strict=True):
            mine = float(np.sum((p - means[int(lab)]) ** 2))
            assert all(mine <= float(np.sum((p - m) ** 2)) + 1e-9 for m in means.values())


def test_cluster_regions_cover_located_sites() -> None:
    """cluster:N gives each located site one of N regions, numbered west to east."""
    result = imported("net.graphml", "cluster:2")
    regions = {s.id: s.region for s in result.doc.sites}
    assert regions["taipei"] == regions["tainan"] != regions["los-angeles"]
    assert set(regions.values()) == {"cluster-1", "cluster-2"}


# -- the written file --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["zoo.gml", "net.graphml", "csv"])
def test_written_yaml_loads_back_to_the_same_document(name: str) -> None:
    """The commented YAML parses back into the very document that was converted."""
    result = imported(name, "lon")
    text = render_yaml(result)
    assert text.startswith("# Imported from")
    assert "Still to fill in:" in text and "docs/sources.md#uptime-tiers" in text
    assert parse_topology(text, "out.yaml").doc == result.doc


@pytest.mark.slow
def test_generated_750_site_backbone_imports() -> None:
    """The 750-PoP synthetic backbone imports into a valid topology with unique ids."""
    inventory = parse_gml(generate_gml(750, seed=1), "backbone.gml")
    result = inventory_to_topology(inventory, parse_region_rule("cluster:6"))
    assert len(result.doc.sites) == 750
    assert result.summary.duplicate_labels and result.summary.unlocated
    topo = parse_topology(render_yaml(result), "backbone.yaml")
    assert len(topo.sites) == 750 and len(set(topo.sites)) == 750
