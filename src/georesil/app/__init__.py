"""Application workflows: what the CLI commands do, built from the layers below.

``georesil demo`` (:func:`run_demo`), the report's input collection (:func:`collect_inputs`:
analysis, simulations, drill history, saved readiness runs), and the wiring of a local lab for
a workflow (:func:`open_lab`). Everything here is typed; JSON only at the file edges (drill
journals, saved readiness runs, ``report.json``). The layers are drawn in docs/architecture.md.
"""

from __future__ import annotations

from georesil.app.demo import DemoDrill, DemoResult, DemoSettings, run_demo
from georesil.app.environment import LabSettings, LabWorld, close_lab, open_lab
from georesil.app.report import (
    Stage,
    collect_inputs,
    drill_evidence,
    readiness_evidence,
    report_inputs,
)

__all__ = [
    "DemoDrill",
    "DemoResult",
    "DemoSettings",
    "LabSettings",
    "LabWorld",
    "Stage",
    "close_lab",
    "collect_inputs",
    "drill_evidence",
    "open_lab",
    "readiness_evidence",
    "report_inputs",
    "run_demo",
]
