"""One chunk of snapshot trials: draw atoms, count outcomes, and count for importance.

Chunk ``c`` holds trials ``[c·CHUNK_TRIALS, (c+1)·CHUNK_TRIALS)`` and draws from
``SeedSequence(seed, spawn_key=(c,))`` — the ``c``-th child of ``SeedSequence(seed).spawn`` —
so its numbers do not depend on which process runs it or when. A chunk is always drawn in
full and trials past the requested count are masked out, so the first N trials of a run are
the same whatever N. Counts are integers and add up exactly in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from georesil.risk.criticality import ImportanceTally, importance_tally
from georesil.risk.dense import DenseChunk, dense_chunk, prefers_dense
from georesil.risk.sampler import AtomAccess, bernoulli_draw
from georesil.risk.snapshot import SnapshotModel
from georesil.risk.sparse import count_chunk, element_failures, sparse_inputs

__all__ = ["CHUNK_TRIALS", "CHUNK_WORDS", "CountedChunk", "Counts", "ImportancePlan", "chunk_rng",
           "draw_atoms", "draw_buffer", "run_chunk", "run_chunks"]

#: Words per chunk: fixed, part of the reproducibility contract (65,536 trials).
CHUNK_WORDS = 1024
CHUNK_TRIALS = 64 * CHUNK_WORDS

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class ImportancePlan:
    """Which trials the importance measures use.

    Attributes:
        trials: The first ``trials`` trials of the run are counted for importance.
        base: The first ``base`` of them are also evaluated with every event forced on.
    """

    trials: int = 0
    base: int = 0


NO_IMPORTANCE = ImportancePlan()


@dataclass
class Counts:
    """Integer tallies over some trials; ``+`` merges two tallies.

    Attributes:
        trials: Trials counted.
        down, breach, failover: Per service, trials in that state.
        target_down: Per target (services, then ``tier-1``), trials in which it failed.
        importance: The importance counts (:mod:`georesil.risk.criticality`).
        kernel_trials: Trials evaluated by the kernel (the others were counted from the
            single-failure table, :mod:`georesil.risk.sparse`).
    """

    trials: int
    down: I64
    breach: I64
    failover: I64
    target_down: I64
    importance: ImportanceTally
    kernel_trials: int = 0

    @classmethod
    def zero(cls, model: SnapshotModel) -> Counts:
        n_svc, n_tgt = len(model.service_ids), len(model.targets.names)
        z = np.zeros
        return cls(0, z(n_svc, np.int64), z(n_svc, np.int64), z(n_svc, np.int64),
                   z(n_tgt, np.int64), ImportanceTally.zero(len(model.elements), n_tgt))

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.trials + other.trials, self.down + other.down, self.breach + other.breach,
            self.failover + other.failover, self.target_down + other.target_down,
            self.importance + other.importance, self.kernel_trials + other.kernel_trials,
        )


def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    """The generator of chunk ``chunk``: child ``chunk`` of ``SeedSequence(seed)``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))


def draw_atoms(model: SnapshotModel, seed: int, chunk: int) -> U64:
    """The packed atom bits of one chunk (every atom, every trial: for tests and benchmarks)."""
    return bernoulli_draw(chunk_rng(seed, chunk), model.p, CHUNK_WORDS, model.lazy).words()


def run_chunk(model: SnapshotModel, seed: int, chunk: int, n_trials: int,
              plan: ImportancePlan = NO_IMPORTANCE, dense: bool | None = None) -> Counts:
    """Count outcomes of chunk ``chunk`` of a run of ``n_trials`` trials.

    The chunk is counted from its sparse draws (:mod:`georesil.risk.sparse`) or, on models
    where most trials fail several elements, by evaluating every trial
    (:mod:`georesil.risk.dense`) — the same draws and the same counts either way. The trials
    of it that fall within ``plan`` are also counted for importance. ``dense`` overrides the
    model's preference (tests compare the two).
    """
    return CountedChunk(model, seed, chunk, n_trials, dense).counts_with(plan)


class CountedChunk:
    """One chunk drawn and counted; its importance counts can then be taken for any plan
    (a run's first chunk is counted for the pilot plan and again for the sized one, from one
    draw and one kernel pass).

    Attributes:
        counts: The chunk's counts, without importance.
    """

    def __init__(self, model: SnapshotModel, seed: int, chunk: int, n_trials: int,
                 dense: bool | None = None, buffer: U64 | None = None) -> None:
        self.model, self.start = model, chunk * CHUNK_TRIALS
        n_valid = min(CHUNK_TRIALS, n_trials - self.start)
        self.dense = prefers_dense(model) if dense is None else dense
        draw = bernoulli_draw(chunk_rng(seed, chunk), model.p, CHUNK_WORDS, model.lazy,
                              self.dense, buffer if self.dense else None)
        self.atoms = AtomAccess(draw)
        counts = Counts.zero(model)
        if self.dense:
            self._dense: DenseChunk | None = dense_chunk(model, draw, self.atoms, n_valid)
            tally, counts.kernel_trials = self._dense.tally, n_valid
        else:
            self._dense = None
            self._fails = element_failures(model, draw, self.atoms)
            self._counted = count_chunk(model, self._fails, n_valid)
            tally, counts.kernel_trials = self._counted.tally, self._counted.kernel_trials
        counts.trials = n_valid
        n = len(model.service_ids)
        counts.down, counts.breach = tally[:n], tally[n:2 * n]
        counts.failover = tally[2 * n:3 * n]
        counts.target_down = np.concatenate([tally[:n], tally[3 * n:]])
        self.counts = counts

    def counts_with(self, plan: ImportancePlan) -> Counts:
        """The chunk's counts with those of its trials that fall within ``plan``."""
        n_imp = min(self.counts.trials, max(0, plan.trials - self.start))
        base = min(n_imp, max(0, plan.base - self.start))
        if not n_imp:
            return self.counts
        if self._dense is not None:
            inputs = self._dense.inputs(n_imp, base)
        else:
            inputs = sparse_inputs(self.model, self._fails, self._counted, self.atoms, n_imp,
                                   base)
        return replace(self.counts, importance=importance_tally(self.model, inputs))


def run_chunks(model: SnapshotModel, seed: int, chunks: range, n_trials: int,
               plan: ImportancePlan = NO_IMPORTANCE, buffer: U64 | None = None) -> Counts:
    """The summed counts of several chunks (one task of an engine).

    ``buffer`` (:func:`draw_buffer`) is reused for the chunks' dense draws; one is made for
    the task when not given. A chunk's counts keep no reference to it.
    """
    if buffer is None and len(chunks) > 1:
        buffer = draw_buffer(model)
    total = Counts.zero(model)
    for c in chunks:
        total = total + CountedChunk(model, seed, c, n_trials, None, buffer).counts_with(plan)
    return total


def draw_buffer(model: SnapshotModel) -> U64 | None:
    """Memory for a chunk's dense draw, to reuse across chunks (``None`` for sparse models)."""
    if not prefers_dense(model):
        return None
    return np.empty((model.n_atoms, CHUNK_WORDS), dtype=np.uint64)
