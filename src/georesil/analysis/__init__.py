"""Failure-injection analysis: impact semantics, SPOFs, cut sets, N-k, partitions, capacity.

Pure functions of a :class:`~georesil.model.Topology`. The compiled kernel
(:mod:`georesil.analysis.kernel`, numba) is imported only by the functions that sweep many
failure sets, so importing this package stays light.
"""

from __future__ import annotations

from georesil.analysis.impact import Impact, Overflow, ServiceImpact, Status, inject

__all__ = ["Impact", "Overflow", "ServiceImpact", "Status", "inject"]
