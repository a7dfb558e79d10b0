"""One chunk of snapshot trials: draw atoms, compose, evaluate, count — and importance.

Chunk ``c`` holds trials ``[c·CHUNK_TRIALS, (c+1)·CHUNK_TRIALS)`` and draws from
``SeedSequence(seed, spawn_key=(c,))`` — the ``c``-th child of ``SeedSequence(seed).spawn`` —
so its numbers do not depend on which process runs it or when. A chunk is always drawn in
full and trials past the requested count are masked out, so the first N trials of a run are
the same whatever N. Counts are integers and add up exactly in any order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.risk.sampler import bernoulli_draw
from georesil.risk.snapshot import ALL_ONES, SnapshotModel, compose
from georesil.risk.sparse import outcome_columns, sparse_counts

__all__ = ["CHUNK_TRIALS", "CHUNK_WORDS", "Counts", "chunk_rng", "run_chunk", "run_chunks"]

#: Words per chunk: fixed, part of the reproducibility contract (65,536 trials).
CHUNK_WORDS = 1024
CHUNK_TRIALS = 64 * CHUNK_WORDS

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


@dataclass
class Counts:
    """Integer tallies over some trials; ``+`` merges two tallies.

    Attributes:
        trials: Trials counted.
        down, breach, failover: Per service, trials in that state.
        target_down: Per target (services, then ``tier-1``), trials in which it failed.
        importance_trials: Trials on which importance was computed.
        importance_base: Per target, failures among the importance trials.
        forced: ``(n_elements, 2, n_targets)`` failures with the element forced up (0) / down (1);
            empty ``(0, 2, n_targets)`` until some importance trials are counted (it is big).
        kernel_trials: Trials evaluated by the kernel (the others were counted from the
            single-failure table, :mod:`georesil.risk.sparse`).
    """

    trials: int
    down: I64
    breach: I64
    failover: I64
    target_down: I64
    importance_trials: int
    importance_base: I64
    forced: I64
    kernel_trials: int = 0

    @classmethod
    def zero(cls, model: SnapshotModel) -> Counts:
        n_svc, n_tgt = len(model.service_ids), len(model.targets.names)
        z = np.zeros
        return cls(0, z(n_svc, np.int64), z(n_svc, np.int64), z(n_svc, np.int64),
                   z(n_tgt, np.int64), 0, z(n_tgt, np.int64),
                   z((0, 2, n_tgt), np.int64))

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.trials + other.trials, self.down + other.down, self.breach + other.breach,
            self.failover + other.failover, self.target_down + other.target_down,
            self.importance_trials + other.importance_trials,
            self.importance_base + other.importance_base, _add_forced(self.forced, other.forced),
            self.kernel_trials + other.kernel_trials,
        )


def _add_forced(a: I64, b: I64) -> I64:
    if not len(a):
        return b
    return a if not len(b) else a + b


def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    """The generator of chunk ``chunk``: child ``chunk`` of ``SeedSequence(seed)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))


def draw_atoms(model: SnapshotModel, seed: int, chunk: int) -> U64:
    """The packed atom bits of one chunk."""
    return bernoulli_draw(chunk_rng(seed, chunk), model.p, CHUNK_WORDS, model.lazy).words()


def _valid_mask(n_valid: int) -> U64:
    mask = np.zeros(CHUNK_WORDS, dtype=np.uint64)
    full, rest = divmod(n_valid, 64)
    mask[:full] = ALL_ONES
    if rest:
        mask[full] = np.uint64((1 << rest) - 1)
    return mask


def _popcount(words: U64, mask: U64) -> I64:
    return np.bitwise_count(words & mask).sum(axis=-1, dtype=np.int64)


def _target_bits(model: SnapshotModel, down: U64) -> U64:
    rows = model.targets.tier1_rows
    if len(model.targets.names) == len(model.service_ids):
        return down
    tier1 = np.bitwise_or.reduce(down[rows], axis=0)
    return np.vstack([down, tier1[None, :]])


def run_chunk(
    model: SnapshotModel, seed: int, chunk: int, n_trials: int, importance: bool
) -> Counts:
    """Count outcomes of chunk ``chunk`` of a run of ``n_trials`` trials.

    Without importance the chunk is counted from its sparse draws
    (:func:`georesil.risk.sparse.sparse_counts`); with importance every trial is evaluated
    densely, once as drawn and twice per element forced. Both give identical counts.
    """
    n_valid = min(CHUNK_TRIALS, n_trials - chunk * CHUNK_TRIALS)
    draw = bernoulli_draw(chunk_rng(seed, chunk), model.p, CHUNK_WORDS, model.lazy)
    counts = Counts.zero(model)
    counts.trials = n_valid
    if not importance:
        tally, counts.kernel_trials = sparse_counts(model, draw, n_valid)
    else:
        mask = _valid_mask(n_valid)
        bits = draw.words()
        out = model.evaluate(model.compiled, *compose(model, bits))
        tally = outcome_columns(model, out, mask)
        counts.kernel_trials = n_valid
        counts.importance_trials = n_valid
        counts.forced = _forced(model, bits, mask)
    n = len(model.service_ids)
    counts.down, counts.breach, counts.failover = tally[:n], tally[n:2 * n], tally[2 * n:3 * n]
    counts.target_down = np.concatenate([tally[:n], tally[3 * n:]])
    if importance:
        counts.importance_base = counts.target_down
    return counts


def _forced(model: SnapshotModel, bits: U64, mask: U64) -> I64:
    """Common random numbers: re-evaluate the same draws with each element forced up/down."""
    forced = np.zeros((len(model.elements), 2, len(model.targets.names)), dtype=np.int64)
    if not model.targets.names:  # no service: nothing to attribute, skip 2 × elements passes
        return forced
    for e, atom in enumerate(model.element_atom):
        saved = bits[atom].copy()
        for state, value in ((0, np.uint64(0)), (1, ALL_ONES)):
            bits[atom] = value
            out = model.evaluate(model.compiled, *compose(model, bits))
            forced[e, state] = _popcount(_target_bits(model, out.down), mask)
        bits[atom] = saved
    return forced


def run_chunks(
    model: SnapshotModel, seed: int, chunks: range, n_trials: int, importance_chunks: int
) -> Counts:
    """The summed counts of several chunks (one task of an engine)."""
    total = Counts.zero(model)
    for c in chunks:
        total = total + run_chunk(model, seed, c, n_trials, c < importance_chunks)
    return total
