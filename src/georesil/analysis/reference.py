"""The reference evaluator: the semantics of docs/semantics.md in plain networkx.

This is the specification the compiled kernel is tested against, so it favours obviousness over
speed: the connected components of the surviving network, then services in dependency order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import networkx as nx

from georesil.analysis.demand import overflows
from georesil.analysis.impact import Impact, ServiceImpact, Status, as_failure_set
from georesil.model import FailureSet, Topology
from georesil.model.replication import Mechanism, pair_plan
from georesil.model.schema import ReplicaSpec, Replication

__all__ = ["data_loss", "evaluate", "inject", "surviving_network"]


def data_loss(topology: Topology, service: str, replica: ReplicaSpec) -> float:
    """Seconds of writes a secondary lacks: 0 when synchronous, else its ``lag_s`` — and at
    least the interval of georesil's scheduled mirror where that is what replicates the pair
    (:func:`georesil.model.replication.pair_plan`): writes since the last round are not there.
    """
    if replica.replication is Replication.SYNC:
        return 0.0
    lag = replica.lag_s or 0.0
    plan = pair_plan(topology, service, replica)
    if plan.mechanism is Mechanism.MIRROR and plan.rpo_bound_s is not None:
        return max(lag, plan.rpo_bound_s)
    return lag


def surviving_network(topology: Topology, failure: FailureSet) -> nx.MultiGraph[str]:
    """Up sites and usable links: a link is usable iff it has not failed and both ends are up."""

    def usable(a: str, b: str, link: Any) -> bool:  # networkx's stubs type multigraph keys int
        return link not in failure.links

    view: nx.MultiGraph[str] = nx.subgraph_view(
        topology.graph, filter_node=lambda site: site not in failure.sites, filter_edge=usable)
    return view


def evaluate(topology: Topology, failure: FailureSet) -> Impact:
    """What ``failure`` does to every service, following docs/semantics.md exactly.

    Notes:
        O(V + E) for the connected components of the surviving network (V sites, E links),
        then O(N·(C + R)) for N services with C client sites and R replicas each.
    """
    network = surviving_network(topology, failure)
    # Every up site mapped to the set of up sites it reaches (its connected component).
    reaches = {site: part for part in nx.connected_components(network) for site in part}
    outcomes: dict[str, ServiceImpact] = {}
    for sid in topology.service_order:
        outcomes[sid] = _evaluate_service(topology, sid, failure, reaches, outcomes)
    in_file_order = {sid: outcomes[sid] for sid in topology.services}
    serving = {sid: out.serving_site for sid, out in in_file_order.items()}
    return Impact(
        failed=tuple(failure.refs),
        services=MappingProxyType(in_file_order),
        capacity_overflow=overflows(topology, serving),
    )


@dataclass(frozen=True)
class _Choice:
    site: str
    data_loss_s: float
    recovery_s: float
    by_secondary: bool
    why: str


def _evaluate_service(
    topology: Topology,
    sid: str,
    failure: FailureSet,
    reaches: Mapping[str, set[str]],
    earlier: Mapping[str, ServiceImpact],
) -> ServiceImpact:
    svc = topology.service(sid)
    if sid in failure.services:
        return _down(sid, "failed itself")
    down_deps = [d for d in svc.depends_on if earlier[d].status is Status.DOWN]
    if down_deps:
        return _down(sid, f"depends on {', '.join(down_deps)} (down)")
    up_clients = [c for c in topology.clients(sid) if c in reaches]
    if not up_clients:
        return _down(sid, "no client site is up")
    reach = {c: reaches[c] for c in up_clients}
    reachable = set().union(*reach.values())
    choice = _choose_replica(topology, sid, failure, reachable)
    if choice is None:
        return _down(sid, "no replica reachable from an up client site")
    waits = {d: earlier[d].recovery_s or 0.0 for d in svc.depends_on}
    slowest = max(waits, key=waits.__getitem__, default=None)
    recovery = max([choice.recovery_s, *waits.values()])
    served = sum(choice.site in reach[c] for c in up_clients) / len(up_clients)
    status, why = _status(topology, sid, choice, recovery, slowest)
    return ServiceImpact(
        service=sid,
        status=status,
        serving_site=choice.site,
        data_loss_s=choice.data_loss_s,
        recovery_s=recovery,
        split_brain_risk=choice.by_secondary and topology.primary(sid).site not in failure.sites,
        clients_served=served,
        reason=why,
    )


def _choose_replica(
    topology: Topology, sid: str, failure: FailureSet, reachable: set[str]
) -> _Choice | None:
    """The primary when reachable, else the reachable secondary losing least data (file order)."""
    primary = topology.primary(sid).site
    if primary in reachable:
        return _Choice(primary, 0.0, 0.0, False, f"primary {primary} serves")
    candidates = [r for r in topology.secondaries(sid) if r.site in reachable]
    if not candidates:
        return None
    best = min(candidates, key=lambda r: data_loss(topology, sid, r))  # first of equals
    why = (f"primary site {primary} down" if primary in failure.sites
           else "primary cut off from all clients")
    return _Choice(best.site, data_loss(topology, sid, best), topology.service(sid).failover_s,
                   True,
                   f"{why}; failed over to {best.site}")


def _status(topology: Topology, sid: str, choice: _Choice, recovery: float,
            slowest: str | None) -> tuple[Status, str]:
    svc = topology.service(sid)
    breaches = []
    if choice.data_loss_s > svc.rpo_s:
        breaches.append(f"data loss {choice.data_loss_s:g} s > RPO {svc.rpo_s:g} s")
    if recovery > svc.rto_s:
        waits = f" (waiting for {slowest})" if recovery > choice.recovery_s else ""
        breaches.append(f"recovery {recovery:g} s{waits} > RTO {svc.rto_s:g} s")
    if breaches:
        return Status.BREACH, "; ".join([choice.why, *breaches])
    return (Status.FAILOVER if choice.by_secondary else Status.OK), choice.why


def _down(sid: str, reason: str) -> ServiceImpact:
    return ServiceImpact(sid, Status.DOWN, None, None, None, False, 0.0, reason)


def inject(topology: Topology, failure: FailureSet | Iterable[str]) -> Impact:
    """What a failure does to every service, and which sites overflow.

    Args:
        topology: The model.
        failure: A :class:`FailureSet`, or references (``site:X``, ``link:Y``, ``srlg:Z``,
            ``zone:W``, ``service:V``) that are expanded to base elements.

    Raises:
        InvalidReference: a reference that does not resolve.

    Notes:
        Evaluated by the reference evaluator (:func:`evaluate`): the connected components of
        the surviving network, O(V + E), then O(N·(C + R)) for N services.
    """
    return evaluate(topology, as_failure_set(topology, failure))
