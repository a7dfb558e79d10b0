"""Counting a chunk densely: every trial through the kernel.

When most trials fail two or more elements (site and link unavailabilities of 10⁻² on
hundreds of elements), the sparse path of :mod:`georesil.risk.sparse` would send nearly
every trial to the kernel anyway, after handling millions of (element, trial) pairs. Here the
draw is made straight into packed words (the same bits: :func:`~georesil.risk.sampler.
bernoulli_draw` with ``packed``), composed into site and link down bits word by word — the
power-zone backup levels hashed only in the words where their zone is out — and evaluated in
one kernel pass. Importance reads the few trials it needs (those where a target failed, and
the base sample) out of the words.

Cost per chunk: O(atoms × words) to compose, one kernel pass over all words, and
O(elements × trials of interest) for importance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.risk._bits import ALL_ONES, bits_at, census, popcount, rows_at, unpack, valid_mask
from georesil.risk.criticality import ImportanceInputs
from georesil.risk.outcomes import outcome_columns, target_bits
from georesil.risk.sampler import AtomAccess, PackedDraw
from georesil.risk.snapshot import SnapshotModel

__all__ = ["DENSE_FROM", "DenseChunk", "dense_chunk", "prefers_dense"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
#: Count densely when more than this share of trials fail two or more elements.
DENSE_FROM = 0.5


def prefers_dense(model: SnapshotModel) -> bool:
    """Whether most trials fail two or more elements (Poisson estimate from the own atoms)."""
    lam = float(model.p[model.site_atom].sum() + model.p[model.link_atom].sum())
    return 1.0 - math.exp(-lam) * (1.0 + lam) > DENSE_FROM


class _Composed:
    """A packed draw composed into per-element down words, keeping what importance needs."""

    def __init__(self, model: SnapshotModel, draw: PackedDraw, atoms: AtomAccess) -> None:
        n_words = draw.n_words
        where = np.full(draw.n_rows, -1, dtype=np.int64)
        where[draw.dense_rows] = np.arange(len(draw.dense_rows))

        def rows(ids: I64) -> U64:
            at = where[ids]
            if len(at) and at[0] >= 0 and np.array_equal(at, np.arange(at[0], at[0] + len(at))):
                return draw.dense[at[0]:at[0] + len(at)]  # drawn in this order: no copy
            out = np.zeros((len(ids), n_words), dtype=np.uint64)
            have = at >= 0
            out[have] = draw.dense[at[have]]
            return out

        self.own = rows(np.concatenate([model.site_atom, model.link_atom]))
        self.chains = rows(model.chain_atom)
        for r, (par, atom) in enumerate(zip(model.chain_parent.tolist(),
                                            model.chain_atom.tolist(), strict=True)):
            if par >= 0:  # a backup level: only where the zone is out
                self.chains[r] = _level(self.chains[par], atom, atoms)
        self.roots = np.flatnonzero(model.chain_parent < 0)
        live = np.logical_or.reduce(self.chains > 0, axis=1)
        n_sites = len(model.site_atom)
        self.made: list[tuple[int, int]] = [
            (t + offset, r)
            for offset, targets, chain in ((0, model.site_from, model.site_chain),
                                           (n_sites, model.link_from, model.link_chain))
            for t, r in zip(targets.tolist(), chain.tolist(), strict=True) if live[r]]
        self.down = self.own.copy() if self.made else self.own  # zones out: keep own bits
        self.by_zone = np.zeros(n_words, dtype=np.uint64)
        for elem, r in self.made:
            self.down[elem] |= self.chains[r]
            self.by_zone |= self.chains[r]


def _level(parent: U64, atom: int, atoms: AtomAccess) -> U64:
    out = np.zeros_like(parent)
    words = np.flatnonzero(parent)
    if len(words):
        trials = (words[:, None] * 64 + np.arange(64)).reshape(-1)
        bits = np.packbits(atoms.has(atom, trials).reshape(-1, 64), axis=1, bitorder="little")
        out[words] = parent[words] & bits.view(np.uint64).reshape(-1)
    return out


@dataclass(frozen=True)
class DenseChunk:
    """A chunk evaluated densely: its column tallies, and what importance reads from it.

    Attributes:
        tally: Column counts of the first ``n_valid`` trials (``outcome_columns`` order).
    """

    model: SnapshotModel
    comp: _Composed
    targets: U64
    atoms: AtomAccess
    tally: I64

    def inputs(self, n_imp: int, base: int) -> ImportanceInputs:
        """What importance needs of the first ``n_imp`` trials (``base`` of them forced)."""
        return _inputs(self.model, self.comp, self.targets, self.atoms, n_imp, base)


def dense_chunk(model: SnapshotModel, draw: PackedDraw, atoms: AtomAccess, n_valid: int
                ) -> DenseChunk:
    """The first ``n_valid`` trials of a chunk through the kernel, and their column tallies.

    The words past them (drawn, for the first trials not to depend on the run's length) are
    not evaluated.
    """
    comp = _Composed(model, draw, atoms)
    n_sites, n_words = len(model.site_atom), (n_valid + 63) // 64
    out = model.evaluate(model.compiled, comp.down[:n_sites, :n_words],
                         comp.down[n_sites:, :n_words])
    tally = outcome_columns(model.targets, out, valid_mask(n_valid, n_words))
    return DenseChunk(model, comp, target_bits(model.targets, out.down), atoms, tally)


def _inputs(model: SnapshotModel, comp: _Composed, targets: U64, atoms: AtomAccess,
            n_imp: int, base: int) -> ImportanceInputs:
    mask = valid_mask(n_imp, targets.shape[1])
    down = np.flatnonzero(unpack(np.bitwise_or.reduce(targets, axis=0) & mask, n_imp))
    own_trials, one, two = census(comp.down, n_imp)
    if comp.made:  # zones made failures: count the own atoms alone
        own_trials = popcount(comp.own, valid_mask(n_imp, comp.own.shape[1]))
    alone_trial = np.flatnonzero(unpack(one & ~two & ~comp.by_zone[:len(one)], n_imp))
    alone_elem = np.argmax(bits_at(comp.own, alone_trial), axis=0).astype(np.int64)
    event_trials = np.concatenate([own_trials, popcount(comp.chains[comp.roots],
                                                        valid_mask(n_imp, comp.own.shape[1]))])
    seen = np.union1d(down, np.arange(base))
    ptr, own_e = rows_at(comp.own, seen)  # grouped by trial: what importance sorts by
    elem, trial, event = [own_e], [np.repeat(seen, np.diff(ptr))], [own_e]
    if comp.made:  # zone-made failures: only in the trials where some zone made one
        made_elem, made_row = np.array(comp.made, dtype=np.int64).T
        zoned = seen[bits_at(comp.by_zone[None, :], seen)[0]]
        c, i = np.nonzero(bits_at(comp.chains[made_row], zoned))
        elem.append(made_elem[c])
        trial.append(zoned[i])
        event.append(model.chain_event[made_row[c]])
    elems, trials = np.concatenate(elem), np.concatenate(trial)
    if comp.made:  # an element failed by its own atom and a zone is one failure
        key = np.unique(elems * n_imp + trials)
        down_elem, down_trial = key // n_imp, key % n_imp
    else:
        down_elem, down_trial = elems, trials
    fail_s = np.zeros((n_imp, targets.shape[0]), dtype=bool)
    fail_s[seen] = bits_at(targets, seen).T
    zone_base = bits_at(comp.chains[comp.roots], np.arange(base))
    return ImportanceInputs(
        n_imp, n_imp - int(popcount(one, ALL_ONES)), event_trials, alone_trial, alone_elem, down,
        fail_s, elems, trials, np.concatenate(event), down_elem, down_trial, zone_base, base,
        atoms)
