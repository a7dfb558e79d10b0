"""georesil: resilience and disaster-recovery orchestration for Taiwan's north and south.

The public API is small and curated; everything the CLI does is a call into it.
"""

from __future__ import annotations

from georesil.errors import GeoresilError, InvalidInput, InvalidTopology
from georesil.model import FailureSet, Topology, load_topology, topology_from_dict

__all__ = [
    "FailureSet",
    "GeoresilError",
    "InvalidInput",
    "InvalidTopology",
    "Topology",
    "__version__",
    "load_topology",
    "topology_from_dict",
]

__version__ = "0.1.0"
