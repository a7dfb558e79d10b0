"""Readiness: continuous checks that what is deployed can really fail over now.

``run_readiness`` audits every service against the model and the deployed resources — storage
(buckets, versioning, encryption, public access, replication mechanism and lag vs the RPO),
DNS (failover records and health checks), the control plane (witness, register, locks),
capacity (any single-site loss absorbed) and drills (recent enough for the tier) — one
:class:`CheckResult` per check and subject, plus drift. :mod:`georesil.readiness.metrics`
exports the results in the Prometheus exposition format. docs/readiness.md lists every check.
"""

from __future__ import annotations

# The check modules register themselves on import: import them all here, once.
from georesil.readiness import capacity, control, dns, drill_age, storage
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import REGISTRY, CheckSpec, check
from georesil.readiness.results import CheckResult, CheckStatus, DriftItem, ReadinessReport
from georesil.readiness.run import run_readiness, select_checks

__all__ = [
    "REGISTRY",
    "CheckResult",
    "CheckSpec",
    "CheckStatus",
    "DriftItem",
    "ReadinessContext",
    "ReadinessReport",
    "capacity",
    "check",
    "control",
    "dns",
    "drill_age",
    "run_readiness",
    "select_checks",
    "storage",
]
