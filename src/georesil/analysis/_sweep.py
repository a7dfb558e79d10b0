"""Evaluate every set of at most K base elements with the compiled kernel.

Sets of each size are enumerated in lexicographic order of element index (sites, then links,
in file order), packed 64 to a word and evaluated in chunks, and every outcome is kept. This
exhaustive sweep is the reference for the class sweep that ``analyze`` runs
(:mod:`georesil.analysis._class_sweep`); the tests compare their findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb

import numpy as np

from georesil.analysis.kernel import (
    CompiledTopology,
    compile_topology,
    evaluate_packed,
    pack_rows,
    unpack,
)
from georesil.errors import InvalidInput
from georesil.model import Topology

__all__ = ["EXHAUSTIVE_MAX_SETS", "Level", "Sweep", "colex_rank", "combinations", "count_sets",
           "sweep"]

#: Default largest number of failure sets one exhaustive sweep evaluates: the outcomes
#: are kept as booleans, 2 bytes per set and service (200 MB for 20 services), plus the sets
#: themselves (8·K bytes each), and take a few seconds to compute.
EXHAUSTIVE_MAX_SETS = 5_000_000
_BYTES_PER_SET_AND_SERVICE = 2
_CHUNK = 64 * 4096

Progress = Callable[[int, int], None]  # (done, total), for a progress bar


@dataclass(frozen=True)
class Level:
    """All sets of one size.

    Attributes:
        order: The set size k.
        combos: ``int64 (m, k)`` element indices, each row ascending, rows in lexicographic order.
        down: ``bool (n_services, m)``.
        breach: ``bool (n_services, m)``.
    """

    order: int
    combos: np.ndarray
    down: np.ndarray
    breach: np.ndarray


@dataclass(frozen=True)
class Sweep:
    """Outcomes of every set of 0..K base elements; ``levels[k]`` holds the sets of size k."""

    elements: tuple[str, ...]
    service_ids: tuple[str, ...]
    levels: tuple[Level, ...]

    def refs(self, row: np.ndarray) -> list[str]:
        """The sorted references of one set."""
        return sorted(self.elements[int(i)] for i in row)


def combinations(n: int, k: int) -> np.ndarray:
    """All k-subsets of range(n) as ``int64 (C(n, k), k)``, rows in lexicographic order.

    Notes:
        Built level by level: each (k-1)-subset ending in ``last`` is extended by every
        ``j > last``. O(C(n, k)·k) time and memory.
    """
    rows = np.zeros((1, 0), dtype=np.int64)
    for _ in range(k):
        last = rows[:, -1] if rows.shape[1] else np.full(len(rows), -1, dtype=np.int64)
        counts = n - 1 - last
        total = int(counts.sum())
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        nxt = np.repeat(last, counts) + 1 + (np.arange(total, dtype=np.int64) - starts)
        rows = np.column_stack([np.repeat(rows, counts, axis=0), nxt]) if total else \
            np.zeros((0, rows.shape[1] + 1), dtype=np.int64)
    return rows


def count_sets(n: int, max_order: int) -> int:
    """How many sets of 0..max_order elements there are among n."""
    return sum(comb(n, k) for k in range(max_order + 1))


def sweep(topology: Topology, max_order: int, ct: CompiledTopology | None = None,
          progress: Progress | None = None, max_sets: int = EXHAUSTIVE_MAX_SETS) -> Sweep:
    """Evaluate the empty set and every set of 1..max_order sites and links.

    Args:
        topology: The model.
        max_order: Largest set size K.
        ct: The compiled topology, if already built.
        progress: Called with (sets done, sets) after each chunk of sets.
        max_sets: The most sets to evaluate (a work and memory budget).

    Raises:
        InvalidInput: more than ``max_sets`` sets (``--max-sets`` lifts the limit).
    """
    elements = topology.elements
    total = count_sets(len(elements), max_order)
    if total > max_sets:
        raise InvalidInput(
            f"--max-order {max_order}: {total:,} failure sets of up to {max_order} of "
            f"{len(elements)} sites and links is more than --max-sets {max_sets:,} allows "
            f"(each set costs about {_BYTES_PER_SET_AND_SERVICE} bytes per service of memory "
            "and 0.5 µs); raise --max-sets, lower --max-order, or estimate deeper "
            "combinations with 'georesil simulate'",
            field="max_sets", value=total)
    ct = ct or compile_topology(topology)
    levels = []
    done = 0
    for k in range(max_order + 1):
        combos = combinations(len(elements), k)

        def advance(sets: int) -> None:
            nonlocal done
            done += sets
            if progress is not None:
                progress(done, total)

        down, breach = _evaluate_combos(ct, combos, advance)
        levels.append(Level(k, combos, down, breach))
    return Sweep(elements, ct.service_ids, tuple(levels))


def _evaluate_combos(ct: CompiledTopology, combos: np.ndarray, advance: Callable[[int], None]
                    ) -> tuple[np.ndarray, np.ndarray]:
    m = len(combos)
    down = np.zeros((ct.n_services, m), dtype=bool)
    breach = np.zeros((ct.n_services, m), dtype=bool)
    n_elem = ct.n_sites + ct.n_links
    for start in range(0, m, _CHUNK):
        part = combos[start : start + _CHUNK]
        if part.shape[1] == 0:  # the empty set: one trial with nothing down
            part = np.full((len(part), 1), -1, dtype=np.int64)
        packed = pack_rows(part, n_elem)
        out = evaluate_packed(ct, packed[: ct.n_sites], packed[ct.n_sites :])
        down[:, start : start + len(part)] = unpack(out.down, len(part))
        breach[:, start : start + len(part)] = unpack(out.breach, len(part))
        advance(len(part))
    return down, breach


def colex_rank(combos: np.ndarray) -> np.ndarray:
    """Colexicographic rank of each ascending row: ``sum_i C(c_i, i + 1)``."""
    m, k = combos.shape
    rank = np.zeros(m, dtype=np.int64)
    for i in range(k):
        rank += _binomial(combos[:, i], i + 1)
    return rank


def _binomial(n: np.ndarray, r: int) -> np.ndarray:
    out = np.ones(len(n), dtype=np.int64)
    for j in range(r):  # C(n, r) = prod (n - j) / (j + 1), exact at every step
        out = out * (n - j) // (j + 1)
    return np.where(n >= r, out, 0)
