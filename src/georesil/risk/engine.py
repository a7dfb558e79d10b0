"""Running snapshot trials: tasks of chunks on an engine, and the estimates they give.

An engine maps ``run_chunks(model, seed, chunks, n_trials, plan)`` over tasks of
consecutive chunks and hands back their :class:`~georesil.risk.chunks.Counts`. Because every
chunk draws from its own ``SeedSequence`` child and counts are integers, the totals — and so
every number reported — are identical for the same seed whatever the engine, the number of
workers or the order in which tasks finish.

Engines: :class:`LocalEngine` (this process, or N worker processes) and
:class:`georesil.risk.dask.DaskEngine` (a dask.distributed cluster).
"""

from __future__ import annotations

import gc
import math
import multiprocessing
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from georesil.errors import InvalidInput
from georesil.hazards.elements import HOURS_PER_YEAR
from georesil.model.topology import Topology
from georesil.risk.chunks import (
    CHUNK_TRIALS,
    NO_IMPORTANCE,
    CountedChunk,
    Counts,
    ImportancePlan,
    draw_buffer,
    run_chunks,
)
from georesil.risk.importance import Importance, from_tally, harden_first
from georesil.risk.outcomes import TIER1, target_columns
from georesil.risk.snapshot import SnapshotModel, build_snapshot
from georesil.risk.stats import Estimate, estimate, nines, trials_warning

__all__ = [
    "FORCED_SHARE",
    "children_ignore_sigint",
    "collector_paused",
    "MAX_BASE",
    "PILOT_TRIALS",
    "REPAIR_SHARE",
    "Engine",
    "LocalEngine",
    "ServiceRisk",
    "SnapshotResult",
    "Task",
    "run_snapshot",
    "simulate_snapshot",
]

#: Repair evaluations for importance are kept below trials / REPAIR_SHARE (or one chunk's).
REPAIR_SHARE = 4
#: Forced evaluations (events × base trials) are kept below trials / FORCED_SHARE.
FORCED_SHARE = 16
#: Most base trials evaluated with every event forced on.
MAX_BASE = 1024
#: Trials of chunk 0 whose repairs size the importance trials.
PILOT_TRIALS = 4096

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    """Consecutive chunks run together."""

    chunks: range
    trials: int


class Engine(Protocol):
    """Something that runs tasks and yields their counts as they finish."""

    workers: int

    def run(self, model: SnapshotModel, seed: int, tasks: list[Task], n_trials: int,
            plan: ImportancePlan) -> Iterator[tuple[Task, Counts]]: ...


@contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started within the block ignore SIGINT (dispositions set to ignore survive
    fork and exec, and Python then installs no KeyboardInterrupt handler): Ctrl-C reaches the
    whole process group, and only the parent should act on it — by stopping its workers."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _init_worker(model: SnapshotModel) -> None:
    global _WORKER_MODEL, _WORKER_BUFFER
    _WORKER_MODEL, _WORKER_BUFFER = model, draw_buffer(model)
    # load the compiled kernel now: a chunk may not call it (few multi-failure trials)
    n_sites, n_links = len(model.site_atom), len(model.link_atom)
    model.evaluate(model.compiled, np.zeros((n_sites, 1), np.uint64),
                   np.zeros((n_links, 1), np.uint64))
    run_chunks(model, 0, range(0, 1), 64)


_WORKER_MODEL: SnapshotModel | None = None
_WORKER_BUFFER: np.ndarray | None = None  # the worker's dense draws, reused


def _run_in_worker(seed: int, chunks: range, n_trials: int, plan: ImportancePlan) -> Counts:
    assert _WORKER_MODEL is not None
    return run_chunks(_WORKER_MODEL, seed, chunks, n_trials, plan, _WORKER_BUFFER)


@dataclass
class LocalEngine:
    """Runs tasks in this process (``workers == 1``) or in a pool of worker processes.

    Use as a context manager to keep one pool across runs; worker processes are started with
    ``spawn`` (safe next to threads) and receive the model once, when they start.
    """

    workers: int = 1
    _pool: Executor | None = field(default=None, repr=False)
    _model_id: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise InvalidInput(f"--workers: got {self.workers}; need at least 1", field="workers")

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop now: cancel queued tasks and kill the worker processes (on Ctrl-C)."""
        pool, self._pool = self._pool, None
        if isinstance(pool, ProcessPoolExecutor):
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in processes:
                proc.terminate()
            for proc in processes:
                proc.join(timeout=5)

    def _ensure_pool(self, model: SnapshotModel) -> Executor:
        if self._pool is None or self._model_id != id(model):
            self.close()
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(model,),
            )
            self._model_id = id(model)
        return self._pool

    def warm_up(self, model: SnapshotModel) -> None:
        """Start the workers and load the model and the kernel in each."""
        if self.workers > 1:  # a task runs only once its worker's initializer has finished
            pool = self._ensure_pool(model)
            n = 2 * self.workers
            with children_ignore_sigint():  # the pool starts its processes on submission
                futures = [pool.submit(_run_in_worker, 0, range(0, 1), 64, NO_IMPORTANCE)
                           for _ in range(n)]
            for fut in futures:
                fut.result()

    def run(self, model: SnapshotModel, seed: int, tasks: list[Task], n_trials: int,
            plan: ImportancePlan) -> Iterator[tuple[Task, Counts]]:
        if self.workers == 1:
            buffer = draw_buffer(model)  # one for the run's dense draws
            for task in tasks:
                yield task, run_chunks(model, seed, task.chunks, n_trials, plan, buffer)
            return
        pool = self._ensure_pool(model)
        with children_ignore_sigint():  # the pool starts its processes on submission
            futures = {pool.submit(_run_in_worker, seed, t.chunks, n_trials, plan): t
                       for t in tasks}
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        except BaseException:  # Ctrl-C or a failed task: do not wait for the others
            self.terminate()
            raise


def plan_tasks(n_trials: int, workers: int, first_chunk: int = 0) -> list[Task]:
    """Split the chunks of a run from ``first_chunk`` on into tasks: small enough to balance
    the workers and report progress, large enough that each costs far more than its overhead."""
    n_chunks = math.ceil(n_trials / CHUNK_TRIALS)
    per_task = max(1, min(16, (n_chunks - first_chunk) // (8 * workers)))
    tasks = []
    for start in range(first_chunk, n_chunks, per_task):
        stop = min(n_chunks, start + per_task)
        trials = min(n_trials, stop * CHUNK_TRIALS) - start * CHUNK_TRIALS
        tasks.append(Task(range(start, stop), trials))
    return tasks


@dataclass(frozen=True)
class ServiceRisk:
    """Snapshot risk of one service."""

    service: str
    tier: int
    p_down: Estimate
    p_breach: Estimate
    p_failover: Estimate

    @property
    def availability(self) -> float:
        return 1.0 - self.p_down.value

    @property
    def downtime_h_per_year(self) -> float:
        return self.p_down.value * HOURS_PER_YEAR

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "availability": self.availability,
            "ci95": [1.0 - self.p_down.high, 1.0 - self.p_down.low],
            "nines": _finite(nines(self.availability)),
            "rel_error": _finite(self.p_down.rel_error),
            "p_down": self.p_down.value,
            "p_down_ci95": [self.p_down.low, self.p_down.high],
            "p_breach": self.p_breach.value,
            "p_breach_ci95": [self.p_breach.low, self.p_breach.high],
            "p_failover": self.p_failover.value,
            "downtime_h_per_year": self.downtime_h_per_year,
            "downtime_h_per_year_ci95": [self.p_down.low * HOURS_PER_YEAR,
                                         self.p_down.high * HOURS_PER_YEAR],
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class SnapshotResult:
    """Snapshot availability of every service, with importance measures.

    Attributes:
        mode: ``snapshot`` (Monte Carlo) or ``exact``.
        trials: Trials run (for ``exact``, the number of enumerated states).
        seed: The seed (``None`` for ``exact``).
        services: Per service, in file order.
        tier1: P(any tier-1 service down), when there are tier-1 services.
        importance: Every element × target.
        importance_trials: Trials the importance measures rest on.
        warnings: Too few trials for the availability reached, ...
    """

    mode: str
    trials: int
    seed: int | None
    services: dict[str, ServiceRisk]
    tier1: Estimate | None
    importance: list[Importance]
    importance_trials: int
    warnings: tuple[str, ...]

    def harden_first(self, limit: int = 10) -> list[Importance]:
        """The ranked "harden these first" list for the tier-1 target (or the first service)."""
        target = TIER1 if self.tier1 is not None else next(iter(self.services), "")
        return harden_first(self.importance, target, limit)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode, "trials": self.trials, "seed": self.seed}
        out["services"] = {sid: s.to_json() for sid, s in self.services.items()}
        if self.tier1 is not None:
            out["tier1_any_down"] = {"p": self.tier1.value,
                                     "ci95": [self.tier1.low, self.tier1.high]}
        out["importance_trials"] = self.importance_trials
        out["importance"] = [r.to_json() for r in self.importance]
        out["harden_first"] = [r.element for r in self.harden_first()]
        out["warnings"] = list(self.warnings)
        return out


def result_from_counts(
    topology: Topology, model: SnapshotModel, counts: Counts, seed: int
) -> SnapshotResult:
    """Turn summed counts into estimates, intervals, warnings and importance measures."""
    n = counts.trials
    services = {}
    warnings = []
    for i, sid in enumerate(model.service_ids):
        services[sid] = ServiceRisk(
            sid, topology.services[sid].tier, estimate(int(counts.down[i]), n),
            estimate(int(counts.breach[i]), n), estimate(int(counts.failover[i]), n),
        )
        if counts.down[i]:
            warning = trials_warning(sid, int(counts.down[i]), n)
            if warning:
                warnings.append(warning)
    never = [sid for i, sid in enumerate(model.service_ids) if counts.down[i] == 0]
    if never:
        warnings.append(trials_warning(", ".join(never), 0, n) or "")
    names = model.targets.names
    tier1 = estimate(int(counts.target_down[-1]), n) if names and names[-1] == TIER1 else None
    tally = counts.importance
    rows: list[Importance] = []
    if tally.trials:
        n_el = model.n_elements
        table = target_columns(model.targets, model.single_table)
        gain = table[:n_el] & (1 - table[n_el])
        rows = from_tally(model.elements, model.p[model.element_atom], names, tally, n_el, gain)
    return SnapshotResult("snapshot", n, seed, services, tier1, rows, tally.trials,
                          tuple(warnings))


def plan_importance(model: SnapshotModel, trials: int, importance_trials: int | None
                    ) -> ImportancePlan:
    """The importance trials asked for (all by default) and the base sample, before sizing.

    The base sample is the largest (≤ :data:`MAX_BASE`) whose forced evaluations, one per
    event and base trial, stay below ``max(one chunk, trials / FORCED_SHARE)``.
    """
    wanted = trials if importance_trials is None else min(importance_trials, trials)
    if wanted <= 0:
        return NO_IMPORTANCE
    budget = max(CHUNK_TRIALS, trials // FORCED_SHARE)
    return ImportancePlan(wanted, min(wanted, MAX_BASE, budget // max(1, len(model.elements))))


def size_importance(plan: ImportancePlan, pilot: Counts, trials: int) -> ImportancePlan:
    """Cap the importance trials so that repairs stay below ``max(one chunk, trials /
    REPAIR_SHARE)`` evaluations, at the rate the pilot needed (the first
    :data:`PILOT_TRIALS` trials: deterministic for a seed)."""
    done = pilot.importance
    if not done.trials or not done.repairs:
        return plan
    budget = max(CHUNK_TRIALS, trials // REPAIR_SHARE)
    affordable = int(budget * done.trials / done.repairs)
    return ImportancePlan(max(done.trials, min(plan.trials, affordable)), plan.base)


def run_snapshot(
    topology: Topology, model: SnapshotModel, trials: int, seed: int, engine: Engine,
    importance_trials: int | None = None, progress: Progress | None = None,
) -> SnapshotResult:
    """Run ``trials`` snapshot trials of a built model on ``engine``.

    Chunk 0 runs first, in this process, when importance is wanted: the repairs its first
    :data:`PILOT_TRIALS` trials needed size the importance trials of the run
    (:func:`size_importance`); its importance is counted again (from the same draw and
    evaluation) if they reach past the pilot.
    """
    if trials < 1:
        raise InvalidInput(f"--trials: got {trials}; need at least 1", field="trials")
    if seed < 0:
        raise InvalidInput(f"--seed: got {seed}; need a non-negative integer", field="seed")
    if importance_trials is not None and importance_trials < 0:
        raise InvalidInput(f"--importance-trials: got {importance_trials}; need ≥ 0",
                           field="importance_trials")
    plan = plan_importance(model, trials, importance_trials)
    total = Counts.zero(model)
    first_chunk = 0
    if plan.trials:
        pilot = ImportancePlan(min(plan.trials, PILOT_TRIALS), min(plan.base, PILOT_TRIALS))
        first = CountedChunk(model, seed, 0, trials)
        total = first.counts_with(pilot)
        plan = size_importance(plan, total, trials)
        if plan.trials > pilot.trials or plan.base > pilot.base:
            total = first.counts_with(plan)
        del first  # the chunk's draw is large on big models
        first_chunk = 1
        if progress is not None:
            progress(total.trials, trials)
    tasks = plan_tasks(trials, engine.workers, first_chunk)
    done = total.trials
    for task, counts in engine.run(model, seed, tasks, trials, plan):
        total = total + counts
        done += task.trials
        if progress is not None:
            progress(done, trials)
    return result_from_counts(topology, model, total, seed)


def simulate_snapshot(
    topology: Topology, trials: int = 1_000_000, seed: int = 0, engine: Engine | None = None,
    importance_trials: int | None = None, progress: Progress | None = None,
) -> SnapshotResult:
    """Snapshot availability of every service by bit-parallel Monte Carlo.

    Args:
        topology: The topology.
        trials: Random instants to sample.
        seed: Seed of the run; the same seed gives identical numbers on every engine.
        engine: Where to run (this process by default).
        importance_trials: Trials, from the start, used for the importance measures (all by
            default, fewer when the repairs would cost more than a quarter of the run).
        progress: Called with (trials done, trials) as tasks finish.

    Notes:
        Each trial samples every atom of :mod:`georesil.risk.snapshot` and evaluates the
        analysis semantics with the compiled kernel, 64 trials per word.
    """
    with collector_paused():
        model = build_snapshot(topology)
        return run_snapshot(topology, model, trials, seed, engine or LocalEngine(1),
                            importance_trials, progress)


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection within the block (restored as it was afterwards).

    A run allocates arrays, not reference cycles, but loading numba and building the model
    allocate enough objects to start full collections, each traversing every object of the
    process — the topology's hundreds of thousands on big models (0.1 s each).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
