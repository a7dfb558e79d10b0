"""Exact snapshot probabilities by enumerating every state of the stochastic atoms.

With n ≤ 24 atoms of probability 0 < p < 1 (:mod:`georesil.risk.snapshot`), the 2^n states
are enumerated in packed form — state t is trial t, atom k is bit k of t — and evaluated by the
same kernel as Monte Carlo. Each state has weight Π p_k^{x_k} (1 − p_k)^{1 − x_k}; summing the
weights of the states in which a target fails gives its probability exactly (to float64).

States are processed in blocks of 2^16: the 16 lowest atoms vary inside a block (their weights
are precomputed once), the higher ones are constant over it. Importance measures come from the
same pass: P(S | x_k = 1) = Σ_{t: x_k = 1} w_t S_t / p_k, and P(S | x_k = 0) likewise, for
every stochastic basic event (atoms fixed at 0 or 1 get none).

Cost: 2^n evaluations — about a second per 2^22 states on the reference topology.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.errors import InvalidInput
from georesil.model.topology import Topology
from georesil.risk._bits import ALL_ONES
from georesil.risk.engine import ServiceRisk, SnapshotResult
from georesil.risk.importance import from_probabilities
from georesil.risk.outcomes import TIER1, target_bits
from georesil.risk.snapshot import SnapshotModel, build_snapshot, compose
from georesil.risk.stats import Estimate

__all__ = ["MAX_EXACT_ATOMS", "exact_snapshot"]

#: Most stochastic atoms exact enumeration accepts (2^24 ≈ 1.7·10^7 states).
MAX_EXACT_ATOMS = 24
_BLOCK_BITS = 16
F64 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]


def _low_patterns(n_low: int) -> U64:
    """Packed bits of atoms 0..n_low-1 over the 2^n_low trials of a block."""
    n_words = max(1, (1 << n_low) // 64)
    t = np.arange(64 * n_words, dtype=np.uint64).reshape(n_words, 64)
    shifts = np.arange(64, dtype=np.uint64)
    rows = []
    for k in range(n_low):
        bit = (t >> np.uint64(k)) & np.uint64(1)
        rows.append(np.bitwise_or.reduce(bit << shifts, axis=1))
    return np.array(rows, dtype=np.uint64).reshape(n_low, n_words)


def _weights(p: F64) -> F64:
    """Weights of the 2^len(p) states, atom k being bit k of the state index."""
    w = np.ones(1)
    for pk in p:
        w = np.concatenate([w * (1 - pk), w * pk])
    return w


def _unpack(words: U64, n: int) -> F64:
    bits = np.unpackbits(words.view(np.uint8), axis=-1, bitorder="little")
    return bits[..., :n].astype(np.float64)


def exact_snapshot(topology: Topology, model: SnapshotModel | None = None) -> SnapshotResult:
    """Exact snapshot availability and importance by enumerating all states.

    Raises:
        InvalidInput: more than :data:`MAX_EXACT_ATOMS` stochastic atoms.
    """
    model = model or build_snapshot(topology)
    stoch = model.stochastic
    n = len(stoch)
    if n > MAX_EXACT_ATOMS:
        names = ", ".join(model.atoms[i] for i in stoch[:6])
        raise InvalidInput(
            f"--exact: {n} stochastic elements (0 < p < 1: sites, links, zones and power-zone "
            f"backup levels such as {names}, ...); exact enumeration handles at most "
            f"{MAX_EXACT_ATOMS}; run Monte Carlo (--trials) instead", field="exact",
        )
    sums = _Sums(model, n)
    enum = _Enumeration(model, stoch)
    for block in range(1 << (n - enum.n_low)):
        bits, factor, high_on = enum.block(block)
        sums.add(enum, model.evaluate(model.compiled, *compose(model, bits)), factor, high_on)
    return _result(topology, model, sums.acc, sums.target, sums.given1, 1 << n)


class _Enumeration:
    """Packed states: the 16 lowest stochastic atoms vary inside a block, the others per block."""

    def __init__(self, model: SnapshotModel, stoch: npt.NDArray[np.int64]) -> None:
        self.stoch, self.p = stoch, model.p[stoch]
        self.n_low = min(len(stoch), _BLOCK_BITS)
        self.n_states = 1 << self.n_low
        self.low = _low_patterns(self.n_low)
        self.inner = _weights(self.p[: self.n_low])
        self.bitmat = _unpack(self.low, self.n_states).T  # (states, n_low)
        self.base = np.where(model.p >= 1, ALL_ONES, np.uint64(0)).astype(np.uint64)

    def block(self, block: int) -> tuple[U64, float, list[int]]:
        """Atom bits of one block, its probability factor, and its high atoms that are on."""
        bits = np.repeat(self.base[:, None], self.low.shape[1], axis=1)
        bits[self.stoch[: self.n_low]] = self.low
        factor, on = 1.0, []
        for k in range(self.n_low, len(self.stoch)):
            set_ = (block >> (k - self.n_low)) & 1
            bits[self.stoch[k]] = ALL_ONES if set_ else np.uint64(0)
            factor *= self.p[k] if set_ else 1 - self.p[k]
            if set_:
                on.append(k)
        return bits, factor, on


class _Sums:
    """Weighted sums: per-service outcomes, per-target failures, and failures given x_k = 1."""

    def __init__(self, model: SnapshotModel, n: int) -> None:
        self.model = model
        n_tgt, n_svc = len(model.targets.names), len(model.service_ids)
        self.acc = {k: np.zeros(n_svc) for k in ("down", "breach", "failover")}
        self.target = np.zeros(n_tgt)
        self.given1 = np.zeros((n, n_tgt))

    def add(self, enum: _Enumeration, out: Any, factor: float, high_on: list[int]) -> None:
        for key in self.acc:
            self.acc[key] += factor * (_unpack(getattr(out, key), enum.n_states) @ enum.inner)
        failed = _unpack(target_bits(self.model.targets, out.down), enum.n_states)
        sw = factor * failed * enum.inner  # (targets, states)
        total = sw.sum(axis=1)
        self.target += total
        self.given1[: enum.n_low] += (sw @ enum.bitmat).T
        for k in high_on:
            self.given1[k] += total


def _result(topology: Topology, model: SnapshotModel, acc: dict[str, F64], target: F64,
            given1: F64, n_states: int) -> SnapshotResult:
    def exact(v: float) -> Estimate:
        return Estimate(float(v), float(v), float(v), 0.0)

    services = {
        sid: ServiceRisk(sid, topology.services[sid].tier, exact(acc["down"][i]),
                         exact(acc["breach"][i]), exact(acc["failover"][i]))
        for i, sid in enumerate(model.service_ids)
    }
    names = model.targets.names
    tier1 = exact(target[-1]) if names and names[-1] == TIER1 else None
    stoch = model.stochastic
    atom_to_elem = {int(a): e for e, a in enumerate(model.element_atom)}
    keep = [(k, atom_to_elem[int(a)]) for k, a in enumerate(stoch) if int(a) in atom_to_elem]
    rows = []
    if keep:
        ks = np.array([k for k, _ in keep])
        pk = model.p[stoch[ks]][:, None]
        g1 = given1[ks] / pk
        g0 = (target[None, :] - given1[ks]) / (1 - pk)
        rows = from_probabilities(tuple(model.elements[e] for _, e in keep), pk[:, 0], names,
                               target, g0, g1)
    return SnapshotResult("exact", n_states, None, services, tier1, rows, n_states, ())
