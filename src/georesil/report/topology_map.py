"""Draw a topology as a map at real longitude/latitude (SVG or PNG).

The projection is equirectangular with the aspect corrected by ``cos(latitude)`` at the map's
centre, which is faithful to a few per cent over an island the size of Taiwan. Taiwan's
coastline (Natural Earth 1:10m, see ``georesil/data/README.md``) is drawn when the topology lies
near it. Sites are coloured by region, links styled by kind and drawn along their ``path``
waypoints; parallel links between the same two sites are offset side by side; members of each
shared-risk link group (SRLG) get a coloured halo.

matplotlib is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from georesil._atomic import write_atomic
from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from georesil.model import Topology
    from georesil.model.schema import LinkSpec, SiteSpec

__all__ = ["FORMATS", "draw_topology_map", "load_taiwan_outline"]

log = structlog.get_logger(__name__)

#: Output formats by file suffix.
FORMATS: dict[str, str] = {".svg": "svg", ".png": "png"}

_REGION_COLORS = ("#1f5fa8", "#2a9d8f", "#d1495b", "#8e5ea2", "#e9a03b", "#5c6b73", "#66a61e")
#: Well-known region labels keep their colour from map to map.
_NAMED_REGION_COLORS = {"north": "#1f5fa8", "central": "#2a9d8f", "south": "#d1495b",
                        "east": "#8e5ea2"}
_SRLG_COLORS = ("#f4a259", "#e56b9f", "#8fbf4d", "#b38bd9", "#f2d14f", "#6fc3df")
_LINK_STYLE: dict[str, dict[str, Any]] = {
    "terrestrial": {"color": "#3d3d3d", "linestyle": "-"},
    "submarine": {"color": "#1c6fb8", "linestyle": (0, (5, 3))},
    "microwave": {"color": "#7b4fa0", "linestyle": (0, (1, 1.6))},
    "satellite": {"color": "#b05a00", "linestyle": (0, (6, 2, 1, 2))},
}
_LAND, _COAST, _SEA = "#f3efe4", "#a29a89", "#e8f1f8"
_KM_PER_DEG = 111.195  # mean great-circle km per degree of latitude
_PARALLEL_SPACING_KM = 3.2
_CMAP = "YlOrRd"


@dataclass(frozen=True)
class _Frame:
    """The map's geographic window and its aspect correction."""

    lon0: float
    lon1: float
    lat0: float
    lat1: float

    @property
    def coslat(self) -> float:
        return math.cos(math.radians((self.lat0 + self.lat1) / 2))


def load_taiwan_outline() -> list[tuple[float, float]]:
    """Taiwan's main-island coastline as a closed ring of ``(lon, lat)`` points."""
    text = resources.files("georesil.data").joinpath("taiwan_outline.json").read_text("utf-8")
    return [(float(lon), float(lat)) for lon, lat in json.loads(text)]


def draw_topology_map(
    topology: Topology,
    path: str | Path,
    *,
    element_colors: Mapping[str, str | float] | None = None,
    title: str | None = None,
) -> None:
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
    colors = dict(element_colors or {})
    _check_element_keys(topology, colors)
    from matplotlib import rc_context

    # Keep SVG text as text (searchable, and labels stay crisp when scaled).
    with rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = _render(topology, colors, title)
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=160, bbox_inches="tight", pad_inches=0.15,
                    facecolor="white", metadata=_metadata(fmt))
    write_atomic(path, buf.getvalue())
    log.info("map.written", path=str(path), format=fmt, bytes=buf.getbuffer().nbytes,
             sites=len(topology.sites), links=len(topology.links))


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


# -- rendering ----------------------------------------------------------------------------------
def _render(topology: Topology, colors: dict[str, str | float], title: str | None) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    outline = load_taiwan_outline()
    frame = _frame(topology, outline)
    height = 10.0
    width = max(5.0, min(12.0, height * (frame.lon1 - frame.lon0) * frame.coslat
                         / (frame.lat1 - frame.lat0) + 0.6))
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.06, 0.05, 0.9, 0.9))
    _setup_axes(ax, frame)
    if _near_outline(topology, outline):
        ax.fill(*zip(*outline, strict=True), facecolor=_LAND, edgecolor=_COAST, linewidth=0.8,
                zorder=1)
    resolve = _colour_resolver(colors)
    srlg_handles = _draw_links(ax, topology, frame, resolve)
    site_handles = _draw_sites(ax, topology, resolve)
    legend = _draw_legend(ax, topology, site_handles, srlg_handles)
    _draw_scale_bar(ax, frame)
    _draw_north_arrow(ax)
    if any(isinstance(v, (int, float)) for v in colors.values()):
        _draw_colorbar(fig, ax)
    ax.set_title(title or _default_title(topology), fontsize=12, loc="left", pad=10)
    _place_labels(ax, topology, avoid=[legend])
    return fig


def _default_title(topology: Topology) -> str:
    def count(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    return (f"{topology.name}: {count(len(topology.sites), 'site')}, "
            f"{count(len(topology.links), 'link')}, {count(len(topology.srlgs), 'SRLG')}")


def _frame(topology: Topology, outline: Sequence[tuple[float, float]]) -> _Frame:
    points = [(s.location.lon, s.location.lat) for s in topology.sites.values()]
    points += [(p.lon, p.lat) for k in topology.links.values() for p in k.path]
    if _near_outline(topology, outline):
        points += list(outline)
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    lat_span = max(max(lats) - min(lats), 0.4)
    lon_span = max(max(lons) - min(lons), 0.4)
    lat_mid, lon_mid = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    # Room around the land for labels, the legend (lower right) and the scale bar.
    return _Frame(lon_mid - lon_span * 0.5 - 0.14 * lat_span, lon_mid + lon_span * 0.5
                  + 0.2 * lat_span, lat_mid - lat_span * 0.56, lat_mid + lat_span * 0.56)


def _near_outline(topology: Topology, outline: Sequence[tuple[float, float]]) -> bool:
    lon0, lon1 = min(p[0] for p in outline) - 1, max(p[0] for p in outline) + 1
    lat0, lat1 = min(p[1] for p in outline) - 1, max(p[1] for p in outline) + 1
    return any(lon0 <= s.location.lon <= lon1 and lat0 <= s.location.lat <= lat1
               for s in topology.sites.values())


def _setup_axes(ax: Axes, frame: _Frame) -> None:
    ax.set_xlim(frame.lon0, frame.lon1)
    ax.set_ylim(frame.lat0, frame.lat1)
    ax.set_aspect(1 / frame.coslat)
    ax.set_facecolor(_SEA)
    ax.grid(color="white", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=7, colors="#555555", length=2)
    ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.1f}°E" if v >= 0 else f"{-v:.1f}°W")
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:.1f}°N" if v >= 0 else f"{-v:.1f}°S")
    for spine in ax.spines.values():
        spine.set_edgecolor("#b8c4cc")


def _colour_resolver(colors: Mapping[str, str | float]) -> Any:
    from matplotlib import colormaps

    cmap = colormaps[_CMAP]

    def resolve(key: str) -> Any:
        value = colors.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return cmap(min(max(float(value), 0.0), 1.0))
        return value

    return resolve


# -- links --------------------------------------------------------------------------------------
def _draw_links(ax: Axes, topology: Topology, frame: _Frame, resolve: Any) -> list[Any]:
    from matplotlib.lines import Line2D

    srlg_color = {g: _SRLG_COLORS[i % len(_SRLG_COLORS)] for i, g in enumerate(topology.srlgs)}
    for link, offset_km in _parallel_offsets(topology):
        lons, lats = _offset_polyline(_link_points(topology, link), offset_km, frame)
        style = _LINK_STYLE[link.kind.value]
        width = _link_width(link)
        for depth, group in enumerate(link.srlg):
            ax.plot(lons, lats, color=srlg_color[group], alpha=0.45,
                    linewidth=width + 5 + 3 * depth, solid_capstyle="round",
                    zorder=2 - 0.01 * depth)
        ax.plot(lons, lats, color=resolve(f"link:{link.id}") or style["color"],
                linestyle=style["linestyle"], linewidth=width, solid_capstyle="round", zorder=3,
                gid=f"link:{link.id}")
    _label_long_links(ax, topology, frame)
    handles = []
    for kind in dict.fromkeys(k.kind.value for k in topology.links.values()):
        style = _LINK_STYLE[kind]
        handles.append(Line2D([], [], color=style["color"], linestyle=style["linestyle"],
                              linewidth=1.8, label=f"{kind} link"))
    for group, members in topology.srlgs.items():
        handles.append(Line2D([], [], color=srlg_color[group], alpha=0.45, linewidth=7,
                              label=f"SRLG {group} ({len(members)})"))
    return handles


def _label_long_links(ax: Axes, topology: Topology, frame: _Frame) -> None:
    """Name the long links (a fifth of the map's height or more) at their middle waypoint."""
    min_km = (frame.lat1 - frame.lat0) * _KM_PER_DEG / 5
    groups: dict[tuple[tuple[float, float], ...], list[LinkSpec]] = {}
    for link in topology.links.values():
        points = tuple(_link_points(topology, link))
        if _polyline_km(points, frame) >= min_km:
            groups.setdefault(points, []).append(link)
    for points, links in groups.items():
        mid = _midpoint(points, frame)
        style = _LINK_STYLE[links[0].kind.value]
        gbps = sorted({f"{k.bandwidth_gbps:g}G" for k in links if k.bandwidth_gbps})
        text = " + ".join(k.id for k in links) + (f"  ({', '.join(gbps)})" if gbps else "")
        ax.annotate(text, xy=mid, xytext=(6, 0), textcoords="offset points", fontsize=6.5,
                    fontstyle="italic", color=style["color"], ha="left", va="center", zorder=4,
                    bbox={"boxstyle": "round,pad=0.12", "facecolor": "white",
                          "edgecolor": "none", "alpha": 0.7})


def _polyline_km(points: Sequence[tuple[float, float]], frame: _Frame) -> float:
    k = frame.coslat
    return sum(math.hypot((x1 - x0) * k, y1 - y0) * _KM_PER_DEG
               for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False))


def _midpoint(points: Sequence[tuple[float, float]], frame: _Frame) -> tuple[float, float]:
    """The point halfway along a polyline."""
    half, k = _polyline_km(points, frame) / 2, frame.coslat
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        step = math.hypot((x1 - x0) * k, y1 - y0) * _KM_PER_DEG
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


def _link_points(topology: Topology, link: LinkSpec) -> list[tuple[float, float]]:
    a, b = topology.sites[link.a].location, topology.sites[link.b].location
    return [(a.lon, a.lat), *((p.lon, p.lat) for p in link.path), (b.lon, b.lat)]


def _offset_polyline(
    points: Sequence[tuple[float, float]], offset_km: float, frame: _Frame
) -> tuple[list[float], list[float]]:
    """Shift a lon/lat polyline sideways by ``offset_km`` (left of its direction)."""
    if offset_km == 0:
        return [p[0] for p in points], [p[1] for p in points]
    k = frame.coslat
    xy = [(lon * k * _KM_PER_DEG, lat * _KM_PER_DEG) for lon, lat in points]
    normals = []
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        normals.append((-(y1 - y0) / length, (x1 - x0) / length))
    lons, lats = [], []
    for i, (x, y) in enumerate(xy):
        near = [normals[j] for j in (i - 1, i) if 0 <= j < len(normals)]
        nx, ny = sum(n[0] for n in near), sum(n[1] for n in near)
        norm = math.hypot(nx, ny) or 1.0
        lons.append((x + offset_km * nx / norm) / (k * _KM_PER_DEG))
        lats.append((y + offset_km * ny / norm) / _KM_PER_DEG)
    return lons, lats


# -- sites --------------------------------------------------------------------------------------
def _is_landing(site: SiteSpec) -> bool:
    return "cable-landing" in site.tags or "landing" in site.tags


def _draw_sites(ax: Axes, topology: Topology, resolve: Any) -> list[Any]:
    from matplotlib.lines import Line2D

    region_color = _region_colors(topology.regions)
    for site in topology.sites.values():
        power = site.capacity.power_mw or 0.0
        size = 70.0 if _is_landing(site) else 55.0 + 22.0 * power
        ax.scatter([site.location.lon], [site.location.lat], s=size,
                   marker="^" if _is_landing(site) else "o",
                   color=resolve(f"site:{site.id}") or region_color[site.region],
                   edgecolors="white", linewidths=1.2, zorder=5, gid=f"site:{site.id}")
    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, color=color,
                      markeredgecolor="white", label=f"{region} region")
               for region, color in region_color.items()]
    if any(_is_landing(s) for s in topology.sites.values()):
        handles.append(Line2D([], [], marker="^", linestyle="", markersize=8, color="#777777",
                              markeredgecolor="white", label="cable landing station"))
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


def _place_labels(ax: Axes, topology: Topology, avoid: Sequence[Any]) -> None:
    """Greedy label placement: crowded sites first, each at the nearest free candidate."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    taken = [a.get_window_extent(renderer).expanded(1.02, 1.05) for a in avoid if a is not None]
    taken += [_marker_box(ax, s) for s in topology.sites.values()]
    axes_box = ax.get_window_extent(renderer)
    for site in _crowded_first(topology):
        texts = None
        for dist in _DISTANCES:
            for dx, dy in _DIRECTIONS:
                texts = _label(ax, site, dx * dist, dy * dist * 0.8)
                box = _union_box(texts, renderer)
                fits = (axes_box.contains(box.x0, box.y0) and axes_box.contains(box.x1, box.y1))
                if fits and not any(box.overlaps(t) for t in taken):
                    taken.append(box.expanded(1.04, 1.1))
                    break
                for t in texts:
                    t.remove()
                texts = None
            if texts is not None:
                break
        if texts is None:  # nothing free: accept the first candidate rather than drop a label
            texts = _label(ax, site, 9.0, 0.0)
            taken.append(_union_box(texts, renderer))


def _crowded_first(topology: Topology) -> list[SiteSpec]:
    sites = list(topology.sites.values())

    def neighbours(s: SiteSpec) -> int:
        return sum(1 for o in sites if o is not s and _km(s, o) < 60)

    return sorted(sites, key=lambda s: -neighbours(s))


def _km(a: SiteSpec, b: SiteSpec) -> float:
    lat = math.radians((a.location.lat + b.location.lat) / 2)
    dx = (a.location.lon - b.location.lon) * math.cos(lat)
    return math.hypot(dx, a.location.lat - b.location.lat) * _KM_PER_DEG


def _label(ax: Axes, site: SiteSpec, dx: float, dy: float) -> list[Any]:
    ha = "left" if dx > 0 else "right" if dx < 0 else "center"
    va = "bottom" if dy > 0 else "top" if dy < 0 else "center"
    leader = None
    if math.hypot(dx, dy) > 12:
        leader = {"arrowstyle": "-", "color": "#6b6b6b", "linewidth": 0.6,
                  "shrinkA": 0, "shrinkB": 4}
    head = ax.annotate(site.id, xy=(site.location.lon, site.location.lat), xytext=(dx, dy),
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
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    boxes = []
    for t in texts:
        t.update_positions(renderer)
        # Text's own extent: an annotation's would include its leader line.
        boxes.append(Text.get_window_extent(t, renderer))
    return Bbox.union(boxes)


def _marker_box(ax: Axes, site: SiteSpec) -> Any:
    from matplotlib.transforms import Bbox

    x, y = ax.transData.transform((site.location.lon, site.location.lat))
    r = 7.0 * ax.figure.dpi / 72
    return Bbox.from_extents(x - r, y - r, x + r, y + r)


# -- furniture ----------------------------------------------------------------------------------
def _draw_legend(ax: Axes, topology: Topology, site_handles: list[Any],
                 link_handles: list[Any]) -> Any:
    handles = site_handles + link_handles
    if not handles:
        return None
    return ax.legend(handles=handles, loc="lower right", fontsize=7.5, frameon=True,
                     framealpha=0.92, edgecolor="#c8d0d6", borderpad=0.7, labelspacing=0.6,
                     title="Legend", title_fontsize=8)


def _draw_scale_bar(ax: Axes, frame: _Frame) -> None:
    span_km = (frame.lat1 - frame.lat0) * _KM_PER_DEG
    length_km = next(v for v in (200, 100, 50, 20, 10, 5, 2, 1) if v <= span_km / 5)
    dlon = length_km / (_KM_PER_DEG * frame.coslat)
    x0 = frame.lon0 + (frame.lon1 - frame.lon0) * 0.05
    y0 = frame.lat0 + (frame.lat1 - frame.lat0) * 0.04
    height = (frame.lat1 - frame.lat0) * 0.006
    half = dlon / 2
    for i, color in enumerate(("#333333", "white")):
        ax.fill_between([x0 + i * half, x0 + (i + 1) * half], y0, y0 + height,
                        facecolor=color, edgecolor="#333333", linewidth=0.6, zorder=6)
    for frac, text in ((0, "0"), (0.5, f"{length_km / 2:g}"), (1, f"{length_km:g} km")):
        ax.text(x0 + frac * dlon, y0 + height * 1.8, text, ha="center", va="bottom",
                fontsize=7, color="#333333", zorder=6)


def _draw_north_arrow(ax: Axes) -> None:
    ax.annotate("N", xy=(0.06, 0.955), xytext=(0.06, 0.895), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold", color="#333333",
                arrowprops={"arrowstyle": "-|>", "color": "#333333", "linewidth": 1.2},
                zorder=6)


def _draw_colorbar(fig: Figure, ax: Axes) -> None:
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    mappable = ScalarMappable(norm=Normalize(0, 1), cmap=colormaps[_CMAP])
    bar = fig.colorbar(mappable, ax=ax, fraction=0.035, pad=0.02, shrink=0.5)
    bar.set_label("criticality", fontsize=8)
    bar.ax.tick_params(labelsize=7)
