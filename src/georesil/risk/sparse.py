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

from georesil.risk._bits import pack_pairs, unpack, valid_mask
from georesil.risk.outcomes import outcome_columns, target_bits
from georesil.risk.sampler import PackedDraw, hashed_bits
from georesil.risk.snapshot import SnapshotModel

__all__ = ["AtomAccess", "ChunkOutcomes", "Failures", "count_chunk", "element_failures",
           "evaluate_sets"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
B = npt.NDArray[np.bool_]


class AtomAccess:
    """Per-atom access to a draw: positions of set bits, and membership tests."""

    def __init__(self, draw: PackedDraw) -> None:
        self.draw = draw
        self.dense_of = {int(r): i for i, r in enumerate(draw.dense_rows)}
        self.lazy_of = {int(r): i for i, r in enumerate(draw.lazy_rows)}

    def positions(self, atom: int) -> I64:
        """Trials (ascending) in which ``atom`` is set."""
        if atom in self.lazy_of:
            return np.flatnonzero(self.has(atom, np.arange(64 * self.draw.n_words)))
        if atom in self.dense_of:
            return np.flatnonzero(unpack(self.draw.dense[self.dense_of[atom]],
                                         64 * self.draw.n_words)).astype(np.int64)
        i = int(np.searchsorted(self.draw.sparse_rows, atom))
        if i < len(self.draw.sparse_rows) and self.draw.sparse_rows[i] == atom:
            lo, hi = np.searchsorted(self.draw.owners, [i, i + 1])
            return self.draw.positions[lo:hi]
        return np.zeros(0, dtype=np.int64)

    def has(self, atom: int, trials: I64) -> B:
        """Whether ``atom`` is set in each of ``trials``."""
        if atom in self.lazy_of:
            i = self.lazy_of[atom]
            return hashed_bits(self.draw.lazy_keys[i], float(self.draw.lazy_p[i]), trials)
        if atom in self.dense_of:
            words = self.draw.dense[self.dense_of[atom]]
            return ((words[trials >> 6] >> (trials & 63).astype(np.uint64)) & np.uint64(1)) > 0
        return np.isin(trials, self.positions(atom), assume_unique=True)


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
    for offset, targets, rows in ((0, model.site_from, model.site_chain),
                                  (len(model.site_atom), model.link_from, model.link_chain)):
        for target, row in zip(targets.tolist(), rows.tolist(), strict=True):
            if len(chains[row]):
                elems.append(np.full(len(chains[row]), target + offset, dtype=np.int64))
                trials.append(chains[row])
                events.append(np.full(len(chains[row]), model.chain_event[row], np.int64))
    return np.concatenate(elems), np.concatenate(trials), np.concatenate(events), roots


def evaluate_sets(model: SnapshotModel, column: I64, elem: I64, n_columns: int) -> U64:
    """Packed target bits ``(n_targets, ⌈n_columns/64⌉)`` of failure sets given as pairs.

    Column c fails the elements ``elem[column == c]`` (pairs may repeat). One kernel pass.
    """
    n_words = max(1, (n_columns + 63) // 64)
    down = pack_pairs(elem, column, model.n_elements, n_words)
    n_sites = len(model.site_atom)
    out = model.evaluate(model.compiled, down[:n_sites], down[n_sites:])
    return target_bits(model.targets, out.down)


@dataclass(frozen=True)
class ChunkOutcomes:
    """A chunk counted from its failures.

    Attributes:
        tally: Column counts of the first ``n_valid`` trials (see ``outcome_columns``).
        kernel_trials: Trials the kernel evaluated (two or more failed elements).
        n_failed: Failed elements per trial (``n_valid``).
        single_elem: The failed element of each trial with exactly one, else −1.
        multi: The trials with two or more, ascending.
        multi_targets: Their target bits, ``(n_targets, ⌈len(multi)/64⌉)``.
    """

    tally: I64
    kernel_trials: int
    n_failed: I64
    single_elem: I64
    multi: I64
    multi_targets: U64

    def targets_of(self, table_targets: npt.NDArray[np.uint8], trials: I64) -> B:
        """Target failures ``(len(trials), n_targets)`` of some of the chunk's trials."""
        n_el = table_targets.shape[0] - 1
        row = np.where(self.single_elem[trials] >= 0, self.single_elem[trials], n_el)
        out = table_targets[row].astype(bool)
        many = self.n_failed[trials] >= 2
        if many.any():
            rank = np.searchsorted(self.multi, trials[many])
            bits = (self.multi_targets[:, rank >> 6] >> (rank & 63).astype(np.uint64)) & \
                np.uint64(1)
            out[many] = (bits > 0).T
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
    multi = np.flatnonzero(per_trial >= 2)
    n_tgt = len(model.targets.names)
    multi_targets = np.zeros((n_tgt, 0), dtype=np.uint64)
    if len(multi):
        rank = np.searchsorted(multi, trial[~single])
        n_words = (len(multi) + 63) // 64
        down = pack_pairs(elem[~single], rank, n_el, n_words)
        n_sites = len(model.site_atom)
        out = model.evaluate(model.compiled, down[:n_sites], down[n_sites:])
        tally = tally + outcome_columns(model.targets, out, valid_mask(len(multi), n_words))
        multi_targets = target_bits(model.targets, out.down)
    return ChunkOutcomes(tally, len(multi), per_trial, single_elem, multi, multi_targets)
