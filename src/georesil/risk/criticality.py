"""Counting, per chunk, what the importance measures need — without one pass per element.

For a basic event e (a site's or link's own failure atom, or a zone's outage atom), a target
S and the trials of a chunk (the Notes of :mod:`georesil.risk.importance` give the
estimators built from these counts):

* **repairs**: in every trial where some target failed, every event that is set is cleared
  in turn and the trial re-evaluated (common random numbers: the rest of the trial is kept).
  ``repaired[e, S]`` counts the trials where e was set, S failed, and S does not fail with e
  cleared. A trial whose only failure is one element failed by its own atom is read from the
  single table instead. Cost: (failed trials) × (events set in them) evaluations, one kernel
  pass per chunk.
* **forced failures** on the first ``base`` trials of chunk 0: for every event not set in a
  trial, the trial with the event forced on (sites and links: only trials where something
  else failed — the empty ones are exact from the single table). Cost: events × base
  evaluations, one kernel pass.

Every figure is an integer count, so chunks add up exactly in any order. The chunk counters
(:mod:`georesil.risk.sparse`, :mod:`georesil.risk.dense`) describe their trials to
:func:`importance_tally` as :class:`ImportanceInputs`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.risk._bits import pack_groups, pack_pairs, unpack
from georesil.risk.outcomes import target_columns
from georesil.risk.relevance import failure_relevance, repair_relevance
from georesil.risk.sampler import AtomAccess
from georesil.risk.snapshot import SnapshotModel, evaluate_down

__all__ = ["ImportanceInputs", "ImportanceTally", "importance_tally"]

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


@dataclass(frozen=True)
class ImportanceInputs:
    """The first ``n_imp`` trials of a chunk, as importance needs them.

    Attributes:
        n_imp: Importance trials in the chunk.
        empty: Of them, trials in which no element failed.
        event_trials: Per event, trials (of the ``n_imp``) in which it is set.
        alone_trial, alone_elem: Trials whose only failed element failed by its own atom,
            and that element.
        down: Trials (of the ``n_imp``) in which some target failed.
        fail_s: ``(n_imp, targets)`` target failures; rows are filled for ``down`` and the
            first ``base`` trials (others are False).
        elem, trial, event: (element, trial, causing event) failures, complete for the
            ``down`` and the first ``base`` trials (more are allowed).
        down_elem, down_trial: Distinct (element, trial) failures, complete for the first
            ``base`` trials.
        zone_base: ``(zones, base)``: whether each zone's outage atom is set.
        base: Trials forced (the first ones of the chunk).
        atoms: The chunk's draw, for the backup levels of zones forced out.
    """

    n_imp: int
    empty: int
    event_trials: I64
    alone_trial: I64
    alone_elem: I64
    down: I64
    fail_s: B
    elem: I64
    trial: I64
    event: I64
    down_elem: I64
    down_trial: I64
    zone_base: B
    base: int
    atoms: AtomAccess


def importance_tally(model: SnapshotModel, inputs: ImportanceInputs) -> ImportanceTally:
    """Importance counts of a chunk's first ``inputs.n_imp`` trials."""
    n_ev, n_el = len(model.elements), model.n_elements
    table = target_columns(model.targets, model.single_table)
    tally = ImportanceTally.zero(n_ev, len(model.targets.names))
    fail_s = inputs.fail_s
    tally.trials, tally.empty = inputs.n_imp, inputs.empty
    tally.failed = fail_s[inputs.down].sum(axis=0, dtype=np.int64)
    tally.event_trials = inputs.event_trials.copy()
    tally.alone[:n_el] = np.bincount(inputs.alone_elem, minlength=n_el)
    gain = table[:n_el].astype(bool) & ~table[n_el].astype(bool)  # crit of a lone failure
    tally.repaired[:n_el] += tally.alone[:n_el, None] * gain
    repair = np.zeros(inputs.n_imp, dtype=bool)
    repair[inputs.down] = True
    repair[inputs.alone_trial] = False
    inside = inputs.trial < inputs.n_imp
    pick = np.zeros(len(inputs.trial), dtype=bool)
    pick[inside] = repair[inputs.trial[inside]]
    _repairs(model, tally, inputs.elem[pick], inputs.trial[pick], inputs.event[pick], fail_s)
    if inputs.base:
        _forced(model, tally, inputs)
    return tally


def _repairs(model: SnapshotModel, tally: ImportanceTally, elem: I64, trial: I64, event: I64,
             fail_s: B) -> None:
    """Re-evaluate each failed trial with each of its events cleared; count what that fixes.

    Columns whose repair provably changes nothing (:mod:`georesil.risk.relevance`) fix
    nothing and are not evaluated; ``tally.repairs`` counts every column all the same (it
    sizes the importance trials).
    """
    if not len(trial):
        return
    n_ev = len(model.elements)
    key = trial * n_ev + event
    if not _increasing(key):  # the dense path gives them grouped by trial, events ascending
        order = np.argsort(trial, kind="stable")
        trial, elem, event = trial[order], elem[order], event[order]
        key = np.unique(key)
    col_trial, col_event = key // n_ev, key % n_ev  # columns: (trial, event), sorted
    tally.repairs += len(key)
    starts = np.flatnonzero(np.diff(col_trial, prepend=-1))
    groups = col_trial[starts]
    ptr = np.append(np.searchsorted(trial, groups, side="left"), len(trial))
    col_ptr = np.append(starts, len(key))
    cols = np.flatnonzero(repair_relevance(model.compiled, ptr, elem, event, col_ptr, col_event))
    if not len(cols):
        return
    col_group = np.repeat(np.arange(len(groups)), np.diff(col_ptr))[cols]
    col_trial, col_event = col_trial[cols], col_event[cols]
    bits = evaluate_down(model, pack_groups(ptr, elem, event, col_group, col_event,
                                            model.n_elements))
    still = unpack(bits, len(cols)).T  # (columns, targets)
    fixed = fail_s[col_trial] & ~still
    np.add.at(tally.repaired, col_event, fixed.astype(np.int64))


def _increasing(x: I64) -> bool:
    return bool((x[1:] > x[:-1]).all())


def _forced(model: SnapshotModel, tally: ImportanceTally, inputs: ImportanceInputs) -> None:
    """Evaluate the first ``base`` trials with each event forced on, where it was off.

    Site and link columns whose failure provably changes nothing
    (:mod:`georesil.risk.relevance`) make no failure and are counted without evaluation.
    """
    n_ev, n_el, base = len(model.elements), model.n_elements, inputs.base
    set_ = np.zeros((n_ev, base), dtype=bool)
    inside = inputs.trial < base
    set_[inputs.event[inside], inputs.trial[inside]] = True
    set_[n_el:] |= inputs.zone_base
    keep = inputs.down_trial < base
    d_elem, d_trial = inputs.down_elem[keep], inputs.down_trial[keep]
    n_failed = np.bincount(d_trial, minlength=base)
    fail_s = inputs.fail_s[:base]
    sample = ~set_ & ~np.logical_and.reduce(fail_s, axis=1)[None, :]
    sample[:n_el] &= n_failed[None, :] > 0  # the empty trials are exact from the table
    tally.forced_trials += sample.sum(axis=1)
    # a column holds its trial's failures (grouped by trial here) and those its event makes
    d_elem = d_elem[np.argsort(d_trial, kind="stable")]
    ptr = np.concatenate([[0], np.cumsum(n_failed)])
    sample[:n_el] &= failure_relevance(model.compiled, ptr, d_elem)
    col_event, col_trial = np.nonzero(sample)
    for lo in range(0, len(col_event), _FORCED_BATCH):  # bounded memory on big models
        hi = lo + _FORCED_BATCH
        _forced_batch(model, tally, inputs, col_event[lo:hi], col_trial[lo:hi], d_elem, ptr)


#: Forced columns evaluated together (one kernel pass each; bounds the memory held at once).
_FORCED_BATCH = 1 << 16


def _forced_batch(model: SnapshotModel, tally: ImportanceTally, inputs: ImportanceInputs,
                  col_event: I64, col_trial: I64, d_elem: I64, ptr: I64) -> None:
    n_el, fail_s = model.n_elements, inputs.fail_s
    none = np.full(len(col_trial), -1, dtype=np.int64)
    down = pack_groups(ptr, d_elem, np.zeros(len(d_elem), np.int64), col_trial, none, n_el)
    own = col_event < n_el
    zc, ze = _zone_members(model, inputs.atoms, col_event[~own], col_trial[~own])
    cols = np.concatenate([np.flatnonzero(own), np.flatnonzero(~own)[zc]])
    elems = np.concatenate([col_event[own], ze])
    pack_pairs(elems, cols, n_el, down.shape[1], out=down)
    bits = evaluate_down(model, down)
    made = unpack(bits, len(col_event)).T & ~fail_s[col_trial]
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
    cols: list[I64] = []
    elems: list[I64] = []
    for offset, targets, rows in ((0, model.site_from, model.site_chain),
                                  (n_sites, model.link_from, model.link_chain)):
        pair, col = np.nonzero(passes[rows])
        cols.append(col)
        elems.append(targets[pair] + offset)
    return np.concatenate(cols), np.concatenate(elems)
