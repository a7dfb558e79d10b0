"""Turn an :class:`~georesil.inventory.records.Inventory` into a valid topology document.

What the conversion does, in order:

* **ids** — each label is slugged (lower case, ASCII by Unicode decomposition, runs of other
  characters become ``-``, at most 63 characters) and made unique with ``-2``, ``-3``, …; the
  original label is kept as ``name``. Nodes without a label (or labelled ``None``) become
  ``node-KEY``.
* **links** — parallel links are kept (ids ``a--b``, ``a--b-2``, …); self-loops are dropped
  with a warning; ``length_km`` is the great-circle distance between located ends (real fibre
  routes are longer), the median of the computed lengths when an end has no location.
* **regions** — as the :class:`~georesil.inventory.regions.RegionRule` says.
* **failure data** — sites get :data:`SITE_DEFAULT_UNAVAILABILITY`; links keep no explicit data,
  so the defaults of their kind apply (:data:`georesil.hazards.elements.LINK_DEFAULTS`).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from georesil.hazards.elements import LINK_DEFAULTS, SITE_DEFAULT_MTTR_H
from georesil.hazards.geometry import great_circle_km
from georesil.inventory.records import Inventory, RawLink, RawSite
from georesil.inventory.regions import RegionRule, assign_regions
from georesil.model.schema import LinkKind, TopologyDoc

__all__ = [
    "SITE_DEFAULT_SOURCE",
    "SITE_DEFAULT_UNAVAILABILITY",
    "ImportResult",
    "ImportSummary",
    "inventory_to_topology",
    "slug",
]

#: Unavailability given to every imported site: the Uptime Institute's Tier III site
#: infrastructure availability, 99.982 % (1.6 h/yr) — a placeholder until the user knows better.
SITE_DEFAULT_UNAVAILABILITY = 1.8e-4
SITE_DEFAULT_SOURCE = ("unavailability 1.8e-4, the Uptime Institute's Tier III site "
                       "infrastructure (99.982 % available; docs/sources.md#uptime-tiers), "
                       f"repair {SITE_DEFAULT_MTTR_H:g} h [est.]")
_MAX_ID = 63
#: Where each kind's default failure data come from (docs/sources.md anchors).
_LINK_SOURCES = {"terrestrial": "docs/sources.md#fibre-cut-rates",
                 "submarine": "docs/sources.md#domestic-submarine-cables",
                 "microwave": "[est.]", "satellite": "[est.]"}


@dataclass(frozen=True)
class ImportSummary:
    """What the import did and inferred, and what is left for the user.

    Attributes:
        sites: Sites written.
        unlocated: Ids of sites without a location.
        links: Links written.
        parallel: Links that run beside another link between the same two sites.
        self_loops: Where each dropped self-loop was read.
        renamed: Sites whose id differs from their label.
        duplicate_labels: Labels used by more than one site, with their count.
        unnamed: Sites that had no label.
        regions: Sites per region (``unassigned`` for none).
        region_rule: How the regions were made, in words.
        assumed_length: Links whose length is the median (an end has no location).
        no_length: Links with no length at all (no located link to take a median from).
        zero_length: Links whose two ends are at the same point.
        kinds: Link kinds present, in order of first appearance.
        long_terrestrial: Links over 1,000 km whose kind the inventory did not give.
        warnings: Everything the reader or the conversion had to skip or guess.
    """

    sites: int
    unlocated: tuple[str, ...]
    links: int
    parallel: int
    self_loops: tuple[str, ...]
    renamed: int
    duplicate_labels: dict[str, int]
    unnamed: int
    regions: dict[str, int]
    region_rule: str
    assumed_length: tuple[str, ...]
    no_length: tuple[str, ...]
    zero_length: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    long_terrestrial: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def inferred(self) -> list[str]:
        """Sentences: what the importer made up or changed."""
        out = [f"{_n(self.sites, 'site')} ({self.sites - len(self.unlocated)} with a location, "
               f"{len(self.unlocated)} without), {_n(self.links, 'link')} "
               f"({self.parallel} parallel)"]
        ids = [f"{self.renamed} slugged from their label (the label kept as name)"
               if self.renamed else "",
               f"{_n(self.unnamed, 'unlabelled site')} named node-KEY" if self.unnamed else "",
               f"{_n(len(self.duplicate_labels), 'repeated label')} made unique with -2, -3, …"
               if self.duplicate_labels else ""]
        if any(ids):
            out.append("ids: " + "; ".join(i for i in ids if i))
        if self.self_loops:
            where = ", ".join(self.self_loops[:5]) + (" …" if len(self.self_loops) > 5 else "")
            out.append(f"{_n(len(self.self_loops), 'self-loop')} dropped ({where})")
        out.append("regions: " + self.region_rule + "; sites per region: "
                   + ", ".join(f"{r} {n}" for r, n in sorted(self.regions.items())))
        out.append("lengths: great-circle distance between the ends (fibre routes are longer)"
                   + (f"; the median length for {_n(len(self.assumed_length), 'link')} with an "
                      "end without a location" if self.assumed_length else ""))
        if self.long_terrestrial:
            out.append(f"{_n(len(self.long_terrestrial), 'link')} of over 1,000 km taken as "
                       "terrestrial (the inventory gives no kind): set kind: submarine where "
                       "they cross the sea (" + ", ".join(self.long_terrestrial[:4])
                       + (" …" if len(self.long_terrestrial) > 4 else "") + ")")
        out.append(f"failure data: sites {SITE_DEFAULT_SOURCE}; links the default of their kind "
                   f"({_link_default_text(self.kinds)})")
        return out

    def to_fill_in(self) -> list[str]:
        """Sentences: what the user should still give."""
        out = ["services (replicas, RTO/RPO): without them, analyze reports network-level "
               "findings only",
               "zones (power grids, conduits, flood areas) and SRLGs (shared ducts)",
               "capacities (power_mw, gpus, storage_pb) and endpoints"]
        if self.unlocated:
            out.append(f"locations of {_n(len(self.unlocated), 'site')}: "
                       + ", ".join(self.unlocated[:6]) + (" …" if len(self.unlocated) > 6 else ""))
        if self.no_length or self.zero_length:
            ids = [*self.no_length, *self.zero_length]
            out.append(f"length_km of {_n(len(ids), 'link')} that would otherwise never fail: "
                       + ", ".join(ids[:6]) + (" …" if len(ids) > 6 else ""))
        if "unassigned" in self.regions and len(self.regions) > 1:
            out.append(f"regions of {_n(self.regions['unassigned'], 'unassigned site')}")
        out.append("real failure data in place of the defaults")
        return out


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ImportResult:
    """A converted inventory: the topology document, its summary, and per-element notes.

    Attributes:
        doc: The topology, valid by construction.
        summary: What was done and what is left to do.
        notes: A short comment per element (``site:ID`` / ``link:ID``) for the written file.
    """

    doc: TopologyDoc
    summary: ImportSummary
    notes: dict[str, str]


def slug(text: str) -> str:
    """A topology id from free text: ``"São Paulo (GRU) #2"`` → ``"sao-paulo-gru-2"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower())
    out = re.sub(r"-{2,}", "-", out).strip("-._")
    return out[:_MAX_ID].rstrip("-._")


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        taken.add(base)
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[:_MAX_ID - len(suffix)].rstrip("-._") + suffix
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        n += 1


def _link_default_text(kinds: Sequence[str]) -> str:
    parts = []
    for kind in kinds or [LinkKind.TERRESTRIAL.value]:
        d = LINK_DEFAULTS[LinkKind(kind)]
        rate = (f"{d.rate_per_yr:g} cuts per 1000 km per year × length_km" if d.per_1000_km
                else f"{d.rate_per_yr:g} failures per year")
        parts.append(f"{kind}: {rate}, repair {d.mttr_h:g} h ({_LINK_SOURCES[kind]})")
    return "; ".join(parts)


def inventory_to_topology(inventory: Inventory, rule: RegionRule) -> ImportResult:
    """Convert an inventory into a topology document (see the module docstring)."""
    taken: set[str] = set()
    ids: dict[str, str] = {}
    unnamed = 0
    for site in inventory.sites:
        text = site.ident or site.label
        base = slug(text) if text else ""
        if not base:
            unnamed += site.label is None
            base = slug(f"node-{site.key}") or "node"
        ids[site.key] = _unique(base, taken)
    regions, rule_text = assign_regions(inventory.sites, rule)
    sites = [_site_record(s, ids[s.key], r) for s, r in zip(inventory.sites, regions, strict=True)]
    warnings = list(inventory.warnings)
    links, notes, lengths = _link_records(inventory, ids, warnings)
    doc = TopologyDoc.model_validate({
        "version": 1, "name": slug(inventory.name) or "imported",
        "description": f"Imported from {inventory.source} ({inventory.format})",
        "sites": sites, "links": links,
    })
    labels = Counter(s.label for s in inventory.sites if s.label)
    summary = ImportSummary(
        sites=len(sites),
        unlocated=tuple(ids[s.key] for s in inventory.sites if not s.located),
        links=len(links), parallel=_parallel(links),
        self_loops=tuple(k.where for k in inventory.links if k.a == k.b),
        renamed=sum(1 for s in inventory.sites
                    if (s.ident or s.label) and ids[s.key] != (s.ident or s.label)),
        duplicate_labels={k: n for k, n in labels.items() if n > 1},
        unnamed=unnamed,
        regions=dict(Counter(r or "unassigned" for r in regions)),
        region_rule=rule_text,
        assumed_length=lengths["assumed"], no_length=lengths["none"],
        zero_length=lengths["zero"],
        kinds=tuple(dict.fromkeys(str(k["kind"]) for k in links)),
        long_terrestrial=tuple(
            str(k["id"]) for k, raw in zip(links, _kept(inventory), strict=True)
            if raw.kind is None and float(str(k.get("length_km", 0))) > 1000.0),
        warnings=tuple(warnings),
    )
    for s in inventory.sites:
        if not s.located:
            notes[f"site:{ids[s.key]}"] = "no location in the inventory"
    return ImportResult(doc, summary, notes)


def _site_record(site: RawSite, ident: str, region: str | None) -> dict[str, object]:
    record: dict[str, object] = {"id": ident}
    if site.label and site.label != ident:
        record["name"] = site.label
    if region is not None:
        record["region"] = region
    if site.located:
        record["location"] = {"lat": site.lat, "lon": site.lon}
    if site.capacity:
        record["capacity"] = {k: int(v) if k == "gpus" else v for k, v in site.capacity.items()}
    record["unavailability"] = SITE_DEFAULT_UNAVAILABILITY
    record["mttr_h"] = SITE_DEFAULT_MTTR_H
    return record


def _link_records(
    inventory: Inventory, ids: dict[str, str], warnings: list[str]
) -> tuple[list[dict[str, object]], dict[str, str], dict[str, tuple[str, ...]]]:
    where = {s.key: s for s in inventory.sites}
    taken: set[str] = set()
    records: list[dict[str, object]] = []
    notes: dict[str, str] = {}
    unmeasured: list[dict[str, object]] = []
    zero: list[str] = []
    computed: list[float] = []
    for raw in inventory.links:
        if raw.a == raw.b:
            warnings.append(f"{raw.where}: self-loop on {ids[raw.a]!r} dropped (a link needs "
                            "two different sites)")
            continue
        a, b = ids[raw.a], ids[raw.b]
        base = slug(raw.label) if raw.label else ""
        record: dict[str, object] = {
            "id": _unique(base or f"{a[:29]}--{b[:29]}", taken), "a": a, "b": b}
        record["kind"] = _kind(raw, warnings)
        length = raw.length_km
        if length is None:
            length = _great_circle(where[raw.a], where[raw.b])
            if length is not None:
                computed.append(length)
        if length is None:
            unmeasured.append(record)
        else:
            record["length_km"] = round(length, 1)
            if record["length_km"] == 0:
                zero.append(str(record["id"]))
        if raw.bandwidth_gbps is not None:
            record["bandwidth_gbps"] = raw.bandwidth_gbps
        if raw.srlg:
            record["srlg"] = [slug(g) or "srlg" for g in raw.srlg]
        records.append(record)
    assumed: list[str] = []
    if computed:
        median = round(statistics.median(computed), 1)
        for record in unmeasured:
            record["length_km"] = median
            assumed.append(str(record["id"]))
            notes[f"link:{record['id']}"] = "assumed: median length (an end has no location)"
    none = [] if computed else [str(r["id"]) for r in unmeasured]
    return records, notes, {"assumed": tuple(assumed), "none": tuple(none), "zero": tuple(zero)}


def _kept(inventory: Inventory) -> list[RawLink]:
    """The inventory's links that became topology links (self-loops dropped), in order."""
    return [k for k in inventory.links if k.a != k.b]


def _kind(raw: RawLink, warnings: list[str]) -> str:
    kinds = [k.value for k in LinkKind]
    if raw.kind is None:
        return LinkKind.TERRESTRIAL.value
    if raw.kind.lower() in kinds:
        return raw.kind.lower()
    warnings.append(f"{raw.where}: unknown link kind {raw.kind!r} taken as terrestrial "
                    f"(allowed: {', '.join(kinds)})")
    return LinkKind.TERRESTRIAL.value


def _great_circle(a: RawSite, b: RawSite) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    return float(great_circle_km(a.lat, a.lon, b.lat, b.lon))


def _parallel(links: Sequence[dict[str, object]]) -> int:
    pairs = Counter(frozenset((str(k["a"]), str(k["b"]))) for k in links)
    return sum(n - 1 for n in pairs.values() if n > 1)

