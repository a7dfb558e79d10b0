"""Read a network inventory from GML, GraphML or a pair of CSV files.

GML and GraphML go through networkx's parsers; node coordinates are read from ``Latitude`` /
``Longitude`` (the Internet Topology Zoo's names) or ``lat`` / ``lon`` (any case), the label
from ``label`` or ``name``. The CSV inventory is a directory (or its ``sites.csv``) holding
``sites.csv`` and ``links.csv``; docs/import.md lists the columns. Problems that make a file
unreadable are reported together with their file and line; problems the importer can work
around (a coordinate out of range, one of lat/lon missing) become warnings.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from georesil._read import INVENTORY, read_text
from georesil.errors import InvalidInventory, Problem
from georesil.inventory.records import Inventory, RawLink, RawSite
from georesil.model.schema import RESOURCES, LinkKind

__all__ = ["FORMATS", "detect_format", "read_inventory", "parse_gml", "parse_graphml"]

#: Inventory formats ``georesil import --format`` accepts.
FORMATS = ("gml", "graphml", "csv")

_LAT_KEYS = ("latitude", "lat")
_LON_KEYS = ("longitude", "lon", "lng", "long")
_LABEL_KEYS = ("label", "name")
#: CSV column names and the aliases spreadsheets and DCIM exports use for them.
SITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "site", "site_id", "code"),
    "name": ("name", "label", "site_name"),
    "lat": _LAT_KEYS,
    "lon": _LON_KEYS,
    "power_mw": ("power_mw", "mw"),
    "gpus": ("gpus",),
    "storage_pb": ("storage_pb", "pb"),
}
LINK_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "link", "link_id", "circuit", "circuit_id"),
    "a": ("a", "site_a", "a_end", "from", "source"),
    "b": ("b", "site_b", "b_end", "to", "target"),
    "kind": ("kind", "type", "medium"),
    "length_km": ("length_km", "km", "length"),
    "bandwidth_gbps": ("bandwidth_gbps", "gbps", "capacity_gbps"),
    "srlg": ("srlg", "srlgs", "conduit"),
}


def detect_format(path: Path) -> str | None:
    """The format a path's name suggests (a directory is a CSV inventory), or ``None``."""
    if path.is_dir():
        return "csv"
    return {".gml": "gml", ".graphml": "graphml", ".xml": "graphml",
            ".csv": "csv"}.get(path.suffix.lower())


def read_inventory(path: str | Path, fmt: str | None = None) -> Inventory:
    """Read an inventory file (``fmt`` from the name when ``None``).

    Raises:
        InvalidInventory: the file cannot be read or parsed, or the format is unknown.
    """
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise InvalidInventory([Problem(str(path), None, None, "format",
                                        f"cannot tell the format from the name {path.name!r}; "
                                        "give --format gml, graphml or csv")], str(path))
    if fmt == "csv":
        return _read_csv(path)
    text = _read_text(path)
    parse = parse_gml if fmt == "gml" else parse_graphml
    return parse(text, str(path))


def _read_text(path: Path) -> str:
    """The file's UTF-8 text, within the input limits every georesil file is read with."""
    try:
        return read_text(path, INVENTORY)
    except FileNotFoundError:
        raise InvalidInventory([Problem(str(path), None, None, "", "no such file")],
                               str(path)) from None
    except OSError as exc:
        raise InvalidInventory([Problem(str(path), None, None, "",
                                        f"cannot read: {exc.strerror or exc}")], str(path)) from exc


# -- GML and GraphML ---------------------------------------------------------------------------
def parse_gml(text: str, source: str = "<gml>") -> Inventory:
    """An inventory from GML text (networkx's parser; nodes keyed by their ``id``).

    Raises:
        InvalidInventory: the text is not GML networkx can read.
    """
    try:
        graph = nx.parse_gml(text, label="id")
    except nx.NetworkXError as exc:
        if "duplicated" not in str(exc):
            raise _parse_error(source, "GML", exc) from exc
        # Parallel edges in a file that does not declare "multigraph 1": keep them.
        try:
            graph = nx.parse_gml(re.sub(r"graph\s*\[", "graph [ multigraph 1 ", text, count=1),
                                 label="id")
        except nx.NetworkXError as again:
            raise _parse_error(source, "GML", again) from again
    except (ValueError, IndexError, KeyError) as exc:  # networkx's tokenizer raises these too
        raise _parse_error(source, "GML", exc) from exc
    return graph_to_inventory(graph, source, "gml")


def parse_graphml(text: str, source: str = "<graphml>") -> Inventory:
    """An inventory from GraphML text (networkx's parser).

    Raises:
        InvalidInventory: the text is not GraphML networkx can read.
    """
    try:
        graph = nx.parse_graphml(text, force_multigraph=True)
    except (nx.NetworkXError, ValueError, KeyError) as exc:
        raise _parse_error(source, "GraphML", exc) from exc
    except Exception as exc:  # the XML parser's own errors (ParseError) have no common base
        if type(exc).__name__ != "ParseError":
            raise
        raise _parse_error(source, "GraphML", exc) from exc
    return graph_to_inventory(graph, source, "graphml")


def _parse_error(source: str, what: str, exc: Exception) -> InvalidInventory:
    return InvalidInventory([Problem(source, None, None, "", f"not valid {what}: {exc}")], source)


def graph_to_inventory(graph: nx.Graph[Any], source: str, fmt: str) -> Inventory:
    """An inventory from a networkx graph whose nodes carry label and coordinate attributes."""
    warnings: list[str] = []
    sites = []
    for node, node_data in graph.nodes(data=True):
        attrs = {str(k): _text(v) for k, v in node_data.items()}
        where = f"node {node}"
        lat, lon = _coordinates(attrs, where, warnings)
        label = next((attrs[k] for k in attrs if k.casefold() in _LABEL_KEYS), None)
        sites.append(RawSite(str(node), _label(label), lat, lon, attrs, where))
    links = []
    edges: Iterable[tuple[Any, Any, Mapping[str, Any]]] = graph.edges(data=True)
    for i, (u, v, data) in enumerate(edges):
        attrs = {str(k).casefold(): _text(val) for k, val in data.items()}
        where = f"edge {i} ({u}--{v})"
        links.append(RawLink(
            str(u), str(v), label=attrs.get("id") or attrs.get("label"),
            kind=attrs.get("kind"), length_km=_number(attrs.get("length_km")),
            bandwidth_gbps=_gbps(attrs),
            srlg=_groups(attrs.get("srlg")), where=where))
    name = str(graph.graph.get("Network") or graph.graph.get("name") or Path(source).stem)
    return Inventory(name, source, fmt, tuple(sites), tuple(links), tuple(warnings))


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _label(text: str | None) -> str | None:
    """A label, or ``None`` for the placeholders graph tools write for unnamed nodes."""
    if text is None or text.strip() in ("", "None", "none", "null", "NULL"):
        return None
    return text.strip()


def _number(text: str | None) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _gbps(attrs: Mapping[str, str]) -> float | None:
    given = _number(attrs.get("bandwidth_gbps"))
    if given is not None:
        return given
    raw = _number(attrs.get("linkspeedraw"))  # the Topology Zoo's bits per second
    return raw / 1e9 if raw else None


def _groups(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(g.strip() for g in re.split(r"[;,|]", text) if g.strip())


def _coordinates(
    attrs: Mapping[str, str], where: str, warnings: list[str]
) -> tuple[float | None, float | None]:
    folded = {k.casefold(): v for k, v in attrs.items()}
    lat_text = next((folded[k] for k in _LAT_KEYS if k in folded), None)
    lon_text = next((folded[k] for k in _LON_KEYS if k in folded), None)
    lat, lon = _number(lat_text), _number(lon_text)
    if lat_text is None and lon_text is None:
        return None, None
    if lat is None or lon is None:
        warnings.append(f"{where}: latitude {lat_text!r} / longitude {lon_text!r} is not a "
                        "pair of numbers; the site is imported without a location")
        return None, None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        warnings.append(f"{where}: latitude {lat:g} / longitude {lon:g} is out of range "
                        "(-90..90, -180..180); the site is imported without a location")
        return None, None
    return lat, lon


# -- CSV ---------------------------------------------------------------------------------------
def _read_csv(path: Path) -> Inventory:
    sites_path = path / "sites.csv" if path.is_dir() else path
    links_path = sites_path.with_name("links.csv")
    problems: list[Problem] = []
    warnings: list[str] = []
    site_rows = _csv_rows(sites_path, SITE_COLUMNS, ("id",), problems)
    link_rows = _csv_rows(links_path, LINK_COLUMNS, ("a", "b"), problems)
    sites = _csv_sites(site_rows, str(sites_path), problems, warnings)
    links = _csv_links(link_rows, str(links_path), {s.key for s in sites}, problems)
    if problems:
        raise InvalidInventory(problems, str(sites_path))
    name = (path if path.is_dir() else path.parent).resolve().name or "network"
    return Inventory(name, str(path), "csv", tuple(sites), tuple(links), tuple(warnings))


Row = tuple[int, dict[str, str], dict[str, str]]


def _csv_rows(
    path: Path, columns: Mapping[str, tuple[str, ...]], required: tuple[str, ...],
    problems: list[Problem],
) -> list[Row]:
    """Rows as (line, known columns by canonical name, every column by its header)."""
    try:
        text = _read_text(path).removeprefix("\ufeff")  # a spreadsheet's byte-order mark
    except InvalidInventory as exc:
        problems.extend(exc.problems)
        return []
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        problems.append(Problem(str(path), 1, None, "", "empty file; expected a header row"))
        return []
    folded = [h.strip().casefold() for h in header]
    index = {canon: next((folded.index(a) for a in aliases if a in folded), None)
             for canon, aliases in columns.items()}
    missing = [c for c in required if index[c] is None]
    if missing:
        problems.append(Problem(str(path), 1, None, "", f"no column {' or '.join(missing)!r}; "
                                f"header: {', '.join(header)}; expected columns: "
                                f"{', '.join(columns)}"))
        return []
    rows = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        cells = cells + [""] * (len(header) - len(cells))
        known = {c: cells[i].strip() for c, i in index.items() if i is not None}
        rows.append((line, known, {h.strip(): cells[i].strip() for i, h in enumerate(header)}))
    return rows


def _csv_sites(rows: list[Row], source: str, problems: list[Problem],
               warnings: list[str]) -> list[RawSite]:
    sites: list[RawSite] = []
    seen: dict[str, int] = {}
    for line, known, every in rows:
        key = known["id"]
        if not key:
            problems.append(Problem(source, line, None, "id", "empty site id"))
            continue
        if key in seen:
            problems.append(Problem(source, line, None, "id",
                                    f"duplicate site id {key!r}; first on line {seen[key]}"))
            continue
        seen[key] = line
        where = f"{source}:{line}"
        lat, lon = _coordinates({"lat": known.get("lat", ""), "lon": known.get("lon", "")}
                                if known.get("lat") or known.get("lon") else {}, where, warnings)
        label = _label(known.get("name")) or key
        capacity = {}
        for column in RESOURCES:
            text = known.get(column, "")
            value = _number(text)
            if text and (value is None or value < 0):
                problems.append(Problem(source, line, None, column,
                                        f"{text!r} is not a number ≥ 0"))
            elif value is not None:
                capacity[column] = value
        sites.append(RawSite(key, label, lat, lon, every, where, ident=key, capacity=capacity))
    return sites


def _csv_links(rows: list[Row], source: str, known_sites: set[str],
               problems: list[Problem]) -> list[RawLink]:
    kinds = [k.value for k in LinkKind]
    links = []
    for line, known, _every in rows:
        ok = True
        for end in ("a", "b"):
            if known[end] not in known_sites:
                problems.append(Problem(source, line, None, end,
                                        f"unknown site {known[end]!r}; it is not an id in "
                                        "sites.csv"))
                ok = False
        kind = known.get("kind", "").lower() or None
        if kind is not None and kind not in kinds:
            problems.append(Problem(source, line, None, "kind",
                                    f"unknown link kind {kind!r}; allowed: {', '.join(kinds)}"))
            ok = False
        numbers = {}
        for column in ("length_km", "bandwidth_gbps"):
            text = known.get(column, "")
            value = _number(text)
            if text and (value is None or value < 0):
                problems.append(Problem(source, line, None, column,
                                        f"{text!r} is not a number ≥ 0"))
                ok = False
            numbers[column] = value
        if ok:
            links.append(RawLink(known["a"], known["b"], label=known.get("id") or None,
                                 kind=kind, length_km=numbers["length_km"],
                                 bandwidth_gbps=numbers["bandwidth_gbps"],
                                 srlg=_groups(known.get("srlg")), where=f"{source}:{line}"))
    return links
