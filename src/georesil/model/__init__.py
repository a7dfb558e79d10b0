"""The topology model: schema, loading with line-accurate errors, and ``Topology``."""

from __future__ import annotations

from georesil.model.loader import (
    default_topology_path,
    load_topology,
    parse_topology,
    topology_from_dict,
)
from georesil.model.schema import RESOURCES, TopologyDoc
from georesil.model.topology import CONTROL_NAME, ControlPlacement, FailureSet, Topology

__all__ = [
    "CONTROL_NAME",
    "RESOURCES",
    "ControlPlacement",
    "FailureSet",
    "Topology",
    "TopologyDoc",
    "default_topology_path",
    "load_topology",
    "parse_topology",
    "topology_from_dict",
]
