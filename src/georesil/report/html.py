"""The HTML report: one self-contained file (inline SVG and CSS; no script, font or URL).

The page is ``templates/report.html.j2`` rendered with jinja2 (autoescaped) from a
:class:`~georesil.report.data.ReportData` and its figures. It reads well on a laptop screen and
prints on A4 (``@media print``: one section per page, tables and figures kept whole).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup, escape

from georesil import __version__
from georesil.report import _format
from georesil.report.data import (
    SECTIONS,
    TIER_OBJECTIVES,
    ReportData,
    annual_highlights,
    drill_trend_note,
    readiness_checked,
)
from georesil.report.figures import ReportFigure
from georesil.report.method import NO_LOSS_EXCEEDANCE, method_lines, seismic_lead

__all__ = ["render_html"]

UNITS = {"power_mw": "Power (MW)", "gpus": "GPUs", "storage_pb": "Storage (PB)"}


def render_html(data: ReportData, figures: Mapping[str, ReportFigure]) -> str:
    """The report as one HTML document."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("georesil.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["code"] = _code
    template = env.get_template("report.html.j2")
    return template.render(
        d=data, figs=_FigureMap(figures), fmt=_format, version=__version__,
        sections=SECTIONS, section_title=dict(SECTIONS), kpi=_kpis(data),
        scenario_rows=_scenario_rows(data), units=UNITS, objectives=TIER_OBJECTIVES,
        seismic_lead=seismic_lead(data), no_loss_exceedance=NO_LOSS_EXCEEDANCE,
        method=method_lines(data), readiness_checked=readiness_checked(data),
        drill_trend=drill_trend_note(data),
    )


def _code(text: str) -> Markup:
    """Escape ``text`` and show its `backticked` parts as code."""
    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


class _FigureMap(dict[str, ReportFigure]):
    """Figures by name; a missing figure is ``None`` rather than an error in the template."""

    def __getattr__(self, name: str) -> ReportFigure | None:
        return self.get(name)


def _kpis(data: ReportData) -> dict[str, Any]:
    tier1 = [s for s in data.services if s.tier == 1]
    known = [s.meets_objective for s in tier1 if s.meets_objective is not None]
    failed = sum(1 for d in data.drills if d.rto_ok is False or d.rpo_ok is False
                 or d.status != "completed")
    return {"tier1_total": len(tier1), "tier1_ok": sum(known) if known else None,
            "drills_failed": failed, "annual": annual_highlights(data)}


def _scenario_rows(data: ReportData) -> dict[str, list[tuple[str, Any]]]:
    """Per scenario, the services that do not simply stay on their primary."""
    return {scn: [(s.id, o) for s in data.services if (o := s.affected_in(scn)) is not None]
            for scn in data.scenarios}
