"""What each distinct failure set of the annual simulation does to every service.

The years simulation needs, per failure set and service, more than the kernel's bits: whether
the service is down, its recovery time, its data loss and whether that loss breaches its RPO
(the reference evaluator's ``ServiceImpact``). The compiled kernel gives *down* and *failover*
(served by a secondary) for 64 failure sets per word; the rest follows from the semantics of
docs/semantics.md:

* **recovery** of a service that is up is the longest ``failover_s`` among the services of its
  dependency closure (itself included) that fail over, 0 when none does — the reference's
  ``max(own failover, dependencies' recovery)`` unrolled;
* **data loss** is 0 on the primary and, on failover, the data loss of the reachable secondary
  losing least. Which secondaries are reachable is read from **probe services** evaluated by
  the same kernel: a probe per secondary, with the service's client sites and a single replica
  (its primary) at the secondary's site, is down exactly when no up client site reaches that
  site. Only secondaries losing less than the service's worst secondary need a probe: when
  none of them is reachable, a secondary losing the most serves.

Failure sets are registered as events are drawn (:meth:`OutcomeTable.row`) and evaluated in
one kernel pass per batch (:meth:`OutcomeTable.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from georesil.analysis.kernel import compile_topology, evaluate_sets, unpack
from georesil.analysis.reference import data_loss
from georesil.model import FailureSet, Topology
from georesil.model.schema import ReplicaRole, ReplicaSpec, ServiceSpec

__all__ = ["OutcomeTable"]

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _DataLoss:
    """Where a failed-over service's data loss comes from.

    ``probes``: (probe index, data loss) of the secondaries losing less than the worst one, by
    increasing data loss (file order on ties); ``worst``: the worst secondary's data loss.
    """

    probes: tuple[tuple[int, float], ...]
    worst: float


def _data_losses(topology: Topology) -> tuple[list[_DataLoss], list[ServiceSpec]]:
    """Per service its data-loss rule, and the probe services those rules read."""
    rules: list[_DataLoss] = []
    probes: list[ServiceSpec] = []
    for sid in topology.services:
        ranked = sorted(((data_loss(topology, sid, r), i, r)
                         for i, r in enumerate(topology.secondaries(sid))),
                        key=lambda x: (x[0], x[1]))
        worst = ranked[-1][0] if ranked else 0.0
        mine = []
        for loss, _, replica in ranked:
            if loss == worst:
                break
            mine.append((len(probes), loss))
            probes.append(ServiceSpec(
                id=f"probe-{len(probes)}", rto_s=0, rpo_s=0, clients=topology.clients(sid),
                replicas=(ReplicaSpec(site=replica.site, role=ReplicaRole.PRIMARY),)))
        rules.append(_DataLoss(tuple(mine), worst))
    return rules, probes


def _closures(topology: Topology) -> list[Ints]:
    """Per service (file order), the indices of its dependency closure, itself included."""
    index = {sid: i for i, sid in enumerate(topology.services)}
    closure: dict[str, set[str]] = {}
    for sid in topology.service_order:  # dependencies first
        closure[sid] = {sid}.union(*(closure[d] for d in topology.service(sid).depends_on))
    return [np.array(sorted(index[t] for t in closure[sid]), dtype=np.int64)
            for sid in topology.services]


class OutcomeTable:
    """Rows of per-service outcomes, one per distinct failure set, in registration order.

    Attributes (after :meth:`evaluate`; ``rows × services`` unless noted):
        down: The service is down.
        recovery_h: Recovery time in hours (0 when down).
        data_loss_s: Seconds of data lost (0 when down).
        rpo_breach: Data loss above ``rpo_s``.
        tier1_down: ``(rows,)`` how many tier-1 services are down.
        touches: ``(rows,)`` some service is down, recovers or loses data: an event with any
            other failure set adds nothing to a tally.
    """

    def __init__(self, topology: Topology) -> None:
        self._ct = compile_topology(topology)
        self._rules, probes = _data_losses(topology)
        self._probe_ct = compile_topology(Topology(topology.doc.model_copy(
            update={"services": tuple(probes), "scenarios": ()}))) if probes else None
        self._closures = _closures(topology)
        specs = list(topology.services.values())
        self._failover_s = np.array([s.failover_s for s in specs], dtype=np.float64)
        self._rpo_s = np.array([s.rpo_s for s in specs], dtype=np.float64)
        self._tier1 = np.array([s.tier == 1 for s in specs], dtype=np.bool_)
        self._rows: dict[FailureSet, int] = {}
        self._pending: list[FailureSet] = []
        n = len(specs)
        self.down: Bools = np.zeros((0, n), dtype=np.bool_)
        self.recovery_h: Floats = np.zeros((0, n))
        self.data_loss_s: Floats = np.zeros((0, n))
        self.rpo_breach: Bools = np.zeros((0, n), dtype=np.bool_)
        self.tier1_down: Ints = np.zeros(0, dtype=np.int64)
        self.touches: Bools = np.zeros(0, dtype=np.bool_)

    def row(self, failures: FailureSet) -> int:
        """The row of ``failures``, registered (to be evaluated) when new."""
        found = self._rows.get(failures)
        if found is None:
            found = self._rows[failures] = len(self._rows)
            self._pending.append(failures)
        return found

    def evaluate(self) -> None:
        """Evaluate every failure set registered since the last call (one kernel pass)."""
        if not self._pending:
            return
        sets, self._pending = self._pending, []
        out = evaluate_sets(self._ct, sets)
        down = unpack(out.down, len(sets)).T
        failover = unpack(out.failover, len(sets)).T
        recovery = np.zeros(down.shape)
        for i, closure in enumerate(self._closures):
            recovery[:, i] = np.where(failover[:, closure], self._failover_s[closure], 0.0
                                      ).max(axis=1, initial=0.0) / 3600.0
        recovery[down] = 0.0
        loss = self._data_loss(sets, failover)
        self._append(down, recovery, loss)

    def _data_loss(self, sets: list[FailureSet], failover: Bools) -> Floats:
        """Per set and service, the data loss of the replica serving it (0 if not failed over)."""
        reached = None
        if self._probe_ct is not None:
            bare = [FailureSet(f.sites, f.links) for f in sets]  # probes never fail themselves
            reached = ~unpack(evaluate_sets(self._probe_ct, bare).down, len(sets)).T
        loss = np.zeros(failover.shape)
        for i, rule in enumerate(self._rules):
            mine = np.full(len(sets), rule.worst)
            taken = np.zeros(len(sets), dtype=np.bool_)
            for probe, value in rule.probes:
                assert reached is not None
                first = reached[:, probe] & ~taken
                mine[first] = value
                taken |= first
            loss[:, i] = np.where(failover[:, i], mine, 0.0)
        return loss

    def _append(self, down: Bools, recovery: Floats, loss: Floats) -> None:
        breach = loss > self._rpo_s
        self.down = np.vstack([self.down, down])
        self.recovery_h = np.vstack([self.recovery_h, recovery])
        self.data_loss_s = np.vstack([self.data_loss_s, loss])
        self.rpo_breach = np.vstack([self.rpo_breach, breach])
        self.tier1_down = np.concatenate([self.tier1_down,
                                          down[:, self._tier1].sum(axis=1).astype(np.int64)])
        touched = (down | (recovery > 0) | (loss > 0)).any(axis=1)
        self.touches = np.concatenate([self.touches, touched])
