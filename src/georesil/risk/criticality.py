"""Counting, per chunk, what the importance measures need — without one pass per element.

For a basic event e (a site's or link's own failure atom, or a zone's outage atom), a target
S and the trials of a chunk (Notes of :mod:`georesil.risk.importance` for the estimators):

* **repairs**: in every trial where some target failed, every event that is set is cleared
  in turn and the trial re-evaluated (common random numbers: the rest of the trial is kept).
  ``repaired[e, S]`` counts the trials where e was set, S failed, and S did not fail with e
  cleared. A trial whose only failure is one element failed by its own atom is read from the
  single table instead. Cost: (failed trials) × (events set in them) evaluations, one kernel
  pass per chunk.
* **forced failures** on the first ``base`` trials of chunk 0: for every event not set in a
  trial, the trial with the event forced on (sites and links: only trials where something
  else failed — the empty ones are exact from the single table). Cost: events × base
  evaluations, one kernel pass.

Every figure is an integer count, so chunks add up exactly in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.risk._bits import unpack
from georesil.risk.outcomes import target_columns
from georesil.risk.sparse import AtomAccess, ChunkOutcomes, Failures, evaluate_sets
from georesil.risk.snapshot import SnapshotModel

__all__ = ["ImportanceTally", "importance_tally"]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass
class ImportanceTally:
    """Integer counts behind the importance measures; ``+`` merges two tallies.

    Attributes:
        trials: Importance trials counted (M).
        empty: Of them, trials in which no element failed.
        failed: Per target, trials in which it failed.
        event_trials: Per event, trials in which it was set (N_e).
        alone: Per event, trials whose only failed element was the event's own element,
            failed by its own atom (sites and links).
        repaired: ``(events, targets)``: trials with the event set and the target failed that
            do not fail with the event cleared (includes the ``alone`` ones).
        forced_trials: Per event, base trials evaluated with the event forced on (K_e).
        forced: ``(events, targets)``: of those, trials where the target did not fail and
            fails with the event forced.
        repairs: Repair evaluations made (the cost, which sizes the importance trials).
    """

    trials: int
    empty: int
    failed: I64
    event_trials: I64
    alone: I64
    repaired: I64
    forced_trials: I64
    forced: I64
    repairs: int = 0

    @classmethod
    def zero(cls, n_events: int, n_targets: int) -> ImportanceTally:
        z = np.zeros
        return cls(0, 0, z(n_targets, np.int64), z(n_events, np.int64), z(n_events, np.int64),
                   z((n_events, n_targets), np.int64), z(n_events, np.int64),
                   z((n_events, n_targets), np.int64))

    def __add__(self, other: ImportanceTally) -> ImportanceTally:
        return ImportanceTally(
            self.trials + other.trials, self.empty + other.empty, self.failed + other.failed,
            self.event_trials + other.event_trials, self.alone + other.alone,
            self.repaired + other.repaired, self.forced_trials + other.forced_trials,
            self.forced + other.forced, self.repairs + other.repairs,
        )


def importance_tally(model: SnapshotModel, fails: Failures, atoms: AtomAccess,
                     counted: ChunkOutcomes, n_imp: int, base: int) -> ImportanceTally:
    """Importance counts over the first ``n_imp`` trials of a chunk (``base`` forced ones)."""
    n_ev, n_el = len(model.elements), model.n_elements
    table = target_columns(model.targets, model.single_table)
    tally = ImportanceTally.zero(n_ev, len(model.targets.names))
    trials = np.arange(n_imp)
    fail_s = counted.targets_of(table, trials)  # (n_imp, targets)
    tally.trials, tally.failed = n_imp, fail_s.sum(axis=0, dtype=np.int64)
    tally.empty = int((counted.n_failed[:n_imp] == 0).sum())
    inside = fails.trial < n_imp
    elem, trial, event = fails.elem[inside], fails.trial[inside], fails.event[inside]
    own = event < n_el
    tally.event_trials[:n_el] = np.bincount(elem[own], minlength=n_el)
    for z, zt in enumerate(fails.zone_trials):
        tally.event_trials[n_el + z] = int(np.count_nonzero(zt < n_imp))
    alone_trial = _alone(counted, trial, own, n_imp)
    alone_elem = counted.single_elem[:n_imp][alone_trial]
    tally.alone[:n_el] = np.bincount(alone_elem, minlength=n_el)
    gain = table[:n_el].astype(bool) & ~table[n_el].astype(bool)  # crit of a lone failure
    tally.repaired[:n_el] += tally.alone[:n_el, None] * gain
    down = fail_s.any(axis=1) & ~alone_trial
    pick = down[trial]
    _repairs(model, tally, elem[pick], trial[pick], event[pick], fail_s)
    if base:
        _forced(model, tally, fails, atoms, counted, fail_s, base)
    return tally


def _alone(counted: ChunkOutcomes, trial: I64, own: B, n_imp: int) -> B:
    """Trials whose one failed element failed by its own atom only."""
    by_zone = np.bincount(trial[~own], minlength=n_imp) > 0
    return (counted.n_failed[:n_imp] == 1) & ~by_zone


def _repairs(model: SnapshotModel, tally: ImportanceTally, elem: I64, trial: I64, event: I64,
             fail_s: B) -> None:
    """Re-evaluate each failed trial with each of its events cleared; count what that fixes."""
    if not len(trial):
        return
    n_tr = int(trial.max()) + 1
    key = np.unique(trial * len(model.elements) + event)  # columns: (trial, event), sorted
    col_trial, col_event = key // len(model.elements), key % len(model.elements)
    first = np.searchsorted(col_trial, np.arange(n_tr))
    per = np.bincount(col_trial, minlength=n_tr)
    # every failure of a trial goes into each of the trial's columns but its own event's
    reps = per[trial]
    src = np.repeat(np.arange(len(trial)), reps)
    col = np.repeat(first[trial], reps) + _ranges(reps)
    keep = event[src] != col_event[col]
    tally.repairs += len(key)
    bits = evaluate_sets(model, col[keep], elem[src[keep]], len(key))
    still = unpack(bits, len(key)).T  # (columns, targets)
    fixed = fail_s[col_trial] & ~still
    np.add.at(tally.repaired, col_event, fixed.astype(np.int64))


def _forced(model: SnapshotModel, tally: ImportanceTally, fails: Failures, atoms: AtomAccess,
            counted: ChunkOutcomes, fail_s: B, base: int) -> None:
    """Evaluate the first ``base`` trials with each event forced on, where it was off."""
    n_ev, n_el = len(model.elements), model.n_elements
    trials = np.arange(base)
    set_ = np.zeros((n_ev, base), dtype=bool)
    inside = fails.trial < base
    set_[fails.event[inside], fails.trial[inside]] = True
    for z, zt in enumerate(fails.zone_trials):
        set_[n_el + z, zt[zt < base]] = True
    sample = ~set_ & ~fail_s[:base].all(axis=1)[None, :]
    sample[:n_el] &= counted.n_failed[:base][None, :] > 0  # empty trials: exact from the table
    tally.forced_trials += sample.sum(axis=1)
    col_event, col_trial = np.nonzero(sample)
    if not len(col_event):
        return
    # a column holds its trial's failures and the failures its event makes
    d_elem, d_trial = fails.down_elem, fails.down_trial
    d_keep = d_trial < base
    d_elem, d_trial = d_elem[d_keep], d_trial[d_keep]
    order = np.argsort(d_trial, kind="stable")
    d_elem, d_trial = d_elem[order], d_trial[order]
    starts = np.searchsorted(d_trial, trials)
    count = np.bincount(d_trial, minlength=base)
    reps = count[col_trial]
    cols = [np.repeat(np.arange(len(col_trial)), reps)]
    elems = [d_elem[np.repeat(starts[col_trial], reps) + _ranges(reps)]]
    own = col_event < n_el
    cols.append(np.flatnonzero(own))
    elems.append(col_event[own])
    zc, ze = _zone_members(model, atoms, col_event[~own], col_trial[~own])
    cols.append(np.flatnonzero(~own)[zc])
    elems.append(ze)
    bits = evaluate_sets(model, np.concatenate(cols), np.concatenate(elems), len(col_event))
    now = unpack(bits, len(col_event)).T
    made = now & ~fail_s[col_trial]
    np.add.at(tally.forced, col_event, made.astype(np.int64))


def _zone_members(model: SnapshotModel, atoms: AtomAccess, zone_event: I64, trial: I64
                  ) -> tuple[I64, I64]:
    """(column, element) pairs of what each zone event fails in its column's trial when out."""
    n_sites = len(model.site_atom)
    passes = np.zeros((len(model.chain_atom), len(zone_event)), dtype=bool)
    for r, (par, atom) in enumerate(zip(model.chain_parent.tolist(),
                                        model.chain_atom.tolist(), strict=True)):
        mine = model.chain_event[r] == zone_event
        if par < 0:
            passes[r] = mine
        elif mine.any():
            passes[r] = passes[par] & mine
            passes[r, mine] &= atoms.has(atom, trial[mine])
    cols: list[I64] = [np.zeros(0, np.int64)]
    elems: list[I64] = [np.zeros(0, np.int64)]
    for offset, targets, rows in ((0, model.site_from, model.site_chain),
                                  (n_sites, model.link_from, model.link_chain)):
        for target, row in zip(targets.tolist(), rows.tolist(), strict=True):
            hit = np.flatnonzero(passes[row])
            cols.append(hit)
            elems.append(np.full(len(hit), target + offset, dtype=np.int64))
    return np.concatenate(cols), np.concatenate(elems)


def _ranges(lengths: I64) -> I64:
    """``0..n-1`` for each n in ``lengths``, concatenated."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends - lengths, lengths)
