"""A network inventory as read from a file, before it becomes a topology.

Readers (:mod:`georesil.inventory.readers`) turn GML, GraphML and CSV into these records;
:func:`georesil.inventory.convert.inventory_to_topology` turns them into a topology document.
Nothing here is checked against the topology format yet: labels are whatever the file says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Inventory", "RawLink", "RawSite"]


@dataclass(frozen=True)
class RawSite:
    """One node of the inventory.

    Attributes:
        key: The node's key in the file (GML ``id``, GraphML node id, CSV ``id``); unique.
        label: Its human label (``None`` when the file gives none, or the text ``None``).
        ident: The text its topology id is made from, when not the label (a CSV ``id``).
        capacity: Resources given in the file (``power_mw``, ``gpus``, ``storage_pb``).
        lat: Latitude in degrees, or ``None`` when unknown.
        lon: Longitude in degrees, or ``None`` when unknown.
        attrs: Every other attribute, as text, keyed by the file's attribute name.
        where: Where it was read, for messages (``sites.csv:4``, ``node 12``).
    """

    key: str
    label: str | None
    lat: float | None = None
    lon: float | None = None
    attrs: Mapping[str, str] = field(default_factory=dict)
    where: str = ""
    ident: str | None = None
    capacity: Mapping[str, float] = field(default_factory=dict)

    @property
    def located(self) -> bool:
        return self.lat is not None and self.lon is not None

    def attr(self, name: str) -> str | None:
        """An attribute by name, ignoring case; ``None`` when absent or empty."""
        wanted = name.casefold()
        for key, value in self.attrs.items():
            if key.casefold() == wanted and value.strip():
                return value.strip()
        return None


@dataclass(frozen=True)
class RawLink:
    """One edge of the inventory, between two site keys.

    Attributes:
        a: Key of one end.
        b: Key of the other end.
        label: The link's own label or id, when the file gives one.
        kind: ``terrestrial``, ``submarine``, ``microwave`` or ``satellite`` when given.
        length_km: Length when the file gives it.
        bandwidth_gbps: Capacity when the file gives it.
        srlg: Shared-risk link groups when the file gives them.
        where: Where it was read, for messages.
    """

    a: str
    b: str
    label: str | None = None
    kind: str | None = None
    length_km: float | None = None
    bandwidth_gbps: float | None = None
    srlg: tuple[str, ...] = ()
    where: str = ""


@dataclass(frozen=True)
class Inventory:
    """Everything read from one inventory.

    Attributes:
        name: The network's name (from the file, else the file's stem).
        source: The file it came from, as given.
        format: ``gml``, ``graphml`` or ``csv``.
        sites: Nodes in file order.
        links: Edges in file order (parallel edges kept, self-loops included).
        warnings: What the reader had to skip or guess, one sentence each.
    """

    name: str
    source: str
    format: str
    sites: tuple[RawSite, ...]
    links: tuple[RawLink, ...]
    warnings: tuple[str, ...] = ()
