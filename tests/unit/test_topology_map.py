"""The topology map: formats, labels, atomic writes, element colours, the CLI command."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from georesil.errors import InvalidInput
from georesil.model import Topology, load_topology, topology_from_dict
from georesil.report import topology_map
from georesil.report._map_geo import KM_PER_DEG, Frame
from georesil.report.topology_map import draw_topology_map

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reference() -> Topology:
    return load_topology()


@pytest.fixture(scope="module")
def reference_svg(reference: Topology, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("map") / "taiwan.svg"
    draw_topology_map(reference, out)
    return out.read_text(encoding="utf-8")


def _svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(el.itertext()).strip() for el in root.iter("{http://www.w3.org/2000/svg}text")]


def test_svg_parses_and_names_every_site(reference: Topology, reference_svg: str) -> None:
    """The SVG is well-formed XML and has a text label for every site."""
    texts = _svg_texts(reference_svg)
    for site in reference.sites:
        assert site in texts


def test_svg_has_legend_and_scale_bar(reference_svg: str) -> None:
    """The legend lists link kinds and SRLGs, and a km scale bar is drawn."""
    texts = _svg_texts(reference_svg)
    assert "submarine link" in texts
    assert any(t.startswith("SRLG west-hsr-conduit") for t in texts)
    assert any(t.endswith(" km") for t in texts)


def test_png_has_signature_and_size(reference: Topology, tmp_path: Path) -> None:
    """A .png output is a real PNG of non-trivial size."""
    out = tmp_path / "taiwan.png"
    draw_topology_map(reference, out)
    data = out.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 50_000


def test_unsupported_suffix_is_invalid_input(reference: Topology, tmp_path: Path) -> None:
    """Any suffix other than .svg/.png is rejected before drawing, and nothing is written."""
    with pytest.raises(InvalidInput, match=r"unsupported file type '\.txt'.*\.svg, \.png"):
        draw_topology_map(reference, tmp_path / "map.txt")
    assert list(tmp_path.iterdir()) == []


def test_failed_render_leaves_no_file(
    base_doc: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When rendering fails, no partial or temporary file is left behind."""
    from matplotlib.figure import Figure

    def broken(self: Figure, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        draw_topology_map(topology_from_dict(base_doc), tmp_path / "map.svg")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_old_file(
    base_doc: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails at the rename keeps the previous map and leaves no temp file."""
    out = tmp_path / "map.svg"
    out.write_text("old map")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError("rename refused")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename refused"):
        draw_topology_map(topology_from_dict(base_doc), out)
    assert out.read_text() == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.svg"]


def test_element_colors_are_applied(base_doc: dict[str, Any], tmp_path: Path) -> None:
    """A colour string colours its site; numbers go through the colour map with a colour bar."""
    out = tmp_path / "map.svg"
    draw_topology_map(topology_from_dict(base_doc), out, title="coloured",
                      element_colors={"site:mid": "#00ff00", "link:s1": 0.9})
    svg = out.read_text(encoding="utf-8")
    assert "#00ff00" in svg
    assert "criticality" in _svg_texts(svg)
    assert "coloured" in _svg_texts(svg)


def test_unknown_element_color_key_is_invalid(base_doc: dict[str, Any], tmp_path: Path) -> None:
    """An element_colors key naming no site or link is rejected with the offending key."""
    with pytest.raises(InvalidInput, match=r"unknown element\(s\) 'site:nowhere'"):
        draw_topology_map(topology_from_dict(base_doc), tmp_path / "m.svg",
                          element_colors={"site:nowhere": "red"})


def test_parallel_links_are_offset_symmetrically(base_doc: dict[str, Any]) -> None:
    """Two links between the same sites get equal and opposite non-zero offsets."""
    topo = topology_from_dict(base_doc)
    offsets = {link.id: off for link, off in topology_map._parallel_offsets(topo)}
    assert offsets["w1"] == -offsets["w2"] != 0
    assert offsets["s1"] == 0


def test_reversed_parallel_link_is_offset_to_the_other_side(base_doc: dict[str, Any]) -> None:
    """A parallel link given as b-a is still drawn apart from its twin, not on top of it."""
    base_doc["links"][1]["a"], base_doc["links"][1]["b"] = "mid", "north"
    topo = topology_from_dict(base_doc)
    scene = topology_map._scene(topo)
    drawn = {}
    frame = scene.frame
    for link, off in topology_map._parallel_offsets(topo):
        points = topology_map._link_pieces(topo, link, scene)[0]
        if link.a == "mid":
            points = points[::-1]
            off = -off
        drawn[link.id] = topology_map._offset_polyline(points, off, frame)
    assert drawn["w1"] != drawn["w2"]


def test_offset_polyline_shifts_by_the_given_distance() -> None:
    """A north-going straight line offset 5 km lies 5 km to its west."""
    frame = Frame(121.0, 120.0, 122.0, 22.0, 26.0)
    lons, lats = topology_map._offset_polyline([(121.0, 23.0), (121.0, 25.0)], 5.0, frame)
    km_per_deg_lon = KM_PER_DEG * frame.coslat
    assert lats == pytest.approx([23.0, 25.0])
    assert [(lon - 121.0) * km_per_deg_lon for lon in lons] == pytest.approx([-5.0, -5.0])


def test_map_far_from_taiwan_draws_without_outline(
    base_doc: dict[str, Any], tmp_path: Path
) -> None:
    """Sites elsewhere on Earth are framed on their own (the Taiwan outline is left out)."""
    for i, site in enumerate(base_doc["sites"]):
        site["location"] = {"lat": 48.0 + i, "lon": 11.0 + i}
    topo = topology_from_dict(base_doc)
    frame = topology_map._scene(topo).frame
    assert not frame.near_taiwan()
    assert frame.y0 < 48 and frame.y1 > 50 and frame.x1 < 20
    out = tmp_path / "europe.svg"
    info = draw_topology_map(topo, out)
    assert info.basemap == "Natural Earth 1:110m"
    assert "north" in _svg_texts(out.read_text(encoding="utf-8"))


def test_outline_is_a_closed_ring_around_taiwan() -> None:
    """The bundled outline is a closed ring spanning Taiwan's extreme capes."""
    ring = topology_map.load_taiwan_outline()
    assert 150 <= len(ring) <= 450
    assert ring[0] == ring[-1]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    assert max(lats) == pytest.approx(25.30, abs=0.03)   # Fugui Cape
    assert min(lats) == pytest.approx(21.90, abs=0.03)   # Eluanbi
    assert max(lons) == pytest.approx(122.00, abs=0.03)  # Sandiao Cape
    assert math.isclose(min(lons), 120.05, abs_tol=0.1)


def _georesil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_graph_writes_svg(tmp_path: Path) -> None:
    """`georesil graph -o x.svg` exits 0 and writes the map of the bundled topology."""
    out = tmp_path / "x.svg"
    result = _georesil("graph", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "tainan-ngcc" in _svg_texts(out.read_text(encoding="utf-8"))


def test_cli_graph_rejects_txt(tmp_path: Path) -> None:
    """`georesil graph -o x.txt` exits 2 with a clear message, no traceback, and no file."""
    result = _georesil("graph", "-o", str(tmp_path / "x.txt"))
    assert result.returncode == 2
    assert "allowed: a file ending in .svg or .png" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
