"""Reports and figures: HTML, Markdown and JSON renderers of typed inputs, and the map.

A pure renderer: :func:`write_report` takes :class:`ReportInputs` (the topology, the analysis,
the simulations, the drill and readiness evidence and the advice, all typed; collected by
:func:`georesil.app.collect_inputs`) and writes the files. This package imports only the core
(model, analysis, hazards, risk, advice). The topology map lives in
:mod:`georesil.report.topology_map` (``draw_topology_map``).
"""

from __future__ import annotations

from georesil.report.build import FORMATS, check_output_dir, parse_formats, write_report
from georesil.report.inputs import DrillEvidence, ReadinessEvidence, ReportInputs

__all__ = [
    "FORMATS",
    "DrillEvidence",
    "ReadinessEvidence",
    "ReportInputs",
    "check_output_dir",
    "parse_formats",
    "write_report",
]
