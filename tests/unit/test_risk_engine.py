"""Determinism across engines, worker counts and trial counts."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import numpy as np
import pytest

from georesil.errors import InvalidInput
from georesil.risk.chunks import CHUNK_TRIALS, run_chunk
from georesil.risk.engine import (
    LocalEngine,
    collector_paused,
    plan_tasks,
    run_snapshot,
    simulate_snapshot,
)
from georesil.risk.snapshot import build_snapshot
from tests.unit._risk_build import mixed

pytestmark = pytest.mark.slow

TRIALS = 5 * CHUNK_TRIALS + 1234


@pytest.fixture(scope="module")
def reference() -> dict[str, object]:
    return simulate_snapshot(mixed(), TRIALS, seed=42, importance_trials=2 * CHUNK_TRIALS).to_json()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client


def test_two_local_workers_identical(reference: dict[str, object]) -> None:
    """Two worker processes give exactly the numbers of one."""
    topo = mixed()
    with LocalEngine(2) as engine:
        out = run_snapshot(topo, build_snapshot(topo), TRIALS, 42, engine, 2 * CHUNK_TRIALS)
    assert out.to_json() == reference


def test_dask_identical(reference: dict[str, object], dask_client: object) -> None:
    """A Dask LocalCluster of two worker processes gives exactly the local numbers."""
    from georesil.risk.dask import DaskEngine

    topo = mixed()
    engine = DaskEngine(client=dask_client)  # type: ignore[arg-type]
    out = run_snapshot(topo, build_snapshot(topo), TRIALS, 42, engine, 2 * CHUNK_TRIALS)
    assert out.to_json() == reference


def test_task_order_irrelevant(reference: dict[str, object]) -> None:
    """Running the tasks in reverse order changes nothing."""

    class Reversed(LocalEngine):
        def run(self, model, seed, tasks, n_trials, plan):  # type: ignore[no-untyped-def]
            return super().run(model, seed, tasks[::-1], n_trials, plan)

    topo = mixed()
    out = run_snapshot(topo, build_snapshot(topo), TRIALS, 42, Reversed(1), 2 * CHUNK_TRIALS)
    assert out.to_json() == reference


def test_other_seed_differs(reference: dict[str, object]) -> None:
    """A different seed gives different draws."""
    out = simulate_snapshot(mixed(), TRIALS, seed=43, importance_trials=2 * CHUNK_TRIALS)
    assert out.to_json()["services"] != reference["services"]


def test_prefix_property() -> None:
    """A chunk's first trials are the same whatever the run's total."""
    model = build_snapshot(mixed())
    short = run_chunk(model, 7, 0, 1000)
    again = run_chunk(model, 7, 0, 1000)
    full = run_chunk(model, 7, 0, CHUNK_TRIALS)
    assert short.trials == 1000 and np.array_equal(short.down, again.down)
    assert (short.down <= full.down).all()


def test_tasks_cover_every_chunk_once() -> None:
    """Planned tasks cover each chunk exactly once and count every trial."""
    for first in (0, 1):
        tasks = plan_tasks(100 * CHUNK_TRIALS + 5, workers=3, first_chunk=first)
        chunks = [c for t in tasks for c in t.chunks]
        assert chunks == list(range(first, 101))
        assert sum(t.trials for t in tasks) == 100 * CHUNK_TRIALS + 5 - first * CHUNK_TRIALS


def test_zero_trials_rejected() -> None:
    """--trials 0 is an InvalidInput."""
    with pytest.raises(InvalidInput, match="--trials: got 0"):
        simulate_snapshot(mixed(), 0)


def test_progress_reaches_total() -> None:
    """The progress callback sees increasing counts ending at the number of trials."""
    seen: list[tuple[int, int]] = []
    simulate_snapshot(mixed(), 3 * CHUNK_TRIALS + 5, seed=1, importance_trials=0,
                      progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3 * CHUNK_TRIALS + 5, 3 * CHUNK_TRIALS + 5)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("enabled", [True, False])
def test_collector_paused_restores_state(enabled: bool) -> None:
    """The collector is off inside the block and as it was afterwards, even on an error."""
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with pytest.raises(KeyError), collector_paused():
            assert not gc.isenabled()
            raise KeyError("x")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
