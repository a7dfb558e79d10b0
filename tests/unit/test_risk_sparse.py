"""The sparse chunk count (table for 0/1 failures, kernel for the rest) equals full evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from georesil.analysis.impact import Status
from georesil.analysis.reference import evaluate
from georesil.risk._bits import valid_mask
from georesil.risk.chunks import CHUNK_TRIALS, CHUNK_WORDS, draw_atoms, run_chunk
from georesil.risk.outcomes import outcome_columns
from georesil.risk.snapshot import build_snapshot, compose
from tests.unit._risk_build import backup_zone, mixed, series_pair


@pytest.mark.parametrize("make", [mixed, series_pair, backup_zone])
@pytest.mark.parametrize("chunk", [0, 3])
def test_sparse_equals_dense(make: object, chunk: int) -> None:
    """Counting from sparse draws gives exactly the counts of evaluating every trial."""
    model = build_snapshot(make())  # type: ignore[operator]
    n_trials = 4 * CHUNK_TRIALS - 999
    n_valid = min(CHUNK_TRIALS, n_trials - chunk * CHUNK_TRIALS)
    sparse = run_chunk(model, 17, chunk, n_trials)
    bits = draw_atoms(model, 17, chunk)
    dense = outcome_columns(model.targets,
                            model.evaluate(model.compiled, *compose(model, bits)),
                            valid_mask(n_valid, CHUNK_WORDS))
    n = len(model.service_ids)
    got = np.concatenate([sparse.down, sparse.breach, sparse.failover,
                          sparse.target_down[n:]])
    assert np.array_equal(got, dense)
    assert sparse.kernel_trials < n_valid


def test_single_table_matches_reference() -> None:
    """The single-failure table agrees with the networkx reference for every element."""
    topo = mixed()
    model = build_snapshot(topo)
    n = len(model.service_ids)
    for e, ref in enumerate(topo.elements):
        impact = evaluate(topo, topo.resolve(ref))
        down = [impact.services[s].status is Status.DOWN for s in topo.services]
        assert model.single_table[e, :n].tolist() == down, ref
