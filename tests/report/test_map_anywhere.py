"""Maps anywhere: projection, great circles across the seam, layout of unlocated sites, labels."""

from __future__ import annotations

import math
import random
import re
import sys
from pathlib import Path

import pytest

from georesil.hazards.geometry import central_meridian
from georesil.inventory import inventory_to_topology, parse_region_rule, read_inventory
from georesil.inventory.readers import parse_gml
from georesil.model import Topology, load_topology, topology_from_dict
from georesil.report._map_geo import (
    Frame,
    great_circle,
    make_frame,
    place_unlocated,
    split_at_seam,
)
from georesil.report.topology_map import render_map

INVENTORY = Path(__file__).resolve().parents[1] / "fixtures" / "inventory"
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_backbone_gml import generate_gml  # noqa: E402


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Plain reference on (lon, lat) pairs."""
    (lo1, la1), (lo2, la2) = a, b
    p1, p2, dl = math.radians(la1), math.radians(la2), math.radians(lo2 - lo1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def imported(name: str, region_by: str | None = None) -> Topology:
    result = inventory_to_topology(read_inventory(INVENTORY / name), parse_region_rule(region_by))
    return Topology(result.doc)


TAIPEI, LOS_ANGELES = (121.57, 25.03), (-118.24, 34.05)


def test_great_circle_points_lie_on_the_arc() -> None:
    """Every sampled point splits the arc: d(a, p) + d(p, b) = d(a, b) (random pairs)."""
    rng = random.Random(3)
    for _ in range(50):
        a = (rng.uniform(-180, 180), rng.uniform(-80, 80))
        b = (rng.uniform(-180, 180), rng.uniform(-80, 80))
        points = great_circle(a, b)
        assert points[0] == a and points[-1] == b
        total = haversine_km(a, b)
        for p in points:
            assert haversine_km(a, p) + haversine_km(p, b) == pytest.approx(total, abs=0.5)


def test_taipei_los_angeles_crosses_the_pacific() -> None:
    """Centred on the sites, Taipei → Los Angeles is one piece over the Pacific."""
    frame = make_frame([TAIPEI, LOS_ANGELES])
    pieces = split_at_seam(great_circle(TAIPEI, LOS_ANGELES), frame)
    assert len(pieces) == 1
    xs = [x for x, _ in pieces[0]]
    assert xs[0] == pytest.approx(frame.x(TAIPEI[0])) and xs[-1] == pytest.approx(
        frame.x(LOS_ANGELES[0]))
    assert max(xs) - min(xs) < 121.0  # 120° of the Pacific, not 240° across Eurasia
    assert frame.x0 <= min(xs) and max(xs) <= frame.x1


def test_split_at_the_seam_of_a_greenwich_centred_map() -> None:
    """On a map centred on Greenwich the same link is cut in two at ±180°, ends on the edges."""
    frame = Frame(0.0, -180.0, 180.0, -60.0, 80.0)
    pieces = split_at_seam(great_circle(TAIPEI, LOS_ANGELES), frame)
    assert len(pieces) == 2
    ends = sorted([pieces[0][-1][0], pieces[1][0][0]])
    assert ends == pytest.approx([-180.0, 180.0])
    assert pieces[0][-1][1] == pytest.approx(pieces[1][0][1])
    for piece in pieces:
        assert all(-180.0 <= x <= 180.0 for x, _ in piece)


def test_central_meridian_matches_brute_force() -> None:
    """The centre minimises the span of longitudes around it (checked against a 0.5° scan)."""
    rng = random.Random(5)

    def span(lons: list[float], centre: float) -> float:
        rel = [((v - centre + 180) % 360) - 180 for v in lons]
        return max(rel) - min(rel)

    for _ in range(40):
        lons = [rng.uniform(-180, 180) for _ in range(rng.randint(2, 9))]
        best = min(span(lons, c / 2) for c in range(-360, 360))
        assert span(lons, central_meridian(lons)) <= best + 0.5


def test_unlocated_site_sits_between_its_located_neighbours() -> None:
    """A site without a location lands near the middle of its located neighbours."""
    doc = {"version": 1, "name": "t", "sites": [
        {"id": "a", "location": {"lat": 48.0, "lon": 2.0}},
        {"id": "b", "location": {"lat": 52.0, "lon": 12.0}},
        {"id": "mid"}, {"id": "lone"}, {"id": "lone2"}],
        "links": [{"id": "l1", "a": "a", "b": "mid"}, {"id": "l2", "a": "mid", "b": "b"},
                  {"id": "l3", "a": "lone", "b": "lone2"}]}
    topo = topology_from_dict(doc)
    frame = make_frame([(2.0, 48.0), (12.0, 52.0)])
    pos, strip = place_unlocated(topo, frame, {"a": (2.0, 48.0), "b": (12.0, 52.0)})
    assert set(pos) == {"mid"} and strip == ["lone", "lone2"]
    x, y = pos["mid"]
    assert abs(x - 7.0) < 1.5 and abs(y - 50.0) < 1.0


def test_unlocated_sites_are_drawn_hollow_with_a_hover_title() -> None:
    """The SVG marks layout-placed sites and names every site and link on hover."""
    topo = imported("zoo.gml")
    svg, info = render_map(topo, "svg")
    text = svg.decode()
    assert info.unlocated == 2 and "hollow" in info.caption()
    for site in topo.sites:
        assert re.search(rf'<g id="site:{re.escape(site)}">\s*<title>', text), site
    for link in topo.links:
        assert re.search(rf'<g id="link:{re.escape(link)}">\s*<title>', text), link
    assert "no location (placed by layout)" in text


def test_world_map_names_basemap_and_projection() -> None:
    """A Taiwan-to-USA network gets Natural Earth land and a Pacific-centred projection."""
    _, info = render_map(imported("net.graphml"), "svg")
    assert "Natural Earth 1:110m" in info.basemap
    lon0 = float(re.search(r"centred on (\d+)°W", info.projection)[1])  # type: ignore[index]
    assert 150 <= lon0 <= 180  # the Pacific, not Greenwich


def test_bundled_topology_keeps_taiwan_coastline() -> None:
    """Near Taiwan the 1:10m coastline is used, and every site is labelled."""
    _, info = render_map(load_topology(), "svg")
    assert "Taiwan's coastline at 1:10m" in info.basemap
    assert info.labelled == info.sites


@pytest.mark.slow
def test_large_map_labels_do_not_overlap() -> None:
    """On a 300-site backbone, at most MAX_LABELS labels, none overlapping another."""
    from matplotlib import rc_context

    from georesil.report import topology_map as tm

    inventory = parse_gml(generate_gml(300, seed=2), "bb.gml")
    topo = Topology(inventory_to_topology(inventory, parse_region_rule("cluster:4")).doc)
    with rc_context({"svg.fonttype": "none"}):
        fig, info, _ = tm._render(topo, {}, None)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    from matplotlib.text import Text

    # The text's own box (an annotation's would include its leader line).
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts
             if t.get_text() in topo.sites]
    assert 0 < len(boxes) == info.labelled <= tm.MAX_LABELS
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


@pytest.mark.slow
def test_large_map_names_each_element_on_its_own_mark() -> None:
    """On a 300-site backbone every site and link has one hover group, holding its own mark.

    Sites and links are drawn a collection at a time: a distinct colour per element shows
    that each group wraps that element's marker or line, not a neighbour's.
    """
    inventory = parse_gml(generate_gml(300, seed=3), "bb.gml")
    topo = Topology(inventory_to_topology(inventory, parse_region_rule("cluster:4")).doc)
    refs = [f"site:{s}" for s in topo.sites] + [f"link:{k}" for k in topo.links]
    colours = {ref: f"#{17 * i + 1:06x}" for i, ref in enumerate(refs)}
    text = render_map(topo, "svg", element_colors=colours)[0].decode()
    assert "georesil-element" not in text
    for ref in refs:
        groups = re.findall(rf'<g id="{re.escape(ref)}(?:~\d+)?">\s*<title>.*?</g>', text,
                            flags=re.S)
        assert groups, ref
        for group in groups:  # a hollow site: its colour is the stroke, the fill white
            painted = set(re.findall(r"(?:fill|stroke): (#[0-9a-f]{6})", group))
            assert painted - {"#ffffff"} == {colours[ref]}, ref


def test_scale_bar_clear_of_sites() -> None:
    """The scale bar and north arrow sit in a corner without sites."""
    from matplotlib import rc_context
    from matplotlib.offsetbox import AnchoredOffsetbox

    from georesil.report import topology_map as tm

    topo = load_topology()
    with rc_context({"svg.fonttype": "none"}):
        fig, _, _ = tm._render(topo, {}, None)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    bars = [a for a in ax.artists if isinstance(a, AnchoredOffsetbox)]
    assert len(bars) == 1
    box = bars[0].get_window_extent(renderer)
    for site in topo.sites.values():
        assert site.location is not None
        x, y = ax.transData.transform((site.location.lon, site.location.lat))
        assert not box.contains(x, y), site.id


# -- reports outside Taiwan, in headless Chromium -------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("name", "inventory"), [("europe", "csv"),
                                                 ("taiwan-usa", "net.graphml")])
def test_report_anywhere_in_chromium(name: str, inventory: str, tmp_path: Path) -> None:
    """A European and a Taiwan-to-USA report render in Chromium with land, no Taiwan text."""
    import shutil

    from georesil.analysis.analyze import analyze
    from georesil.app.report import report_inputs
    from georesil.report.build import write_report
    from tests.report._chromium import Chromium, chromium_binary
    from tests.report.test_html import _screenshot_dir

    topo = imported(inventory, "lon")
    out = tmp_path / "out"
    write_report(report_inputs(topo, analyze(topo), None, None, ()), out, ("html",))
    html = (out / "report.html").read_text("utf-8")
    assert "Natural Earth 1:110m" in html
    assert "over Taiwan's coastline" not in html
    assert "No seismic model applies unless you give one" in html
    binary = chromium_binary()
    # Not a skip: README's test command installs Chromium, so its absence is a set-up failure.
    assert binary is not None, "Chromium is not installed: apt-get install -y chromium"
    with Chromium(binary) as browser:
        page = browser.load(out / "report.html")
    shot = tmp_path / f"report-{name}.png"
    shot.write_bytes(page.screenshot)
    assert page.console_errors == []
    assert page.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert "map" in page.ids
    target = _screenshot_dir()
    if target is not None:
        shutil.copy(shot, target / shot.name)
