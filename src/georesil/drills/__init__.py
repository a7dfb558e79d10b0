"""Failover drills: runbook → validate → run → journal, with measured RTO/RPO and safety.

``find_runbook`` / ``load_runbook`` (:mod:`georesil.drills.catalog`,
:mod:`georesil.drills.loader`) → ``run_drill`` (:mod:`georesil.drills.runner`) in an
:class:`Environment` → a journal of JSON lines (:mod:`georesil.drills.journal`) that
``resume_drill`` continues, ``failback`` reverses and ``drill_history`` reads.
See docs/runbooks.md.

Modules, by what they are:

- ``runbook`` (the file format), ``catalog`` (runbooks by name), ``loader`` (load, bind
  parameters, validate), ``registry`` + ``probes`` + ``actions`` (the steps);
- ``environment`` (where a drill runs), ``context`` (what a step gets), ``control`` (the
  control plane's register, locks and freezes), ``observe`` (health, DNS, canaries);
- ``run_state`` (one run's state), ``step_execution`` (one step), ``runner`` (the phases),
  ``resume``, ``failback``, ``repair``, ``safety``, ``measure``, ``journal``, ``history``.
"""

from __future__ import annotations

# The step modules fill the registry when they are imported: import them here, by name, so
# that the registry is complete whatever part of the package is used first.
from georesil.drills import actions as actions
from georesil.drills import probes as probes
from georesil.drills.environment import Environment, lab_environment, outputs_environment
from georesil.drills.loader import Runbook, Step, load_runbook, parse_runbook

__all__ = ["Environment", "Runbook", "Step", "lab_environment", "load_runbook",
           "outputs_environment", "parse_runbook"]
