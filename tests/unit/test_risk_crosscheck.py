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
from tests.unit._risk_build import service, site, topology

N_TRIALS = 300


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 5))
    probs = st.sampled_from([0.0, 0.002, 0.02, 0.05, 0.3])
    zones = [{"id": "grid", "kind": "power", "annual_rate": 200.0, "mean_duration_h": 6.0},
             {"id": "storm", "kind": "weather", "unavailability": 0.04}]
    sites = [site(f"s{i}", 23 + i * 0.3, 120.5, unavailability=draw(probs) or None,
                  zones=draw(st.lists(st.sampled_from(["grid", "storm"]), unique=True)),
                  backup_power_h=draw(st.sampled_from([0, 2, 8]))) for i in range(n)]
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))
                          .filter(lambda p: p[0] != p[1]), min_size=1, max_size=7))
    links = [{"id": f"l{i}", "a": f"s{a}", "b": f"s{b}", "unavailability": draw(probs),
              "zones": ["storm"] if draw(st.booleans()) else []}
             for i, (a, b) in enumerate(pairs)]
    services = []
    for i in range(draw(st.integers(1, 3))):
        placed = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3, unique=True))
        clients = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=2, unique=True))
        services.append(service(f"v{i}", f"s{placed[0]}", tuple(f"s{p}" for p in placed[1:]),
                                tier=draw(st.integers(1, 2)), clients=[f"s{c}" for c in clients]))
    return {"sites": sites, "links": links, "services": services, "zones": zones}


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
