"""The bundled Taiwan reference topology: it validates and holds the facts issue 2 asks for."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pytest

from georesil.model import load_topology, topology_from_dict
from georesil.model.loader import default_topology_path
from georesil.model.schema import LinkKind, ServiceKind, ZoneKind
from georesil.report.topology_map import load_taiwan_outline

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "taiwan.yaml"


@pytest.fixture(scope="module")
def topo():  # type: ignore[no-untyped-def]
    return load_topology()


def _point_in_polygon(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _km_to_segment(lon: float, lat: float, a: tuple[float, float],
                   b: tuple[float, float]) -> float:
    k = math.cos(math.radians(lat)) * 111.195
    px, py = 0.0, 0.0
    ax, ay = (a[0] - lon) * k, (a[1] - lat) * 111.195
    bx, by = (b[0] - lon) * k, (b[1] - lat) * 111.195
    dx, dy = bx - ax, by - ay
    t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy)
                                              / (dx * dx + dy * dy)))
    return math.hypot(ax + t * dx - px, ay + t * dy - py)


def test_bundled_file_validates(topo) -> None:  # type: ignore[no-untyped-def]
    """The bundled reference topology loads without problems."""
    assert topo.name == "taiwan-north-south"
    assert Path(topo.source) == default_topology_path()


def test_example_is_byte_identical_to_bundled() -> None:
    """examples/taiwan.yaml is a byte-identical copy of the bundled file."""
    assert EXAMPLE.read_bytes() == default_topology_path().read_bytes()


def test_small_example_validates() -> None:
    """examples/small.yaml, the docs' example, validates too."""
    small = load_topology(REPO / "examples" / "small.yaml")
    assert len(small.sites) == 3


def test_docs_example_is_small_yaml() -> None:
    """The complete example in docs/topology-format.md is examples/small.yaml, comments aside."""
    doc = (REPO / "docs" / "topology-format.md").read_text(encoding="utf-8")
    block = doc.split("## Example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    small = (REPO / "examples" / "small.yaml").read_text(encoding="utf-8")
    body = "".join(line for line in small.splitlines(keepends=True) if not line.startswith("#"))
    assert block == body


def test_named_sites_present(topo) -> None:  # type: ignore[no-untyped-def]
    """At least 7 sites, including Taipei, Hsinchu, Taoyuan, Taichung, Tainan, Kaohsiung."""
    assert len(topo.sites) >= 7
    assert {"taipei-neihu", "hsinchu-hq", "taoyuan-dc", "taichung-dc", "tainan-ngcc",
            "kaohsiung-dc"} <= set(topo.sites)


def test_landing_stations_north_and_south(topo) -> None:  # type: ignore[no-untyped-def]
    """Cable landing stations exist in the north and at Fangshan in the south."""
    landings = {s.id: s for s in topo.sites.values() if "cable-landing" in s.tags}
    assert "fangshan-cls" in landings
    assert any(s.location.lat > 24.5 for s in landings.values())


def test_tainan_capacity_matches_reference(topo) -> None:  # type: ignore[no-untyped-def]
    """Tainan: 15 MW design power and 1,760 + 144 = 1,904 GPUs."""
    capacity = topo.site("tainan-ngcc").capacity
    assert capacity.power_mw == 15
    assert capacity.gpus == 1760 + 144


def test_taipei_respects_northern_5mw_cap(topo) -> None:  # type: ignore[no-untyped-def]
    """No data centre north of Taoyuan is over 5 MW (the 2023 grid rule)."""
    taoyuan_lat = topo.site("taoyuan-dc").location.lat
    for site in topo.sites.values():
        if site.location.lat > taoyuan_lat + 0.02 and site.capacity.power_mw is not None:
            assert site.capacity.power_mw <= 5, site.id


def test_at_least_twelve_links(topo) -> None:  # type: ignore[no-untyped-def]
    """The reference topology has at least 12 links."""
    assert len(topo.links) >= 12


def test_parallel_west_routes_share_an_srlg(topo) -> None:  # type: ignore[no-untyped-def]
    """Two parallel links between the same sites share the west-hsr-conduit SRLG."""
    members = [topo.link(k) for k in topo.srlgs["west-hsr-conduit"]]
    pairs = [frozenset((k.a, k.b)) for k in members]
    assert any(pairs.count(p) >= 2 for p in pairs)


def test_one_west_route_avoids_the_conduit(topo) -> None:  # type: ignore[no-untyped-def]
    """Cutting the conduit leaves a terrestrial west route from the north to Tainan."""
    conduit = set(topo.srlgs["west-hsr-conduit"])
    g = nx.Graph()
    for link in topo.links.values():
        west = link.kind is LinkKind.TERRESTRIAL and "hualien-east" not in link.zones
        if west and link.id not in conduit and "fangshan-cls" not in (link.a, link.b):
            g.add_edge(link.a, link.b)
    assert nx.has_path(g, "hsinchu-hq", "tainan-ngcc")


def test_east_coast_link_follows_the_east_coast(topo) -> None:  # type: ignore[no-untyped-def]
    """A terrestrial link has waypoints along the east coast (east of 121.3 E near Hualien)."""
    east = [k for k in topo.links.values() if k.kind is LinkKind.TERRESTRIAL and any(
        23.5 < p.lat < 24.2 and p.lon > 121.3 for p in k.path)]
    assert east


def test_submarine_links_have_slow_repairs(topo) -> None:  # type: ignore[no-untyped-def]
    """At least two submarine links, each repaired in weeks (mttr over 14 days)."""
    subs = [k for k in topo.links.values() if k.kind is LinkKind.SUBMARINE]
    assert len(subs) >= 2
    assert all((k.mttr_h or 0) >= 14 * 24 for k in subs)


def test_links_carry_reliability_inputs(topo) -> None:  # type: ignore[no-untyped-def]
    """Every link has a cut rate with mttr_h, or an unavailability, and a latency ~5 us/km."""
    for link in topo.links.values():
        assert link.unavailability is not None or (
            link.cut_rate_per_1000km_yr is not None and link.mttr_h is not None), link.id
        if link.kind in (LinkKind.TERRESTRIAL, LinkKind.SUBMARINE):
            assert link.latency_ms == pytest.approx(link.length_km * 0.005, rel=0.05), link.id


def test_power_hub_and_seismic_zones(topo) -> None:  # type: ignore[no-untyped-def]
    """Zones exist for the three Taipower regions, the three UHV hubs and seismic areas."""
    power = {z.id for z in topo.zones.values() if z.kind is ZoneKind.POWER}
    assert {"taipower-north", "taipower-central", "taipower-south",
            "longtan-hub", "chungliao-hub", "longchi-hub"} <= power
    seismic = [z for z in topo.zones.values() if z.kind is ZoneKind.SEISMIC]
    assert len(seismic) >= 3
    assert all(topo.zone_members(z.id) for z in topo.zones.values())


def test_blackout_rates_sum_near_reference(topo) -> None:  # type: ignore[no-untyped-def]
    """The power zones' annual rates add up to about 0.26 major blackouts a year."""
    total = sum(z.annual_rate or 0 for z in topo.zones.values() if z.kind is ZoneKind.POWER)
    assert total == pytest.approx(0.26, abs=0.03)


def test_services_of_the_named_kinds(topo) -> None:  # type: ignore[no-untyped-def]
    """At least 8 services covering storage, compute, identity, DNS and database kinds."""
    assert len(topo.services) >= 8
    kinds = {s.kind for s in topo.services.values()}
    assert {ServiceKind.OBJECT_STORAGE, ServiceKind.COMPUTE, ServiceKind.IDENTITY,
            ServiceKind.DNS, ServiceKind.DATABASE, ServiceKind.QUEUE} <= kinds
    assert {"dataset-store", "model-store", "training-scheduler", "inference-api",
            "identity", "dns", "metadata-db", "monitoring"} <= set(topo.services)


def test_some_secondary_lags_beyond_its_rpo(topo) -> None:  # type: ignore[no-untyped-def]
    """At least one service would breach its RPO on failover (secondary lag > RPO)."""
    assert any((r.lag_s or 0) > svc.rpo_s
               for svc in topo.services.values() for r in topo.secondaries(svc.id))


def test_north_failover_overflows_tainan_gpus(topo) -> None:  # type: ignore[no-untyped-def]
    """Moving every GPU demand onto Tainan exceeds its 1,904 GPUs."""
    at_tainan = [s for s in topo.services.values()
                 if any(r.site == "tainan-ngcc" for r in s.replicas)]
    assert sum(s.demand.gpus or 0 for s in at_tainan) > topo.site("tainan-ngcc").capacity.gpus


def test_a_single_replica_service_exists(topo) -> None:  # type: ignore[no-untyped-def]
    """At least one service has a single replica: a real single point of failure."""
    assert any(len(s.replicas) == 1 for s in topo.services.values())


REQUIRED_SCENARIOS = ("blackout-2017-08-15", "blackout-2022-03-03", "chi-chi-1999-like",
                      "meinong-2016-like", "hualien-2024-like", "west-corridor-conduit-cut",
                      "submarine-cut-2023", "typhoon-danas-2025")


@pytest.mark.parametrize("scenario", REQUIRED_SCENARIOS)
def test_named_scenario_resolves(topo, scenario: str) -> None:  # type: ignore[no-untyped-def]
    """Each named scenario exists and its failure references expand to base elements."""
    assert topo.expand(topo.scenario(scenario).fail)


def test_quake_scenarios_carry_their_quakes(topo) -> None:  # type: ignore[no-untyped-def]
    """The Chi-Chi-, Meinong- and Hualien-like scenarios carry the cited epicentres."""
    expected = {"chi-chi-1999-like": (23.772, 120.982, 7.6, 33),
                "meinong-2016-like": (22.93, 120.54, 6.4, 16),
                "hualien-2024-like": (23.819, 121.562, 7.4, 34.8)}
    for sid, values in expected.items():
        q = topo.scenario(sid).quake
        assert (q.lat, q.lon, q.magnitude, q.depth_km) == values


def test_conduit_cut_alone_keeps_north_and_south_connected(topo) -> None:  # type: ignore[no-untyped-def]
    """The conduit cut does not partition the graph; cut during a typhoon, it does."""
    def connected(scenario: str) -> bool:
        failed = topo.expand(topo.scenario(scenario).fail)
        g = nx.MultiGraph(topo.graph)
        g.remove_edges_from([(k.a, k.b, k.id) for k in topo.links.values()
                             if k.id in failed.links])
        g.remove_nodes_from(failed.sites)
        return nx.has_path(g, "hsinchu-hq", "tainan-ngcc")

    assert connected("west-corridor-conduit-cut")
    assert not connected("conduit-cut-during-typhoon")


def test_seismic_sources(topo) -> None:  # type: ignore[no-untyped-def]
    """Four or more Gutenberg-Richter sources with b ~ 1, m_min 5 and a line source."""
    sources = topo.doc.seismic.sources
    assert len(sources) >= 4
    assert any(s.kind == "line" for s in sources)
    assert all(s.b_value == pytest.approx(1.0, abs=0.2) and s.m_min == 5.0 for s in sources)
    assert all(7.0 <= s.m_max <= 8.0 and 0.01 <= s.annual_rate <= 2 for s in sources)


def test_show_json_round_trips(topo) -> None:  # type: ignore[no-untyped-def]
    """The normalised model survives a JSON round trip unchanged."""
    data = json.loads(json.dumps(topo.to_dict()))
    assert topology_from_dict(data).to_dict() == topo.to_dict()


def test_sites_lie_on_taiwan(topo) -> None:  # type: ignore[no-untyped-def]
    """Every site is inside the Taiwan outline or within 10 km of its coast."""
    ring = load_taiwan_outline()
    for site in topo.sites.values():
        lon, lat = site.location.lon, site.location.lat
        near = min(_km_to_segment(lon, lat, a, b) for a, b in zip(ring, ring[1:], strict=False))
        assert _point_in_polygon(lon, lat, ring) or near <= 10, site.id


def test_point_in_polygon_helper_rejects_the_sea() -> None:
    """The outline test itself rejects points in the Taiwan Strait and the Pacific."""
    ring = load_taiwan_outline()
    assert _point_in_polygon(121.0, 23.5, ring)
    assert not _point_in_polygon(119.8, 24.0, ring)
    assert not _point_in_polygon(122.3, 23.0, ring)
