"""Counting a chunk from sparse draws: most trials fail nothing, or a single element.

Real elements fail with probabilities of 10^−5…10^−3, so in most trials nothing is down and
in most of the rest exactly one element is. The outcomes of those cases do not depend on the
trial: the model holds a table with the kernel's outcome for the empty failure set and for
each single site or link (:func:`georesil.risk.outcomes.single_outcomes`). Here a chunk's
draws are turned into (element, trial) failure pairs — each with the basic event that caused
it, for the importance measures — without materialising the dense ``(atoms × words)`` array;
trials with 0 or 1 failed elements are counted from the table, and only the trials with two
or more are packed densely and evaluated by the kernel.

The counts are exactly those of evaluating every trial (a test checks it chunk by chunk).
Cost per chunk: O(failure pairs) plus one kernel evaluation of the multi-failure trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.risk._bits import pack_pairs, valid_mask
from georesil.risk.criticality import ImportanceInputs
from georesil.risk.outcomes import outcome_columns, target_bits, target_columns
from georesil.risk.sampler import AtomAccess, PackedDraw
from georesil.risk.snapshot import SnapshotModel

__all__ = ["ChunkOutcomes", "Failures", "count_chunk", "element_failures", "sparse_inputs"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Failures:
    """The failures of a chunk's trials.

    Attributes:
        elem, trial, event: Every (element, trial) failure with the basic event that caused
            it — the element's own (``event == elem``) or a zone's (``event`` indexes
            ``model.elements``); an element failed by two events appears twice.
        down_elem, down_trial: The distinct (element, trial) pairs: the composed failures.
        zone_trials: Per zone event (``event − n_elements``), the trials its outage atom is set.
    """

    elem: I64
    trial: I64
    event: I64
    down_elem: I64
    down_trial: I64
    zone_trials: list[I64]


def element_failures(model: SnapshotModel, draw: PackedDraw, atoms: AtomAccess) -> Failures:
    """The failures of a draw; elements are sites then links (file order)."""
    own_elem, own_trial = _own_failures(model, draw, atoms)  # distinct already
    zone_elem, zone_trial, zone_event, zone_trials = _zone_failures(model, atoms)
    if not len(zone_elem):
        return Failures(own_elem, own_trial, own_elem, own_elem, own_trial, zone_trials)
    # zone-made pairs are few: dedupe them, and drop those the element's own atom also made
    n_trials = 64 * draw.n_words
    key = np.unique(zone_elem * n_trials + zone_trial)
    own_key = own_elem * n_trials + own_trial  # ascending when every own atom is sparse
    if len(own_key) > 1 and not bool((own_key[1:] > own_key[:-1]).all()):
        own_key = np.sort(own_key)
    at = np.minimum(np.searchsorted(own_key, key), max(len(own_key) - 1, 0))
    fresh = own_key[at] != key if len(own_key) else np.ones(len(key), dtype=bool)
    key = key[fresh]
    return Failures(np.concatenate([own_elem, zone_elem]),
                    np.concatenate([own_trial, zone_trial]),
                    np.concatenate([own_elem, zone_event]),
                    np.concatenate([own_elem, key // n_trials]),
                    np.concatenate([own_trial, key % n_trials]), zone_trials)


def _own_failures(model: SnapshotModel, draw: PackedDraw, atoms: AtomAccess) -> tuple[I64, I64]:
    """(element, trial) pairs of the elements' own failure atoms."""
    own = np.concatenate([model.site_atom, model.link_atom])
    elem_of_atom = np.full(len(model.p), -1, dtype=np.int64)
    elem_of_atom[own] = np.arange(len(own))
    sparse_elem = elem_of_atom[draw.sparse_rows[draw.owners]] if len(draw.owners) else \
        np.zeros(0, dtype=np.int64)
    keep = sparse_elem >= 0
    elems: list[I64] = [sparse_elem[keep]]
    trials: list[I64] = [draw.positions[keep]]
    for atom in draw.dense_rows.tolist():
        if elem_of_atom[atom] >= 0:
            pos = atoms.positions(atom)
            elems.append(np.full(len(pos), elem_of_atom[atom], dtype=np.int64))
            trials.append(pos)
    return np.concatenate(elems), np.concatenate(trials)


def _zone_failures(model: SnapshotModel, atoms: AtomAccess
                   ) -> tuple[I64, I64, I64, list[I64]]:
    """(element, trial, zone event) of members taken down by their zones, and zone trials."""
    chains: list[I64] = []
    roots: list[I64] = []
    for par, atom in zip(model.chain_parent.tolist(), model.chain_atom.tolist(), strict=True):
        chains.append(atoms.positions(atom) if par < 0 else
                      chains[par][atoms.has(atom, chains[par])])
        if par < 0:
            roots.append(chains[-1])
    elems: list[I64] = [np.zeros(0, dtype=np.int64)]
    trials: list[I64] = [np.zeros(0, dtype=np.int64)]
    events: list[I64] = [np.zeros(0, dtype=np.int64)]
    sizes = np.array([len(c) for c in chains], dtype=np.int64)
    for offset, targets, rows in ((0, model.site_from, model.site_chain),
                                  (len(model.site_atom), model.link_from, model.link_chain)):
        out = sizes[rows] > 0  # zones out in some trial: usually none
        for target, row in zip(targets[out].tolist(), rows[out].tolist(), strict=True):
            elems.append(np.full(len(chains[row]), target + offset, dtype=np.int64))
            trials.append(chains[row])
            events.append(np.full(len(chains[row]), model.chain_event[row], np.int64))
    return np.concatenate(elems), np.concatenate(trials), np.concatenate(events), roots


@dataclass(frozen=True)
class ChunkOutcomes:
    """A chunk counted from its failures.

    Attributes:
        tally: Column counts of the first ``n_valid`` trials (see ``outcome_columns``).
        kernel_trials: Trials the kernel evaluated (two or more failed elements).
        n_failed: Failed elements per trial (``n_valid``).
        single_elem: The failed element of each trial with exactly one, else −1.
        multi_rank: The rank of each trial among those with two or more (−1 for others).
        multi_targets: Their target bits, ``(n_targets, ⌈multi trials/64⌉)``.
    """

    tally: I64
    kernel_trials: int
    n_failed: I64
    single_elem: I64
    multi_rank: I64
    multi_targets: U64

    def targets_of(self, table_targets: npt.NDArray[np.uint8], trials: I64) -> B:
        """Target failures ``(len(trials), n_targets)`` of some of the chunk's trials."""
        n_el = table_targets.shape[0] - 1
        row = np.where(self.single_elem[trials] >= 0, self.single_elem[trials], n_el)
        out = table_targets[row].astype(bool)
        rank = self.multi_rank[trials]
        many = rank >= 0
        if many.any():
            rank = rank[many]
            bits = (self.multi_targets[:, rank >> 6] >> (rank & 63).astype(np.uint64)) & \
                np.uint64(1)
            out[many] = (bits > 0).T
        return out

    def any_target(self, table_targets: npt.NDArray[np.uint8], n: int) -> B:
        """Whether some target failed, for each of the first ``n`` trials."""
        n_el = table_targets.shape[0] - 1
        table_any = np.logical_or.reduce(table_targets > 0, axis=1)
        single = self.single_elem[:n]
        out: B = table_any[np.where(single >= 0, single, n_el)]
        rank = self.multi_rank[:n]
        many = rank >= 0
        if many.any():
            anyw = np.bitwise_or.reduce(self.multi_targets, axis=0)
            r = rank[many]
            out[many] = ((anyw[r >> 6] >> (r & 63).astype(np.uint64)) & np.uint64(1)) > 0
        return out


def count_chunk(model: SnapshotModel, fails: Failures, n_valid: int) -> ChunkOutcomes:
    """Outcome tallies of the first ``n_valid`` trials of a chunk's failures."""
    keep = fails.down_trial < n_valid
    elem, trial = fails.down_elem[keep], fails.down_trial[keep]
    per_trial = np.bincount(trial, minlength=n_valid)
    n_empty = int((per_trial == 0).sum())
    single = per_trial[trial] == 1
    n_el = model.n_elements
    table = model.single_table.astype(np.int64)
    tally = n_empty * table[n_el] + np.bincount(elem[single], minlength=n_el) @ table[:n_el]
    single_elem = np.full(n_valid, -1, dtype=np.int64)
    single_elem[trial[single]] = elem[single]
    is_multi = per_trial >= 2
    n_multi = int(is_multi.sum())
    multi_rank = np.where(is_multi, np.cumsum(is_multi) - 1, -1)
    n_tgt = len(model.targets.names)
    multi_targets = np.zeros((n_tgt, 0), dtype=np.uint64)
    if n_multi:
        rank = multi_rank[trial[~single]]
        n_words = (n_multi + 63) // 64
        down = pack_pairs(elem[~single], rank, n_el, n_words)
        n_sites = len(model.site_atom)
        out = model.evaluate(model.compiled, down[:n_sites], down[n_sites:])
        tally = tally + outcome_columns(model.targets, out, valid_mask(n_multi, n_words))
        multi_targets = target_bits(model.targets, out.down)
    return ChunkOutcomes(tally, n_multi, per_trial, single_elem, multi_rank, multi_targets)


def sparse_inputs(model: SnapshotModel, fails: Failures, counted: ChunkOutcomes,
                  atoms: AtomAccess, n_imp: int, base: int) -> ImportanceInputs:
    """What importance needs of the first ``n_imp`` trials of a sparsely counted chunk."""
    n_el = model.n_elements
    table = target_columns(model.targets, model.single_table)
    down = np.flatnonzero(counted.any_target(table, n_imp))
    fail_s = np.zeros((n_imp, table.shape[1]), dtype=bool)
    fail_s[down] = counted.targets_of(table, down)
    fail_s[:base] = counted.targets_of(table, np.arange(base))
    inside = fails.trial < n_imp
    own = inside & (fails.event < n_el)
    event_trials = np.zeros(len(model.elements), dtype=np.int64)
    event_trials[:n_el] = np.bincount(fails.elem[own], minlength=n_el)
    zone_base = np.zeros((len(fails.zone_trials), base), dtype=bool)
    for z, zt in enumerate(fails.zone_trials):
        event_trials[n_el + z] = int(np.count_nonzero(zt < n_imp))
        zone_base[z, zt[zt < base]] = True
    alone = counted.n_failed[:n_imp] == 1
    alone[fails.trial[inside & (fails.event >= n_el)]] = False  # a zone took it down
    alone_trial = np.flatnonzero(alone)
    return ImportanceInputs(
        n_imp, int((counted.n_failed[:n_imp] == 0).sum()), event_trials, alone_trial,
        counted.single_elem[alone_trial], down, fail_s, fails.elem, fails.trial, fails.event,
        fails.down_elem, fails.down_trial, zone_base, base, atoms)
