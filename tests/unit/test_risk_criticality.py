"""Importance counts equal brute-force forced evaluation of every trial, on both chunk paths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.risk._bits import ALL_ONES, census, popcount, valid_mask
from georesil.risk.chunks import CHUNK_WORDS, ImportancePlan, draw_atoms, run_chunk
from georesil.risk.engine import simulate_snapshot
from georesil.risk.outcomes import target_bits
from georesil.risk.snapshot import SnapshotModel, build_snapshot, compose
from tests.unit._risk_build import documents, mixed, topology

N_TRIALS = 3000
BASE = 200


def _targets(model: SnapshotModel, bits: np.ndarray) -> np.ndarray:
    out = model.evaluate(model.compiled, *compose(model, bits))
    return target_bits(model.targets, out.down)


def _brute(model: SnapshotModel, seed: int) -> dict[str, Any]:
    """Every count, by re-evaluating every trial with each event's atom forced off and on."""
    bits = draw_atoms(model, seed, 0)
    mask, base = valid_mask(N_TRIALS, CHUNK_WORDS), valid_mask(BASE, CHUNK_WORDS)
    s = _targets(model, bits)
    sites, links = compose(model, bits)
    one = census(np.vstack([sites, links]), 64 * CHUNK_WORDS)[1]
    full = np.bitwise_and.reduce(s, axis=0) if len(s) else np.zeros_like(one)
    n_el = model.n_elements
    out: dict[str, Any] = {"failed": popcount(s, mask),
                           "empty": N_TRIALS - int(popcount(one, mask)),
                           "event_trials": [], "repaired": [], "forced_trials": [],
                           "forced": []}
    for e, atom in enumerate(model.element_atom):
        x = bits[atom].copy()
        bits[atom] = 0
        s0 = _targets(model, bits)
        bits[atom] = ALL_ONES
        s1 = _targets(model, bits)
        bits[atom] = x
        sample = ~x & ~full & base
        if e < n_el:  # sites and links: trials where nothing else failed are exact
            sample &= one
        out["event_trials"].append(int(popcount(x, mask)))
        out["repaired"].append(popcount(x & s & ~s0 & mask, ALL_ONES))
        out["forced_trials"].append(int(popcount(sample, ALL_ONES)))
        out["forced"].append(popcount(sample & s1 & ~s, ALL_ONES))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), seed=st.integers(0, 2**32), dense=st.booleans())
def test_counts_equal_brute_force(doc: dict[str, Any], seed: int, dense: bool) -> None:
    """Repairs, event trials and forced failures equal forcing every event in every trial."""
    _check_counts(doc, seed, dense)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(sites=(6, 10), max_links=16, max_services=1),
       seed=st.integers(0, 2**32), dense=st.booleans())
def test_counts_equal_brute_force_with_transit_sites(doc: dict[str, Any], seed: int,
                                                     dense: bool) -> None:
    """The counts stay exact on meshes where most repairs and failures are pruned."""
    _check_counts(doc, seed, dense)


def _check_counts(doc: dict[str, Any], seed: int, dense: bool) -> None:
    model = build_snapshot(topology(doc["sites"], doc["links"], doc["services"], doc["zones"]))
    got = run_chunk(model, seed, 0, N_TRIALS, ImportancePlan(N_TRIALS, BASE), dense).importance
    want = _brute(model, seed)
    assert got.trials == N_TRIALS and got.empty == want["empty"]
    assert got.failed.tolist() == want["failed"].tolist()
    assert got.event_trials.tolist() == want["event_trials"]
    assert got.repaired.tolist() == np.array(want["repaired"]).reshape(got.repaired.shape).tolist()
    assert got.forced_trials.tolist() == want["forced_trials"]
    assert got.forced.tolist() == np.array(want["forced"]).reshape(got.forced.shape).tolist()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), seed=st.integers(0, 2**32))
def test_dense_equals_sparse(doc: dict[str, Any], seed: int) -> None:
    """The dense and the sparse chunk paths give identical counts, importance included."""
    model = build_snapshot(topology(doc["sites"], doc["links"], doc["services"], doc["zones"]))
    plan = ImportancePlan(N_TRIALS, BASE)
    a, b = (run_chunk(model, seed, 0, N_TRIALS + 5000, plan, dense) for dense in (True, False))
    assert (a.down.tolist(), a.breach.tolist(), a.failover.tolist()) == \
        (b.down.tolist(), b.breach.tolist(), b.failover.tolist())
    for name in ("failed", "event_trials", "alone", "repaired", "forced_trials", "forced"):
        assert getattr(a.importance, name).tolist() == getattr(b.importance, name).tolist(), name
    assert a.importance.empty == b.importance.empty


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), seed=st.integers(0, 2**32))
def test_measures_bounded(doc: dict[str, Any], seed: int) -> None:
    """Birnbaum is never negative and criticality never above 1, with no float noise."""
    topo = topology(doc["sites"], doc["links"], doc["services"], doc["zones"])
    for row in simulate_snapshot(topo, 20_000, seed=seed % 1000).importance:
        assert row.birnbaum >= 0.0
        assert row.criticality is None or 0.0 <= row.criticality <= 1.0
        assert row.raw is None or row.raw >= 1.0
        assert row.rrw is None or row.rrw >= 1.0


def test_importance_trials_capped_by_repairs() -> None:
    """Importance uses every trial when repairs are cheap, and none with 0."""
    topo = mixed()
    assert simulate_snapshot(topo, 100_000, seed=1).importance_trials == 100_000
    assert simulate_snapshot(topo, 100_000, seed=1, importance_trials=0).importance == []


@pytest.mark.parametrize("trials", [70_000])
def test_importance_trials_option(trials: int) -> None:
    """--importance-trials N uses the first N trials."""
    assert simulate_snapshot(mixed(), trials, seed=2, importance_trials=5000).importance_trials \
        == 5000
