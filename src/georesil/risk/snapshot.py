"""The snapshot failure model: independent binary *atoms* and how they compose into down bits.

At a random instant every stochastic input is one independent Bernoulli atom:

* ``site:X`` / ``link:Y`` — the element's own failure, with its steady-state unavailability
  (:mod:`georesil.hazards.elements`);
* ``zone:Z`` — the zone is in an outage (:mod:`georesil.hazards.zones`);
* ``zone:Z@<b>h`` — internal *level* atoms of a power zone: the outage has lasted past backup
  level b given that it lasted past the previous level, with probability exp(−Δb / D).

A site is down when its own atom is set, or when one of its zones is out and (power zones)
every level up to its backup is passed; a link when its own atom or one of its zones' outage
atoms is set. Importance measures force atoms; exact enumeration enumerates them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.analysis.kernel import CompiledTopology, compile_topology, evaluate_packed
from georesil.hazards.elements import element_reliabilities
from georesil.hazards.zones import zone_models
from georesil.model.topology import Topology
from georesil.risk._bits import pack_pairs
from georesil.risk._jit import load_numba
from georesil.risk.outcomes import FailureTargets, single_outcomes, target_bits, tier1_target

__all__ = ["SnapshotModel", "build_snapshot", "compose", "evaluate_down", "evaluate_sets"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SnapshotModel:
    """Atoms, their probabilities and composition, and the compiled topology to evaluate.

    Attributes:
        atoms: Atom names (``site:X``, ``link:Y``, ``zone:Z``, ``zone:Z@48h``).
        p: Probability of each atom.
        elements: Reported basic events (sites, links, zones) and their atom indices; event
            e < n_sites + n_links is element e's own failure, the others are zone outages.
        site_atom, link_atom: The own-failure atom of each site and link (file order).
        chain_parent, chain_atom: Zone chains: row r = row parent (all ones when −1) AND atom.
        chain_event: The zone event (index into ``elements``) of each chain row.
        site_from, site_chain, link_from, link_chain: Zone contributions (target row, chain row).
        compiled: The analysis kernel's compiled topology (importance prunes its
            evaluations on its graph: :mod:`georesil.risk.relevance`).
        service_ids: Services in file order.
        targets: Failure targets for counting and importance.
        single_table: Outcome of nothing and of each single element failing
            (:func:`georesil.risk.sparse.single_outcomes`).
        evaluate: ``evaluate(compiled, site_down, link_down)`` returning ``.down``, ``.breach``,
            ``.failover`` (the analysis kernel's ``evaluate_packed`` by default).
    """

    atoms: tuple[str, ...]
    p: npt.NDArray[np.float64]
    elements: tuple[str, ...]
    element_atom: I64
    site_atom: I64
    link_atom: I64
    chain_parent: I64
    chain_atom: I64
    chain_event: I64
    site_from: I64
    site_chain: I64
    link_from: I64
    link_chain: I64
    compiled: CompiledTopology
    service_ids: tuple[str, ...]
    targets: FailureTargets
    single_table: npt.NDArray[np.uint8]
    evaluate: Callable[..., Any] = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def lazy(self) -> npt.NDArray[np.bool_]:
        """Atoms drawn by hashing: the power-zone levels, which matter only during outages."""
        flag = np.zeros(len(self.atoms), dtype=bool)
        flag[self.chain_atom[self.chain_parent >= 0]] = True
        return flag

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)

    @property
    def n_elements(self) -> int:
        """Sites and links (the rows of the single table, before the empty set)."""
        return len(self.site_atom) + len(self.link_atom)

    @property
    def stochastic(self) -> I64:
        """Indices of atoms with 0 < p < 1."""
        return np.flatnonzero((self.p > 0) & (self.p < 1))


def build_snapshot(
    topology: Topology, evaluate: Callable[..., Any] | None = None,
    compile_fn: Callable[[Topology], CompiledTopology] | None = None,
) -> SnapshotModel:
    """The snapshot model of a topology, compiled for the analysis kernel.

    ``evaluate`` and ``compile_fn`` default to the analysis kernel's ``evaluate_packed`` and
    ``compile_topology``; tests pass a plain reference evaluator of the same interface.
    """
    evaluate = evaluate or _compiled_kernel
    compile_fn = compile_fn or compile_topology
    rel = element_reliabilities(topology)
    atoms = _AtomTable(list(rel), [r.unavailability for r in rel.values()])
    atoms.add_zones(topology)
    compiled = compile_fn(topology)
    targets = tier1_target(topology)
    table = single_outcomes(compiled, evaluate, targets)
    return SnapshotModel(
        atoms=tuple(atoms.names), p=np.array(atoms.probs, dtype=np.float64),
        elements=tuple(atoms.elements), element_atom=np.array(atoms.element_atom, np.int64),
        site_atom=np.arange(len(topology.sites), dtype=np.int64),
        link_atom=np.arange(len(topology.sites), len(rel), dtype=np.int64),
        chain_parent=np.array(atoms.parent, np.int64), chain_atom=np.array(atoms.chain, np.int64),
        chain_event=np.array(atoms.chain_event, np.int64),
        site_from=_col(atoms.site_pairs, 0), site_chain=_col(atoms.site_pairs, 1),
        link_from=_col(atoms.link_pairs, 0), link_chain=_col(atoms.link_pairs, 1),
        compiled=compiled, service_ids=tuple(topology.services),
        targets=targets, single_table=table, evaluate=evaluate,
    )


def _compiled_kernel(compiled: Any, site_down: U64, link_down: U64) -> Any:
    """The analysis kernel, always compiled (chunks are large: "auto" would interpret small
    topologies), with numba loaded by :func:`~georesil.risk._jit.load_numba` first — in
    whichever process evaluates (worker processes included)."""
    load_numba()
    return evaluate_packed(compiled, site_down, link_down, engine="numba")


class _AtomTable:
    """Atoms and zone chains as they are built (element atoms first, then per zone)."""

    def __init__(self, names: list[str], probs: list[float]) -> None:
        self.names, self.probs = names, probs
        self.elements, self.element_atom = list(names), list(range(len(names)))
        self.parent: list[int] = []
        self.chain: list[int] = []
        self.chain_event: list[int] = []
        self.site_pairs: list[tuple[int, int]] = []
        self.link_pairs: list[tuple[int, int]] = []

    def _atom(self, name: str, p: float, parent_row: int) -> int:
        self.names.append(name)
        self.probs.append(p)
        self.parent.append(parent_row)
        self.chain.append(len(self.names) - 1)
        self.chain_event.append(len(self.elements) - 1)
        return len(self.parent) - 1

    def add_zones(self, topology: Topology) -> None:
        site_ix = {s: i for i, s in enumerate(topology.sites)}
        link_ix = {k: i for i, k in enumerate(topology.links)}
        for zone in zone_models(topology):
            self.elements.append(f"zone:{zone.id}")
            self.element_atom.append(len(self.names))
            rows = [self._atom(f"zone:{zone.id}", zone.unavailability, -1)]
            backups, passes, site_level = zone.levels()
            for b, q in zip(backups, passes, strict=True):
                # a level that always passes adds no atom
                rows.append(self._atom(f"zone:{zone.id}@{b:g}h", q, rows[-1]) if q < 1.0
                            else rows[-1])
            self.site_pairs += [(site_ix[s], rows[lvl + 1])
                                for s, lvl in zip(zone.sites, site_level, strict=True)]
            self.link_pairs += [(link_ix[k], rows[0]) for k in zone.links]


def _col(pairs: list[tuple[int, int]], i: int) -> I64:
    return np.array([p[i] for p in pairs], dtype=np.int64)


def compose(model: SnapshotModel, bits: U64) -> tuple[U64, U64]:
    """Site and link down bits from atom bits (``uint64 (n_atoms, W)``)."""
    chains = np.empty((len(model.chain_atom), bits.shape[1]), dtype=np.uint64)
    for r, (par, atom) in enumerate(zip(model.chain_parent, model.chain_atom, strict=True)):
        chains[r] = bits[atom] if par < 0 else chains[par] & bits[atom]
    site_down = bits[model.site_atom]
    link_down = bits[model.link_atom]
    if len(model.site_from):
        np.bitwise_or.at(site_down, model.site_from, chains[model.site_chain])
    if len(model.link_from):
        np.bitwise_or.at(link_down, model.link_from, chains[model.link_chain])
    return site_down, link_down


def evaluate_sets(model: SnapshotModel, column: I64, elem: I64, n_columns: int) -> U64:
    """Packed target bits ``(n_targets, ⌈n_columns/64⌉)`` of failure sets given as pairs.

    Column c fails the elements ``elem[column == c]`` (pairs may repeat). One kernel pass.
    """
    n_words = max(1, (n_columns + 63) // 64)
    return evaluate_down(model, pack_pairs(elem, column, model.n_elements, n_words))


def evaluate_down(model: SnapshotModel, down: U64) -> U64:
    """Packed target bits ``(n_targets, W)`` of element down bits ``(n_elements, W)``."""
    n_sites = len(model.site_atom)
    out = model.evaluate(model.compiled, down[:n_sites], down[n_sites:])
    return target_bits(model.targets, out.down)
