"""Random small topologies: the engine's counts equal the networkx reference on the same draws."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis.impact import Status
from georesil.analysis.reference import evaluate
from georesil.model import FailureSet
from georesil.risk.chunks import draw_atoms, run_chunk
from georesil.risk.snapshot import build_snapshot, compose
from tests.unit._risk_build import documents, topology

N_TRIALS = 300


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), seed=st.integers(0, 2**32))
def test_engine_matches_reference(doc: dict[str, Any], seed: int) -> None:
    """Per-service down counts of the engine equal the reference evaluated trial by trial."""

    topo = topology(doc["sites"], doc["links"], doc["services"], doc["zones"])
    model = build_snapshot(topo)
    site_down, link_down = compose(model, draw_atoms(model, seed, 0))
    sites, links = list(topo.sites), list(topo.links)
    expected = np.zeros(len(topo.services), dtype=np.int64)
    for t in range(N_TRIALS):
        word, bit = t >> 6, np.uint64(t & 63)
        fs = FailureSet(
            sites=frozenset(s for i, s in enumerate(sites) if (site_down[i, word] >> bit) & 1),
            links=frozenset(k for i, k in enumerate(links) if (link_down[i, word] >> bit) & 1))
        impact = evaluate(topo, fs)
        expected += [impact.services[s].status is Status.DOWN for s in topo.services]
    got = run_chunk(model, seed, 0, N_TRIALS).down
    assert got.tolist() == expected.tolist()
