"""Probabilistic risk: packed sampling, the snapshot engine, exact enumeration, annual risk.

The compiled kernel (numba) and dask are imported only by the functions that run trials, so
importing this package stays light.
"""

from __future__ import annotations

from georesil.risk.annual import AnnualResult, simulate_years
from georesil.risk.engine import LocalEngine, SnapshotResult, simulate_snapshot
from georesil.risk.exact import exact_snapshot
from georesil.risk.importance import Importance
from georesil.risk.outcomes import TIER1
from georesil.risk.quake import inject_quake, parse_quake

__all__ = [
    "TIER1",
    "AnnualResult",
    "Importance",
    "LocalEngine",
    "SnapshotResult",
    "exact_snapshot",
    "inject_quake",
    "parse_quake",
    "simulate_snapshot",
    "simulate_years",
]
