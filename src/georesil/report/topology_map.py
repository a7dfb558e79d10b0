"""Draw a topology as a map (SVG or PNG), anywhere on Earth.

The projection and extent come from the sites (:mod:`georesil.report._map_geo`): an
equirectangular map centred on the sites' central meridian, a Plate carrée when the network
spans the world. Land is Natural Earth 1:110m (``georesil/data/README.md``), with Taiwan's
1:10m coastline on maps near Taiwan. Links are drawn as great circles, cut where they cross
the map's seam; parallel links are offset side by side; SRLG members get a coloured halo.
Sites without a location are placed by a layout anchored on their located neighbours and
drawn hollow. Labels go to the most important sites where they fit without overlap; in the
SVG every site and link carries a hover ``<title>``. The legend, scale bar and north arrow go
to the corners with the fewest sites.

This module imports matplotlib: the CLI imports it only when it draws.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import structlog
from matplotlib import colormaps, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from mpl_toolkits.axes_grid1.anchored_artists import (  # type: ignore[import-untyped]
    AnchoredSizeBar,
)

from georesil._atomic import write_atomic
from georesil.errors import InvalidInput
from georesil.report._map_geo import (
    KM_PER_DEG,
    Frame,
    great_circle,
    land_polygons,
    make_frame,
    place_unlocated,
    split_at_seam,
    taiwan_outline,
)

if TYPE_CHECKING:
    from georesil.model import Topology
    from georesil.model.schema import LinkSpec, SiteSpec

__all__ = ["FORMATS", "MapInfo", "draw_topology_map", "load_taiwan_outline", "render_map"]

log = structlog.get_logger(__name__)

#: Output formats by file suffix.
FORMATS: dict[str, str] = {".svg": "svg", ".png": "png"}

_REGION_COLORS = ("#1f5fa8", "#2a9d8f", "#d1495b", "#8e5ea2", "#e9a03b", "#5c6b73", "#66a61e",
                  "#b5651d", "#17becf", "#e377c2", "#7f7f00", "#393b79", "#ad494a", "#637939")
#: Well-known region labels keep their colour from map to map.
_NAMED_REGION_COLORS = {"north": "#1f5fa8", "central": "#2a9d8f", "south": "#d1495b",
                        "east": "#8e5ea2", "unassigned": "#9aa5ad"}
_SRLG_COLORS = ("#f4a259", "#e56b9f", "#8fbf4d", "#b38bd9", "#f2d14f", "#6fc3df")
_LINK_STYLE: dict[str, dict[str, Any]] = {
    "terrestrial": {"color": "#3d3d3d", "linestyle": "-"},
    "submarine": {"color": "#1c6fb8", "linestyle": (0, (5, 3))},
    "microwave": {"color": "#7b4fa0", "linestyle": (0, (1, 1.6))},
    "satellite": {"color": "#b05a00", "linestyle": (0, (6, 2, 1, 2))},
}
_UNLOCATED_LINK: dict[str, Any] = {"color": "#8a949b", "linestyle": (0, (1.5, 1.5))}
_LAND, _COAST, _SEA = "#f3efe4", "#a29a89", "#e8f1f8"
_PARALLEL_SPACING_KM = 3.2
_CMAP = "YlOrRd"
#: Sites labelled on the map at most; the rest are named on hover (SVG ``<title>``).
MAX_LABELS = 40


@dataclass(frozen=True)
class MapInfo:
    """What a drawn map shows, for its caption.

    Attributes:
        basemap: The land data drawn, in words.
        projection: The projection, in words.
        labelled: Sites named on the map.
        sites: Sites drawn.
        unlocated: Sites without a location (placed by the layout, or lined up in a strip).
    """

    basemap: str
    projection: str
    labelled: int
    sites: int
    unlocated: int

    def caption(self) -> str:
        """One sentence for a figure caption."""
        parts = [f"Land: {self.basemap}; projection: {self.projection}."]
        if self.labelled < self.sites:
            parts.append(f"{self.labelled} of {self.sites} sites are labelled; hover over a "
                         "site or link for its name.")
        if self.unlocated:
            parts.append(f"{self.unlocated} sites without a location are drawn hollow, placed "
                         "next to their located neighbours.")
        return " ".join(parts)


def load_taiwan_outline() -> list[tuple[float, float]]:
    """Taiwan's main-island coastline as a closed ring of ``(lon, lat)`` points."""
    return list(taiwan_outline())


def draw_topology_map(
    topology: Topology,
    path: str | Path,
    *,
    element_colors: Mapping[str, str | float] | None = None,
    title: str | None = None,
) -> MapInfo:
    """Render ``topology`` as a map and write it atomically to ``path`` (``.svg`` or ``.png``).

    Args:
        topology: the topology to draw.
        path: output file; the suffix picks the format.
        element_colors: optional colours for elements, keyed ``site:ID`` or ``link:ID``; a value is
            a matplotlib colour, or a number in [0, 1] (e.g. a criticality) mapped through a
            colour map with a colour bar.
        title: figure title; default: the topology's name and counts.

    Raises:
        InvalidInput: unsupported suffix, or an ``element_colors`` key naming no element.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"map output {str(path)!r}: unsupported file type {path.suffix or '(none)'!r}; "
            "allowed: .svg, .png", path=str(path))
    data, info = render_map(topology, fmt, element_colors=element_colors, title=title)
    write_atomic(path, data)
    log.info("map.written", path=str(path), format=fmt, bytes=len(data),
             sites=len(topology.sites), links=len(topology.links))
    return info


def render_map(
    topology: Topology, fmt: str = "svg", *,
    element_colors: Mapping[str, str | float] | None = None, title: str | None = None,
) -> tuple[bytes, MapInfo]:
    """The map as SVG or PNG bytes, and what it shows (see :func:`draw_topology_map`)."""
    colors = dict(element_colors or {})
    _check_element_keys(topology, colors)

    # Keep SVG text as text (searchable, and labels stay crisp when scaled).
    with rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig, info, titles = _render(topology, colors, title)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=160, bbox_inches="tight", pad_inches=0.15,
                    facecolor="white", metadata=_metadata(fmt))
    data = buf.getvalue()
    if fmt == "svg":
        svg = _element_groups(data.decode("utf-8"))
        data = _compact(_add_titles(svg, titles)).encode("utf-8")
    return data, info


def _metadata(fmt: str) -> dict[str, Any]:
    # Fixed metadata keeps output reproducible (no creation date in the file).
    return {"Date": None} if fmt == "svg" else {"Software": "georesil"}


def _check_element_keys(topology: Topology, colors: Mapping[str, str | float]) -> None:
    known = {f"site:{s}" for s in topology.sites} | {f"link:{k}" for k in topology.links}
    unknown = sorted(set(colors) - known)
    if unknown:
        raise InvalidInput(
            f"element_colors: unknown element(s) {', '.join(map(repr, unknown))}; keys are "
            "'site:ID' or 'link:ID' of this topology", field="element_colors", value=unknown[0])


#: Sites and links are drawn a collection at a time, each point or line linked to this
#: placeholder and its reference (matplotlib writes per-element links only in SVG).
_ELEMENT_URL = "#georesil-element="


def _element_url(ref: str) -> str:
    """The placeholder link of element ``ref`` (``site:ID``, ``link:ID~piece``)."""
    return _ELEMENT_URL + ref


def _element_groups(svg: str) -> str:
    """Turn each element's placeholder link ``<a xlink:href="#georesil-element=REF">…</a>``
    into its group ``<g id="REF">…</g>`` (the attribute already escaped by matplotlib)."""
    pattern = r'<a xlink:href="' + re.escape(_ELEMENT_URL) + r'([^"]+)"[^>]*>(.*?)</a>'
    return re.sub(pattern, lambda m: f'<g id="{m[1]}">{m[2]}</g>', svg, flags=re.S)


def _add_titles(svg: str, titles: Mapping[str, str]) -> str:
    """Give each ``<g id="site:…">`` / ``<g id="link:…">`` group a hover ``<title>``."""
    def insert(match: re.Match[str]) -> str:
        text = titles.get(html.unescape(match[1]).split("~")[0])
        return match[0] if text is None else f"{match[0]}\n   <title>{html.escape(text)}</title>"

    return re.sub(r'<g id="((?:site|link):[^"]+)"[^>]*>', insert, svg)


def _compact(svg: str) -> str:
    """A smaller SVG, drawn the same: shared marker definitions, coordinates to 0.1 px.

    matplotlib defines a marker shape once per scatter call (one per marker kind and size,
    :func:`_draw_sites`), so a map of sites of many sizes carries copies of a few shapes;
    identical ones are folded into the first. Path data and
    marker positions are rounded to a tenth of a pixel, below what a screen shows.
    """
    first: dict[tuple[str, str], str] = {}
    alias: dict[str, str] = {}

    def fold(match: re.Match[str]) -> str:
        key = (match[2], match[3])
        if key in first:
            alias[match[1]] = first[key]
            return ""
        first[key] = match[1]
        return match[0]

    svg = re.sub(r'<path id="(m[0-9a-f]+)" d="([^"]*)" style="([^"]*)"/>', fold, svg)
    svg = re.sub(r'xlink:href="#(m[0-9a-f]+)"',
                 lambda m: f'xlink:href="#{alias.get(m[1], m[1])}"', svg)
    svg = re.sub(r"<defs>\s*</defs>\s*", "", svg)

    def shorten(match: re.Match[str]) -> str:
        return re.sub(r"(-?\d+\.\d)\d+", r"\1", match[0])

    svg = re.sub(r'\sd="[^"]*"', shorten, svg)
    return re.sub(r'<use [^>]*>', shorten, svg)


# -- the scene ----------------------------------------------------------------------------------
@dataclass
class _Scene:
    """Everything placed on the map, in map coordinates."""
    frame: Frame
    pos: dict[str, tuple[float, float]]
    unlocated: set[str]
    strip: list[str]


def _scene(topology: Topology) -> _Scene:
    located = {s.id: (s.location.lon, s.location.lat)
               for s in topology.sites.values() if s.location is not None}
    points = list(located.values())
    points += [(p.lon, p.lat) for k in topology.links.values() for p in k.path]
    near_taiwan = make_frame(points).near_taiwan() if points else False
    frame = make_frame(points, with_taiwan=near_taiwan)
    pos = {s: (frame.x(lon), lat) for s, (lon, lat) in located.items()}
    placed, strip = place_unlocated(topology, frame, pos)
    if strip:  # room for a strip of sites that nothing located reaches, below the map
        height = frame.y1 - frame.y0
        frame = Frame(frame.lon0, frame.x0, frame.x1, frame.y0 - 0.12 * height, frame.y1)
        step = (frame.x1 - frame.x0) * 0.8 / max(len(strip), 1)
        for i, s in enumerate(strip):
            placed[s] = (frame.x0 + (frame.x1 - frame.x0) * 0.1 + (i + 0.5) * step,
                         frame.y0 + 0.05 * height)
    pos.update(placed)
    return _Scene(frame, pos, set(topology.sites) - set(located), strip)


def _render(
    topology: Topology, colors: dict[str, str | float], title: str | None
) -> tuple[Figure, MapInfo, dict[str, str]]:
    scene = _scene(topology)
    frame = scene.frame
    height = 10.0 if not frame.world else 7.5
    width = max(5.0, min(13.0, height * (frame.x1 - frame.x0) * frame.coslat
                         / (frame.y1 - frame.y0) + 0.6))
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.05, 0.9, 0.9))
    _setup_axes(ax, frame)
    basemap = _draw_land(ax, frame)
    resolve = _colour_resolver(colors)
    srlg_handles = _draw_links(ax, topology, scene, resolve)
    site_handles = _draw_sites(ax, topology, scene, resolve)
    ax.apply_aspect()
    corners = _corners_by_emptiness(ax, scene)
    legend = _draw_legend(ax, site_handles + srlg_handles, corners[0])
    furniture = _draw_scale_bar(ax, frame, corners[1]) + [_draw_north_arrow(ax, corners[1])]
    if scene.strip:
        ax.text(frame.x0 + (frame.x1 - frame.x0) * 0.02, frame.y0 + 0.02 * (frame.y1 - frame.y0),
                "not located, not linked to a located site:", fontsize=7, color="#5c6b73",
                va="bottom", zorder=6)
    if any(isinstance(v, (int, float)) for v in colors.values()):
        _draw_colorbar(fig, ax)
    ax.set_title(title or _default_title(topology), fontsize=12, loc="left", pad=10)
    labelled = _place_labels(ax, topology, scene, colors, avoid=[legend, *furniture])
    info = MapInfo(basemap, frame.projection, labelled, len(topology.sites),
                   len(scene.unlocated))
    return fig, info, _titles(topology, scene)


def _default_title(topology: Topology) -> str:
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    return (f"{topology.name}: {count(len(topology.sites), 'site')}, "
            f"{count(len(topology.links), 'link')}, {count(len(topology.srlgs), 'SRLG')}")


def _titles(topology: Topology, scene: _Scene) -> dict[str, str]:
    out = {}
    for site in topology.sites.values():
        where = (f"{site.location.lat:.3f}, {site.location.lon:.3f}" if site.location
                 else "no location (placed by layout)")
        name = f"{site.name} ({site.id})" if site.name else site.id
        out[f"site:{site.id}"] = f"{name} · region {site.region} · {where}"
    for link in topology.links.values():
        km = f" · {link.length_km:g} km" if link.length_km is not None else ""
        out[f"link:{link.id}"] = f"{link.id}: {link.a} — {link.b} · {link.kind.value}{km}"
    return out


def _setup_axes(ax: Axes, frame: Frame) -> None:
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect(frame.aspect)
    ax.set_facecolor(_SEA)
    ax.grid(color="white", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=7, colors="#555555", length=2)

    def lon_text(v: float, _pos: float) -> str:
        lon = ((v + 180.0) % 360.0) - 180.0
        return f"{lon:.1f}°E" if lon >= 0 else f"{-lon:.1f}°W"

    ax.xaxis.set_major_formatter(lon_text)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.1f}°N" if v >= 0 else f"{-v:.1f}°S")
    for spine in ax.spines.values():
        spine.set_edgecolor("#b8c4cc")


def _draw_land(ax: Axes, frame: Frame) -> str:
    """Draw the land under the map; returns what was drawn, in words."""
    taiwan = frame.near_taiwan()
    for poly in land_polygons():
        lons = [p[0] for p in poly[0]]
        lats = [p[1] for p in poly[0]]
        if max(lats) < frame.y0 or min(lats) > frame.y1:
            continue
        if taiwan and _inside_taiwan_box(lons, lats):
            continue  # Taiwan itself: drawn from the finer outline below
        for shift in (-720.0, -360.0, 0.0, 360.0, 720.0):
            if max(lons) + shift < frame.x0 or min(lons) + shift > frame.x1:
                continue
            verts: list[tuple[float, float]] = []
            codes: list[Any] = []
            for ring in poly:
                verts += [(x + shift, y) for x, y in ring]
                codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(ring) - 1)
            ax.add_patch(PathPatch(MplPath(verts, codes), facecolor=_LAND, edgecolor=_COAST,
                                   linewidth=0.6, zorder=1))
    if not taiwan:
        return "Natural Earth 1:110m"
    outline = [(frame.x(lon), lat) for lon, lat in taiwan_outline()]
    ax.fill(*zip(*outline, strict=True), facecolor=_LAND, edgecolor=_COAST, linewidth=0.8, zorder=1)
    return "Natural Earth 1:110m, Taiwan's coastline at 1:10m"


def _inside_taiwan_box(lons: Sequence[float], lats: Sequence[float]) -> bool:
    return min(lons) > 119.0 and max(lons) < 123.0 and min(lats) > 21.0 and max(lats) < 26.0


def _colour_resolver(colors: Mapping[str, str | float]) -> Any:
    cmap = colormaps[_CMAP]

    def resolve(key: str) -> Any:
        value = colors.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cmap(min(max(float(value), 0.0), 1.0))
        return value

    return resolve


# -- links --------------------------------------------------------------------------------------
def _draw_links(ax: Axes, topology: Topology, scene: _Scene, resolve: Any) -> list[Any]:
    srlg_color = {g: _SRLG_COLORS[i % len(_SRLG_COLORS)] for i, g in enumerate(topology.srlgs)}
    lines: list[tuple[np.ndarray, Any, Any, float, str]] = []
    for link, offset_km in _parallel_offsets(topology):
        width = _link_width(link)
        guessed = link.a in scene.unlocated or link.b in scene.unlocated
        style = _UNLOCATED_LINK if guessed else _LINK_STYLE[link.kind.value]
        for n, piece in enumerate(_link_pieces(topology, link, scene)):
            xs, ys = _offset_polyline(piece, offset_km, scene.frame)
            # A link cut at the seam is drawn in pieces; ids stay unique ("~" is not in ids).
            ref = f"link:{link.id}" + (f"~{n}" if n else "")
            for depth, group in enumerate(link.srlg):
                ax.plot(xs, ys, color=srlg_color[group], alpha=0.45,
                        linewidth=width + 5 + 3 * depth, solid_capstyle="round",
                        zorder=2 - 0.01 * depth)
            lines.append((np.column_stack([xs, ys]),
                          resolve(f"link:{link.id}") or style["color"], style["linestyle"],
                          width, ref))
    _draw_lines(ax, lines)
    if len(topology.links) <= MAX_LABELS:
        _label_long_links(ax, topology, scene)
    handles = []
    for kind in dict.fromkeys(k.kind.value for k in topology.links.values()):
        style = _LINK_STYLE[kind]
        handles.append(Line2D([], [], color=style["color"], linestyle=style["linestyle"],
                              linewidth=1.8, label=f"{kind} link"))
    for group, members in topology.srlgs.items():
        handles.append(Line2D([], [], color=srlg_color[group], alpha=0.45, linewidth=7,
                              label=f"SRLG {group} ({len(members)})"))
    return handles


def _draw_lines(ax: Axes, lines: Sequence[tuple[np.ndarray, Any, Any, float, str]]) -> None:
    """Draw links as two collections (solid lines with round caps, dashed ones with butt caps,
    as a line's defaults are), each line linked to its element's placeholder
    (:func:`_element_groups`): one artist per link would take seconds to draw at 1,000 links.
    """
    for solid in (True, False):
        chosen = [line for line in lines if (line[2] == "-") == solid]
        if not chosen:
            continue
        collection = LineCollection(
            [line[0] for line in chosen], colors=[line[1] for line in chosen],
            linestyles=[line[2] for line in chosen], linewidths=[line[3] for line in chosen],
            capstyle="round" if solid else "butt", joinstyle="round", zorder=3)
        collection.set_urls([_element_url(line[4]) for line in chosen])
        ax.add_collection(collection, autolim=False)


def _link_pieces(
    topology: Topology, link: LinkSpec, scene: _Scene
) -> list[list[tuple[float, float]]]:
    """The link in map coordinates: great circles through its waypoints, cut at the seam."""
    a, b = topology.sites[link.a].location, topology.sites[link.b].location
    if a is None or b is None:  # an end placed by the layout: a straight line on the map
        return [[scene.pos[link.a], scene.pos[link.b]]]
    stops = [(a.lon, a.lat), *((p.lon, p.lat) for p in link.path), (b.lon, b.lat)]
    points: list[tuple[float, float]] = [stops[0]]
    for p, q in zip(stops, stops[1:], strict=False):
        points += great_circle(p, q)[1:]
    return split_at_seam(points, scene.frame)


def _label_long_links(ax: Axes, topology: Topology, scene: _Scene) -> None:
    """Name the long links (a fifth of the map's height or more) at their middle."""
    min_km = (scene.frame.y1 - scene.frame.y0) * KM_PER_DEG / 5
    groups: dict[tuple[tuple[float, float], ...], list[LinkSpec]] = {}
    for link in topology.links.values():
        pieces = _link_pieces(topology, link, scene)
        longest = max(pieces, key=lambda p: _polyline_km(p, scene.frame))
        if _polyline_km(longest, scene.frame) >= min_km:
            groups.setdefault(tuple(longest), []).append(link)
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    taken = _Boxes()
    for points, links in groups.items():
        mid = _midpoint(points, scene.frame)
        style = _LINK_STYLE[links[0].kind.value]
        gbps = sorted({f"{k.bandwidth_gbps:g}G" for k in links if k.bandwidth_gbps})
        text = " + ".join(k.id for k in links) + (f"  ({', '.join(gbps)})" if gbps else "")
        label = ax.annotate(text, xy=mid, xytext=(6, 0), textcoords="offset points",
                            fontsize=6.5, fontstyle="italic", color=style["color"], ha="left",
                            va="center", zorder=4,
                            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white",
                                  "edgecolor": "none", "alpha": 0.7})
        box = label.get_window_extent(renderer)
        if taken.overlaps(box):  # two long links side by side: name the first only
            label.remove()
        else:
            taken.add(box)


def _polyline_km(points: Sequence[tuple[float, float]], frame: Frame) -> float:
    k = frame.coslat
    return sum(math.hypot((x1 - x0) * k, y1 - y0) * KM_PER_DEG
               for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False))


def _midpoint(points: Sequence[tuple[float, float]], frame: Frame) -> tuple[float, float]:
    """The point halfway along a polyline."""
    half, k = _polyline_km(points, frame) / 2, frame.coslat
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        step = math.hypot((x1 - x0) * k, y1 - y0) * KM_PER_DEG
        if step >= half and step > 0:
            t = half / step
            return x0 + t * (x1 - x0), y0 + t * (y1 - y0)
        half -= step
    return points[-1]


def _link_width(link: LinkSpec) -> float:
    gbps = link.bandwidth_gbps or 10.0
    return 0.9 + 0.45 * math.log10(max(gbps, 1.0))


def _parallel_offsets(topology: Topology) -> list[tuple[LinkSpec, float]]:
    """Each link with its sideways offset in km; parallel links share the gap evenly."""
    groups: dict[tuple[str, str], list[LinkSpec]] = {}
    for link in topology.links.values():
        pair = (link.a, link.b) if link.a <= link.b else (link.b, link.a)
        groups.setdefault(pair, []).append(link)
    out = []
    for pair, links in groups.items():
        for i, link in enumerate(links):
            offset = (i - (len(links) - 1) / 2) * _PARALLEL_SPACING_KM
            # Offsets are measured left of the pair's canonical direction.
            out.append((link, offset if link.a == pair[0] else -offset))
    return out


def _offset_polyline(
    points: Sequence[tuple[float, float]], offset_km: float, frame: Frame
) -> tuple[list[float], list[float]]:
    """Shift a polyline in map coordinates sideways by ``offset_km`` (left of its direction)."""
    if offset_km == 0:
        return [p[0] for p in points], [p[1] for p in points]
    k = frame.coslat
    xy = [(lon * k * KM_PER_DEG, lat * KM_PER_DEG) for lon, lat in points]
    normals = []
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        normals.append((-(y1 - y0) / length, (x1 - x0) / length))
    lons, lats = [], []
    for i, (x, y) in enumerate(xy):
        near = [normals[j] for j in (i - 1, i) if 0 <= j < len(normals)]
        nx, ny = sum(n[0] for n in near), sum(n[1] for n in near)
        norm = math.hypot(nx, ny) or 1.0
        lons.append((x + offset_km * nx / norm) / (k * KM_PER_DEG))
        lats.append((y + offset_km * ny / norm) / KM_PER_DEG)
    return lons, lats


# -- sites --------------------------------------------------------------------------------------
def _is_landing(site: SiteSpec) -> bool:
    return "cable-landing" in site.tags or "landing" in site.tags


def _draw_sites(ax: Axes, topology: Topology, scene: _Scene, resolve: Any) -> list[Any]:
    region_color = _region_colors(topology.regions)
    big = len(topology.sites) > 150
    # One scatter per marker shape and size, not one per site: 750 artists take seconds to
    # draw. Each point carries its site's placeholder link, which becomes the site's SVG
    # group; one size per scatter lets the SVG define the marker once and reuse it.
    kinds: dict[tuple[bool, bool, float], list[tuple[str, Any]]] = {}
    for site in topology.sites.values():
        power = site.capacity.power_mw or 0.0
        size = (70.0 if _is_landing(site) else 55.0 + 22.0 * power) * (0.45 if big else 1.0)
        color = resolve(f"site:{site.id}") or region_color[site.region]
        kind = (_is_landing(site), site.id in scene.unlocated, size)
        kinds.setdefault(kind, []).append((site.id, color))
    for (landing, hollow, size), members in kinds.items():
        colors = [c for _, c in members]
        points = ax.scatter([scene.pos[s][0] for s, _ in members],
                            [scene.pos[s][1] for s, _ in members],
                            s=size, marker="^" if landing else "o",
                            facecolors="white" if hollow else colors,
                            edgecolors=colors if hollow else "white",
                            linewidths=1.4 if hollow else (0.6 if big else 1.2),
                            linestyle="--" if hollow else "-", zorder=5)
        points.set_urls([_element_url(f"site:{s}") for s, _ in members])
    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, color=color,
                      markeredgecolor="white", label=f"{region} region")
               for region, color in region_color.items()]
    if any(_is_landing(s) for s in topology.sites.values()):
        handles.append(Line2D([], [], marker="^", linestyle="", markersize=8, color="#777777",
                              markeredgecolor="white", label="cable landing station"))
    if scene.unlocated:
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=8,
                              markerfacecolor="white", markeredgecolor="#5c6b73",
                              label="no location (placed by layout)"))
    return handles


def _region_colors(regions: Sequence[str]) -> dict[str, str]:
    spare = [c for c in _REGION_COLORS if c not in _NAMED_REGION_COLORS.values()]
    out: dict[str, str] = {}
    for region in regions:
        named = _NAMED_REGION_COLORS.get(region.lower())
        out[region] = named or spare[len([r for r in out if r.lower()
                                         not in _NAMED_REGION_COLORS]) % len(spare)]
    return out


def _site_summary(site: SiteSpec) -> str:
    c = site.capacity
    parts = []
    if c.power_mw is not None:
        parts.append(f"{c.power_mw:g} MW")
    if c.gpus:
        parts.append(f"{c.gpus:,} GPUs")
    if c.storage_pb:
        parts.append(f"{c.storage_pb:g} PB")
    if not parts and _is_landing(site):
        parts.append("cable landing")
    return " · ".join(parts)


# -- labels -------------------------------------------------------------------------------------
# Candidate offsets in points, nearest first: right, left, above, below, then diagonals, then
# further out with a leader line.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1), (-1, -1))
_DISTANCES = (9.0, 26.0, 46.0, 70.0)


def _importance(topology: Topology, colors: Mapping[str, str | float]) -> list[SiteSpec]:
    """Sites, most worth a label first: criticality, then capacity, then degree."""
    def key(site: SiteSpec) -> tuple[float, float, int, str]:
        value = colors.get(f"site:{site.id}")
        crit = float(value) if isinstance(value, (int, float)) else 0.0
        return (-crit, -(site.capacity.power_mw or 0.0), -topology.graph.degree(site.id),
                site.id)

    return sorted(topology.sites.values(), key=key)


def _place_labels(ax: Axes, topology: Topology, scene: _Scene,
                  colors: Mapping[str, str | float], avoid: Sequence[Any]) -> int:
    """Greedy placement: important sites first, each at the nearest free candidate.

    A small topology labels every site (forcing one where nothing is free); a large one
    labels at most :data:`MAX_LABELS`, skipping sites with no free spot. Returns the count.
    """

    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.apply_aspect()  # the draw shrinks the axes to the aspect: place labels where they end up
    taken = _Boxes()
    for artist in avoid:
        if isinstance(artist, Bbox):
            taken.add(artist)
        elif artist is not None:
            taken.add(artist.get_window_extent(renderer).expanded(1.02, 1.05))
    for x, y in scene.pos.values():
        taken.add_marker(ax, x, y)
    axes_box = ax.get_window_extent(renderer)
    small = len(topology.sites) <= MAX_LABELS
    count = 0
    for site in _importance(topology, colors):
        if count >= MAX_LABELS:
            break
        texts = _first_free(ax, site, scene, renderer, taken, axes_box)
        if texts is None and small:  # nothing free: accept an overlap, inside the map
            texts = _first_free(ax, site, scene, renderer, _Boxes(), axes_box) \
                or _label(ax, site, scene, 9.0, 0.0)
            taken.add(_union_box(texts, renderer))
        count += texts is not None
    return count


def _first_free(ax: Axes, site: SiteSpec, scene: _Scene, renderer: Any, taken: _Boxes,
                axes_box: Any) -> list[Any] | None:
    for dist in _DISTANCES:
        for dx, dy in _DIRECTIONS:
            texts = _label(ax, site, scene, dx * dist, dy * dist * 0.8)
            box = _union_box(texts, renderer)
            fits = axes_box.contains(box.x0, box.y0) and axes_box.contains(box.x1, box.y1)
            if fits and not taken.overlaps(box):
                taken.add(box.expanded(1.04, 1.1))
                return texts
            for t in texts:
                t.remove()
    return None


class _Boxes:
    """Display-space boxes already taken, checked for overlap in one vectorised step."""
    def __init__(self) -> None:
        self._rows: list[tuple[float, float, float, float]] = []
        self._array: np.ndarray | None = None

    def add(self, box: Any) -> None:
        self._rows.append((box.x0, box.y0, box.x1, box.y1))
        self._array = None

    def add_marker(self, ax: Axes, x: float, y: float) -> None:
        px, py = ax.transData.transform((x, y))
        r = 5.0 * ax.figure.dpi / 72
        self._rows.append((px - r, py - r, px + r, py + r))
        self._array = None

    def overlaps(self, box: Any) -> bool:
        if not self._rows:
            return False
        if self._array is None:
            self._array = np.array(self._rows)
        a = self._array
        return bool(np.any((a[:, 0] < box.x1) & (box.x0 < a[:, 2])
                           & (a[:, 1] < box.y1) & (box.y0 < a[:, 3])))


def _label(ax: Axes, site: SiteSpec, scene: _Scene, dx: float, dy: float) -> list[Any]:
    ha = "left" if dx > 0 else "right" if dx < 0 else "center"
    va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
    leader = None
    if math.hypot(dx, dy) > 12:
        leader = {"arrowstyle": "-", "color": "#6b6b6b", "linewidth": 0.6,
                  "shrinkA": 0, "shrinkB": 4}
    head = ax.annotate(site.id, xy=scene.pos[site.id], xytext=(dx, dy),
                       textcoords="offset points", ha=ha, va=va, fontsize=8.5,
                       fontweight="bold", color="#1e1e1e", zorder=7, arrowprops=leader,
                       bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                             "edgecolor": "none", "alpha": 0.75})
    texts = [head]
    summary = _site_summary(site)
    if summary:
        below = ax.annotate(summary, xy=(0.5 if ha == "center" else 0.0 if ha == "left" else 1.0,
                                         0.0), xycoords=head, xytext=(0, -1),
                            textcoords="offset points", ha=ha, va="top", fontsize=7,
                            color="#4a4a4a", zorder=7,
                            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white",
                                  "edgecolor": "none", "alpha": 0.6})
        texts.append(below)
    return texts


def _union_box(texts: Sequence[Any], renderer: Any) -> Any:
    boxes = []
    for t in texts:
        t.update_positions(renderer)
        # Text's own extent: an annotation's would include its leader line.
        boxes.append(Text.get_window_extent(t, renderer))
    return Bbox.union(boxes)


# -- furniture ----------------------------------------------------------------------------------
_CORNERS = ("lower right", "lower left", "upper left", "upper right")


def _corners_by_emptiness(ax: Axes, scene: _Scene) -> list[str]:
    """Corners of the map, those with the fewest sites in their outer quarter first."""
    fx0, fx1, fy0, fy1 = scene.frame.x0, scene.frame.x1, scene.frame.y0, scene.frame.y1
    counts = dict.fromkeys(_CORNERS, 0)
    for x, y in scene.pos.values():
        u, v = (x - fx0) / (fx1 - fx0), (y - fy0) / (fy1 - fy0)
        for corner in _CORNERS:
            right, upper = corner.endswith("right"), corner.startswith("upper")
            if (u > 0.68 if right else u < 0.32) and (v > 0.7 if upper else v < 0.3):
                counts[corner] += 1
    return sorted(_CORNERS, key=lambda c: (counts[c], _CORNERS.index(c)))


def _draw_legend(ax: Axes, handles: list[Any], corner: str) -> Any:
    if not handles:
        return None
    loc: Any = corner  # one of _CORNERS; matplotlib types loc as a Literal union
    return ax.legend(handles=handles, loc=loc, fontsize=7.5, frameon=True,
                     framealpha=0.92, edgecolor="#c8d0d6", borderpad=0.7, labelspacing=0.6,
                     title="Legend", title_fontsize=8)


def _nice_km(limit: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ km not above ``limit``."""
    exp = math.floor(math.log10(max(limit, 1e-3)))
    return max(m * 10.0 ** exp for m in (1, 2, 5) if m * 10.0 ** exp <= limit) \
        if limit >= 10.0 ** exp else 10.0 ** exp


def _draw_scale_bar(ax: Axes, frame: Frame, corner: str) -> list[Any]:
    """A scale bar (true at the map's middle latitude) in ``corner``; none on world maps."""
    if frame.world:
        return []
    length_km = _nice_km(frame.width_km / 5)
    dx = length_km / (KM_PER_DEG * frame.coslat)
    text = f"{length_km:g} km" if length_km >= 1 else f"{length_km * 1000:g} m"
    bar = AnchoredSizeBar(ax.transData, dx, text, corner, pad=0.6, borderpad=0.6,
                          sep=3, frameon=True, size_vertical=(frame.y1 - frame.y0) * 0.004,
                          color="#333333", fontproperties={"size": 7})
    bar.patch.set_alpha(0.8)
    bar.patch.set_edgecolor("none")
    ax.add_artist(bar)
    return [bar]


def _draw_north_arrow(ax: Axes, corner: str) -> Any:
    """A north arrow in ``corner`` (above or below the scale bar); returns its display box."""
    x = 0.04 if corner.endswith("left") else 0.96
    y0, y1 = (0.13, 0.2) if corner.startswith("lower") else (0.8, 0.87)
    ax.annotate("N", xy=(x, y1), xytext=(x, y0), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold", color="#333333",
                zorder=6, arrowprops={"arrowstyle": "-|>", "color": "#333333", "linewidth": 1.2})
    return Bbox(ax.transAxes.transform([(x - 0.025, y0 - 0.03), (x + 0.025, y1 + 0.01)]))


def _draw_colorbar(fig: Figure, ax: Axes) -> None:
    mappable = ScalarMappable(norm=Normalize(0, 1), cmap=colormaps[_CMAP])
    bar = fig.colorbar(mappable, ax=ax, fraction=0.035, pad=0.02, shrink=0.5)
    bar.set_label("criticality", fontsize=8)
    bar.ax.tick_params(labelsize=7)
