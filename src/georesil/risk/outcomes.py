"""What a trial's outcome is counted as: per-service columns, failure targets, the single table.

An evaluated trial gives, per service, down / breach / failover bits (the analysis kernel's
``PackedOutcome``). Counting uses *columns*: down, breach and failover per service, then
``tier-1`` (any tier-1 service down) when the topology has tier-1 services. Importance uses
*targets*: every service down, then ``tier-1``.

The **single table** holds the columns of the empty failure set and of every single site or
link failing — evaluated once per model, so that the many trials failing nothing or one
element are counted without the kernel (:mod:`georesil.risk.sparse`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.model.topology import Topology
from georesil.risk._bits import popcount, unpack

__all__ = ["TIER1", "FailureTargets", "outcome_columns", "single_outcomes", "target_bits",
           "target_columns", "tier1_target"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
#: Name of the "any tier-1 service down" target.
TIER1 = "tier-1"
_ONE = np.uint64(1)


@dataclass(frozen=True)
class FailureTargets:
    """What counts as a system failure: each service down, and any tier-1 service down.

    Attributes:
        names: Services in file order, then ``tier-1`` when there are tier-1 services.
        tier1_rows: Service rows of the tier-1 services.
    """

    names: tuple[str, ...]
    tier1_rows: I64

    @property
    def has_tier1(self) -> bool:
        return len(self.tier1_rows) > 0


def tier1_target(topology: Topology) -> FailureTargets:
    """FailureTargets: every service, then ``tier-1`` when the topology has tier-1 services."""
    services = tuple(topology.services)
    tier1 = np.array([i for i, s in enumerate(services) if topology.services[s].tier == 1],
                     dtype=np.int64)
    names = services + ((TIER1,) if len(tier1) else ())
    return FailureTargets(names, tier1)


def target_bits(targets: FailureTargets, down: U64) -> U64:
    """Packed failure bits per target, ``(n_targets, W)``, from per-service down bits."""
    if not targets.has_tier1:
        return down
    tier1 = np.bitwise_or.reduce(down[targets.tier1_rows], axis=0)
    return np.vstack([down, tier1[None, :]])


def outcome_columns(targets: FailureTargets, out: Any, mask: U64) -> I64:
    """Counts of an evaluated packed outcome under ``mask``, in table-column order."""
    n = out.down.shape[0]
    return np.concatenate([
        popcount(out.down, mask), popcount(out.breach, mask), popcount(out.failover, mask),
        popcount(target_bits(targets, out.down)[n:], mask),
    ])


def single_outcomes(
    compiled: Any, evaluate: Callable[..., Any], targets: FailureTargets
) -> npt.NDArray[np.uint8]:
    """Outcome columns of every single site or link failing, then of nothing failing.

    Returns:
        ``uint8 (n_elements + 1, n_columns)``: row e is element e (sites, then links) failing
        alone, the last row is no failure; columns as :func:`outcome_columns`.
    """
    n_sites, n_links = len(compiled.site_ids), len(compiled.link_ids)
    n = n_sites + n_links + 1
    n_words = (n + 63) // 64
    down = np.zeros((n - 1, n_words), dtype=np.uint64)
    idx = np.arange(n - 1)
    down[idx, idx >> 6] = _ONE << (idx & 63).astype(np.uint64)
    out = evaluate(compiled, down[:n_sites], down[n_sites:])
    n_svc = out.down.shape[0]
    rows = [out.down, out.breach, out.failover, target_bits(targets, out.down)[n_svc:]]
    return np.ascontiguousarray(unpack(np.vstack(rows), n).T, dtype=np.uint8)


def target_columns(targets: FailureTargets, columns: npt.NDArray[np.uint8]
                   ) -> npt.NDArray[np.uint8]:
    """The target columns (each service down, then ``tier-1``) of outcome columns."""
    n = (columns.shape[1] - int(targets.has_tier1)) // 3
    return np.concatenate([columns[:, :n], columns[:, 3 * n:]], axis=1)
