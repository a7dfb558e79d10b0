"""Import a network inventory (GML, GraphML, CSV) as a topology: ``georesil import``.

``read_inventory`` reads a file into plain records, ``inventory_to_topology`` makes a valid
topology document of them (ids, regions, lengths, default failure data, a summary), and
``render_yaml`` writes it with comments that say what was inferred. See docs/import.md.
"""

from __future__ import annotations

from georesil.inventory.convert import (
    ImportResult,
    ImportSummary,
    inventory_to_topology,
    slug,
)
from georesil.inventory.readers import FORMATS, detect_format, read_inventory
from georesil.inventory.records import Inventory, RawLink, RawSite
from georesil.inventory.regions import RegionRule, parse_region_rule
from georesil.inventory.writer import render_yaml

__all__ = [
    "FORMATS",
    "ImportResult",
    "ImportSummary",
    "Inventory",
    "RawLink",
    "RawSite",
    "RegionRule",
    "detect_format",
    "inventory_to_topology",
    "parse_region_rule",
    "read_inventory",
    "render_yaml",
    "slug",
]
