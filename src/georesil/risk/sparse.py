"""Counting a chunk from sparse draws: most trials fail nothing, or a single element.

Real elements fail with probabilities of 10^−5…10^−3, so in most trials nothing is down and
in most of the rest exactly one element is. The outcomes of those cases do not depend on the
trial: the model holds a table with the kernel's outcome for the empty failure set and for
each single site or link (:func:`single_outcomes`, evaluated once per model). Here a chunk's
draws are turned into (element, trial) failure pairs without ever materialising the dense
``(elements × words)`` arrays; trials with 0 or 1 failed elements are counted from the table,
and only the trials with two or more are packed densely and evaluated by the kernel.

The counts are exactly those of evaluating every trial (a test checks it chunk by chunk).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.risk.sampler import PackedDraw, hashed_bits

__all__ = ["element_failures", "outcome_columns", "single_outcomes", "sparse_counts"]

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
_ONE = np.uint64(1)


class _Atoms:
    """Per-atom access to a draw: positions of set bits, and membership tests."""

    def __init__(self, draw: PackedDraw) -> None:
        self.draw = draw
        self.dense_of = {int(r): i for i, r in enumerate(draw.dense_rows)}
        self.lazy_of = {int(r): i for i, r in enumerate(draw.lazy_rows)}

    def positions(self, atom: int) -> I64:
        if atom in self.lazy_of:
            return np.flatnonzero(self.has(atom, np.arange(64 * self.draw.n_words)))
        if atom in self.dense_of:
            words = self.draw.dense[self.dense_of[atom]]
            bits = np.unpackbits(words.view(np.uint8), bitorder="little")
            return np.flatnonzero(bits).astype(np.int64)
        i = int(np.searchsorted(self.draw.sparse_rows, atom))
        if i < len(self.draw.sparse_rows) and self.draw.sparse_rows[i] == atom:
            lo, hi = np.searchsorted(self.draw.owners, [i, i + 1])
            return self.draw.positions[lo:hi]
        return np.zeros(0, dtype=np.int64)

    def has(self, atom: int, trials: I64) -> npt.NDArray[np.bool_]:
        if atom in self.lazy_of:
            i = self.lazy_of[atom]
            return hashed_bits(self.draw.lazy_keys[i], float(self.draw.lazy_p[i]), trials)
        if atom in self.dense_of:
            words = self.draw.dense[self.dense_of[atom]]
            return ((words[trials >> 6] >> (trials & 63).astype(np.uint64)) & _ONE).astype(bool)
        return np.isin(trials, self.positions(atom), assume_unique=True)


def element_failures(model: Any, draw: PackedDraw) -> tuple[I64, I64]:
    """Distinct (element, trial) failure pairs; elements are sites then links (file order)."""
    atoms = _Atoms(draw)
    own_elem, own_trial = _own_failures(model, draw, atoms)  # distinct already
    zone_elem, zone_trial = _zone_failures(model, atoms)
    if not len(zone_elem):
        return own_elem, own_trial
    # zone-made pairs are few: dedupe them, and drop those the element's own atom also made
    n_trials = 64 * draw.n_words
    key = np.unique(zone_elem * n_trials + zone_trial)
    own_key = own_elem * n_trials + own_trial  # ascending when every own atom is sparse
    if len(own_key) > 1 and not bool((own_key[1:] > own_key[:-1]).all()):
        own_key = np.sort(own_key)
    at = np.minimum(np.searchsorted(own_key, key), max(len(own_key) - 1, 0))
    fresh = own_key[at] != key if len(own_key) else np.ones(len(key), dtype=bool)
    key = key[fresh]
    return (np.concatenate([own_elem, key // n_trials]),
            np.concatenate([own_trial, key % n_trials]))


def _own_failures(model: Any, draw: PackedDraw, atoms: _Atoms) -> tuple[I64, I64]:
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


def _zone_failures(model: Any, atoms: _Atoms) -> tuple[I64, I64]:
    """(element, trial) pairs of members taken down by their zones (may repeat)."""
    chains: list[I64] = []
    for par, atom in zip(model.chain_parent.tolist(), model.chain_atom.tolist(), strict=True):
        chains.append(atoms.positions(atom) if par < 0 else
                      chains[par][atoms.has(atom, chains[par])])
    elems: list[I64] = [np.zeros(0, dtype=np.int64)]
    trials: list[I64] = [np.zeros(0, dtype=np.int64)]
    for offset, targets, rows in ((0, model.site_from, model.site_chain),
                                  (len(model.site_atom), model.link_from, model.link_chain)):
        for target, row in zip(targets.tolist(), rows.tolist(), strict=True):
            if len(chains[row]):
                elems.append(np.full(len(chains[row]), target + offset, dtype=np.int64))
                trials.append(chains[row])
    return np.concatenate(elems), np.concatenate(trials)


def sparse_counts(model: Any, draw: PackedDraw, n_valid: int) -> tuple[I64, int]:
    """Outcome tallies of the first ``n_valid`` trials of a draw.

    Returns:
        The tallies in the column order of ``model.single_table`` (down, breach and failover
        per service, then ``tier-1`` when present), and how many trials reached the kernel.
    """
    elem, trial = element_failures(model, draw)
    keep = trial < n_valid
    elem, trial = elem[keep], trial[keep]
    per_trial = np.bincount(trial, minlength=n_valid)
    n_empty = int((per_trial == 0).sum())
    single = per_trial[trial] == 1
    n_elements = len(model.site_atom) + len(model.link_atom)
    table = model.single_table
    tally = n_empty * table[n_elements].astype(np.int64)
    tally += np.bincount(elem[single], minlength=n_elements) @ table[:n_elements].astype(np.int64)
    multi = np.flatnonzero(per_trial >= 2)
    if len(multi):
        tally += _kernel_counts(model, elem[~single], trial[~single], multi)
    return tally, len(multi)


def _kernel_counts(model: Any, elem: I64, trial: I64, multi: I64) -> I64:
    n_sites, n_links = len(model.site_atom), len(model.link_atom)
    rank = np.searchsorted(multi, trial)
    n_words = (len(multi) + 63) // 64
    down = np.zeros((n_sites + n_links, n_words), dtype=np.uint64)
    np.bitwise_or.at(down, (elem, rank >> 6), _ONE << (rank & 63).astype(np.uint64))
    out = model.evaluate(model.compiled, down[:n_sites], down[n_sites:])
    mask = np.full(n_words, np.uint64(0xFFFF_FFFF_FFFF_FFFF))
    rest = len(multi) % 64
    if rest:
        mask[-1] = np.uint64((1 << rest) - 1)
    return outcome_columns(model, out, mask)


def outcome_columns(model: Any, out: Any, mask: U64) -> I64:
    """Counts of an evaluated packed outcome in table-column order (see ``single_table``)."""
    from georesil.risk.chunks import _popcount, _target_bits

    return np.concatenate([
        _popcount(out.down, mask), _popcount(out.breach, mask), _popcount(out.failover, mask),
        _popcount(_target_bits(model, out.down)[len(model.service_ids):], mask),
    ])


def single_outcomes(
    compiled: Any, evaluate: Any, n_services: int, tier1_rows: I64
) -> npt.NDArray[np.uint8]:
    """Outcome columns of every single site or link failing, then of nothing failing.

    Returns:
        ``uint8 (n_elements + 1, n_columns)``: per failure, down/breach/failover per service and
        (when ``tier1_rows`` is not empty) whether any tier-1 service is down.
    """
    n_sites, n_links = len(compiled.site_ids), len(compiled.link_ids)
    n = n_sites + n_links + 1
    n_words = (n + 63) // 64
    down = np.zeros((n - 1, n_words), dtype=np.uint64)
    idx = np.arange(n - 1)
    down[idx, idx >> 6] = _ONE << (idx & 63).astype(np.uint64)
    out = evaluate(compiled, down[:n_sites], down[n_sites:])
    rows = [out.down, out.breach, out.failover]
    if len(tier1_rows):
        rows.append(np.bitwise_or.reduce(out.down[tier1_rows], axis=0)[None, :])
    words = np.vstack(rows)
    bits = np.unpackbits(words.view(np.uint8), axis=1, bitorder="little")[:, :n]
    return np.ascontiguousarray(bits.T, dtype=np.uint8)
