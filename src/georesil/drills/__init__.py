"""Failover drills: runbook → validate → run → journal, with measured RTO/RPO and safety.

``load_runbook`` → ``run_drill`` (:mod:`georesil.drills.runner`) → a journal of JSON lines
(:mod:`georesil.drills.journal`) that ``resume_drill`` continues and ``drill_history`` reads.
See docs/runbooks.md.
"""

from __future__ import annotations

from georesil.drills.loader import Runbook, Step, load_runbook, parse_runbook

__all__ = ["Runbook", "Step", "load_runbook", "parse_runbook"]
