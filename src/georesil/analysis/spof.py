"""Single points of failure and shared risks, with an explanation in words for each.

A single point of failure is one site or link whose failure alone makes some service down or
breach; a shared risk is a zone or SRLG whose failure does. As in N-k, services already down
(or, for breach, already down or breaching) with nothing failed are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from georesil.analysis._class_sweep import ClassSweep, class_sweep
from georesil.analysis._sweep import Sweep, sweep
from georesil.analysis.impact import Impact, Status
from georesil.analysis.kernel import CompiledTopology, compile_topology, evaluate_sets, unpack
from georesil.analysis.nk import new_effects
from georesil.analysis.reference import inject
from georesil.model import FailureSet, Topology

__all__ = ["Finding", "explain", "sentence", "shared_risk_groups", "shared_risks",
           "shared_risks_reference", "spofs", "spofs_exhaustive"]


@dataclass(frozen=True)
class Finding:
    """One element (``site:X``, ``link:Y``, ``zone:Z``, ``srlg:W``) and what its failure does."""

    element: str
    down: tuple[str, ...]
    breach: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"element": self.element, "down": list(self.down), "breach": list(self.breach)}


def spofs(topology: Topology, result: ClassSweep | None = None) -> list[Finding]:
    """Every site and link whose failure alone makes some service down or breach (file order).

    Args:
        topology: The model.
        result: A class sweep already computed (e.g. by ``analyze``): its failure classes
            and compiled reduced topology are used.

    Notes:
        One kernel evaluation per failure class: an element does what its class does, and an
        element that cannot change an outcome is never a SPOF. O(c·(V + E + N)) in c/64
        words for c classes.
    """
    result = result or class_sweep(topology, 1)
    down, breach = result.effects([(c,) for c in range(len(result.classes))])
    found = []
    for i, c in enumerate(result.classes.of_element.tolist()):
        if c >= 0 and (down[:, c].any() or breach[:, c].any()):
            found.append(Finding(
                element=topology.elements[i],
                down=tuple(s for j, s in enumerate(result.service_ids) if down[j, c]),
                breach=tuple(s for j, s in enumerate(result.service_ids) if breach[j, c]),
            ))
    return found


def spofs_exhaustive(topology: Topology, result: Sweep | None = None) -> list[Finding]:
    """:func:`spofs` from an exhaustive sweep of every element (the tests' reference).

    Notes:
        One kernel evaluation per element: O(n·(V + E + N)) in n/64 words.
    """
    result = result or sweep(topology, 1)
    down, breach = new_effects(result, 1)
    found = []
    for t in np.nonzero(down.any(axis=0) | breach.any(axis=0))[0]:
        found.append(Finding(
            element=result.elements[int(result.levels[1].combos[t, 0])],
            down=tuple(s for i, s in enumerate(result.service_ids) if down[i, t]),
            breach=tuple(s for i, s in enumerate(result.service_ids) if breach[i, t]),
        ))
    return found


def shared_risk_groups(topology: Topology) -> dict[str, FailureSet]:
    """Every zone (file order) then every SRLG (sorted), with the base elements it fails."""
    groups = {f"zone:{z}": topology.zone_members(z) for z in topology.zones}
    groups.update({f"srlg:{g}": topology.resolve(f"srlg:{g}") for g in topology.srlgs})
    return groups


def shared_risks(topology: Topology, ct: CompiledTopology | None = None) -> list[Finding]:
    """Every zone and SRLG whose failure makes some service down or breach.

    Args:
        topology: The model.
        ct: Its compiled form, if already built.

    Notes:
        One bit-parallel kernel evaluation of the G groups and the baseline: O(G/64·(V + E + N)).
        :func:`shared_risks_reference` is the same with the reference evaluator, one group at
        a time (the tests compare them).
    """
    groups = shared_risk_groups(topology)
    ct = ct or compile_topology(topology)
    out = evaluate_sets(ct, [FailureSet(), *groups.values()])
    down, breach = unpack(out.down, len(groups) + 1), unpack(out.breach, len(groups) + 1)
    new_down = down[:, 1:] & ~down[:, :1]
    new_breach = breach[:, 1:] & ~(down[:, :1] | breach[:, :1])
    found = []
    for t, ref in enumerate(groups):
        finding = Finding(
            ref, tuple(s for i, s in enumerate(ct.service_ids) if new_down[i, t]),
            tuple(s for i, s in enumerate(ct.service_ids) if new_breach[i, t]))
        if finding.down or finding.breach:
            found.append(finding)
    return found


def shared_risks_reference(topology: Topology) -> list[Finding]:
    """:func:`shared_risks` by the reference evaluator, one evaluation per group."""
    baseline = inject(topology, FailureSet())
    found = []
    for ref, members in shared_risk_groups(topology).items():
        finding = _finding(ref, baseline, inject(topology, members))
        if finding.down or finding.breach:
            found.append(finding)
    return found


def _finding(ref: str, baseline: Impact, impact: Impact) -> Finding:
    before = {s: o.status for s, o in baseline.services.items()}
    down = tuple(s for s in impact.with_status(Status.DOWN) if before[s] is not Status.DOWN)
    breach = tuple(s for s in impact.with_status(Status.BREACH)
                   if before[s] not in (Status.DOWN, Status.BREACH))
    return Finding(ref, down, breach)


def explain(topology: Topology, failure: FailureSet, service: str, impact: Impact) -> str:
    """Why ``failure`` makes ``service`` down or breach, in a few words.

    ``"its only replica"``, ``"all its replicas"``, ``"its only client site"``,
    ``"depends on dns, which goes down too"``, ``"cuts every client site off from every
    replica"``, or the breach reason (``"primary site x down; failed over to y; data loss 60 s
    > RPO 30 s"``).
    """
    out = impact.services[service]
    svc = topology.service(service)
    if out.status is not Status.DOWN:
        return out.reason
    if service in failure.services:
        return "the service itself fails"
    dead_deps = [d for d in svc.depends_on if impact.services[d].status is Status.DOWN]
    if dead_deps:
        return f"depends on {', '.join(dead_deps)}, which goes down too"
    replica_sites = {r.site for r in svc.replicas}
    if replica_sites <= failure.sites:
        return "its only replica" if len(replica_sites) == 1 else "all its replicas"
    clients = set(topology.clients(service))
    if clients <= failure.sites:
        return "its only client site" if len(clients) == 1 else "all its client sites"
    return "cuts every client site off from every replica"


def sentence(topology: Topology, finding: Finding) -> str:
    """A finding in words: ``site:x is a single point of failure for dns: its only replica``."""
    failure = topology.expand([finding.element])
    impact = inject(topology, failure)

    def why(services: tuple[str, ...]) -> str:
        if len(services) == 1:
            return f"{services[0]}: {explain(topology, failure, services[0], impact)}"
        parts = [f"{s} ({explain(topology, failure, s, impact)})" for s in services]
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    single = finding.element.startswith(("site:", "link:"))
    clauses = []
    if finding.down:
        verb = "is a single point of failure for" if single else "takes down"
        clauses.append(f"{verb} {why(finding.down)}")
    if finding.breach:
        clauses.append(f"breaks the objectives of {why(finding.breach)}")
    return f"{finding.element} " + "; it ".join(clauses)
