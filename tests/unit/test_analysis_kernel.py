"""The compiled kernel against the networkx reference, and its packing helpers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from georesil.analysis import Status, inject
from georesil.analysis.kernel import (
    compile_topology,
    evaluate_packed,
    evaluate_sets,
    pack_rows,
    unpack,
)
from georesil.model import FailureSet
from tests.unit._analysis_build import chain, failure_sets, ring, topologies


def _reference_bits(topology, sets):  # type: ignore[no-untyped-def]
    ids = list(topology.services)
    out = {k: np.zeros((len(ids), len(sets)), dtype=bool) for k in ("down", "breach", "failover")}
    for t, failure in enumerate(sets):
        for i, sid in enumerate(ids):
            impact = inject(topology, failure).services[sid]
            out["down"][i, t] = impact.status is Status.DOWN
            out["breach"][i, t] = impact.status is Status.BREACH
            out["failover"][i, t] = impact.status is not Status.DOWN and \
                impact.serving_site != topology.primary(sid).site
    return out


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["numba", "python"])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_equals_reference(engine: str, data: st.DataObject) -> None:
    """On random topologies and failure sets, the kernel equals the reference bit for bit."""
    topology = data.draw(topologies())
    sets = data.draw(st.lists(failure_sets(topology), min_size=1, max_size=70))
    got = evaluate_sets(compile_topology(topology), sets, engine=engine)  # type: ignore[arg-type]
    want = _reference_bits(topology, sets)
    for name in ("down", "breach", "failover"):
        assert (unpack(getattr(got, name), len(sets)) == want[name]).all(), name


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernel_equals_reference_across_blocks(data: st.DataObject) -> None:
    """More words than one block of lanes, the last block partial: still bit for bit."""
    topology = data.draw(topologies())
    lanes = 64 * 8
    n = data.draw(st.integers(min_value=lanes + 1, max_value=2 * lanes + 64 * 3))
    pool = data.draw(st.lists(failure_sets(topology), min_size=2, max_size=30))
    rng = np.random.default_rng(data.draw(st.integers(min_value=0, max_value=2**32 - 1)))
    sets = [pool[i] for i in rng.integers(0, len(pool), size=n)]
    got = evaluate_sets(compile_topology(topology), sets, engine="numba")
    want = _reference_bits(topology, sets)
    for name in ("down", "breach", "failover"):
        assert (unpack(getattr(got, name), len(sets)) == want[name]).all(), name


def test_compiled_ids_in_file_order() -> None:
    """Compiled ids keep the topology's file order."""
    ct = compile_topology(chain())
    assert (ct.site_ids, ct.link_ids, ct.service_ids) == (("a", "b", "c"), ("ab", "bc"), ("web",))


def test_ring_needs_both_sides_cut() -> None:
    """In a ring, one cut link keeps the service up; one on each side takes it down."""
    sets = [FailureSet(links=frozenset({"l01"})), FailureSet(links=frozenset({"l01", "l23"}))]
    out = evaluate_sets(compile_topology(ring()), sets)
    assert unpack(out.down, 2).tolist() == [[False, True]]


def test_service_fail_rows_take_effect() -> None:
    """A service failing by itself (service_fail bits) is down."""
    ct = compile_topology(chain())
    site_down = np.zeros((3, 1), np.uint64)
    link_down = np.zeros((2, 1), np.uint64)
    out = evaluate_packed(ct, site_down, link_down, np.array([[2]], dtype=np.uint64))
    assert unpack(out.down, 2).tolist() == [[False, True]]


def test_wrong_shape_is_rejected() -> None:
    """Arrays of the wrong shape are refused with the expected shape in the message."""
    ct = compile_topology(chain())
    with pytest.raises(ValueError, match=r"site_down must be uint64 of shape \(3, W\)"):
        evaluate_packed(ct, np.zeros((2, 1), np.uint64), np.zeros((2, 1), np.uint64))


def test_pack_and_unpack_round_trip() -> None:
    """Trial t's rows are bit t after packing, across word boundaries; -1 is padding."""
    rows = np.array([[0, -1]] * 65 + [[1, 2]], dtype=np.int64)
    words = pack_rows(rows, 3)
    assert words.shape == (3, 2)
    bits = unpack(words, 66)
    assert bits[0, :65].all() and not bits[0, 65] and bits[1:, 65].all() and not bits[1:, :65].any()
