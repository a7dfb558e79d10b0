"""georesil: resilience and disaster-recovery orchestration for Taiwan's north and south.

The public API is small and curated; everything the CLI does is a call into it. Names are
imported lazily so that ``georesil --help`` does not pay for networkx and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

_LAZY = {
    "FailureSet": "georesil.model",
    "Topology": "georesil.model",
    "load_topology": "georesil.model",
    "topology_from_dict": "georesil.model",
    "GeoresilError": "georesil.errors",
    "InvalidInput": "georesil.errors",
    "InvalidTopology": "georesil.errors",
}

if TYPE_CHECKING:
    from georesil.errors import GeoresilError, InvalidInput, InvalidTopology
    from georesil.model import FailureSet, Topology, load_topology, topology_from_dict


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'georesil' has no attribute {name!r}")
