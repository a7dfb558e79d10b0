"""The HTML report: one self-contained file (inline SVG and CSS; no script, font or URL).

The page is ``templates/report.html.j2`` rendered with jinja2 (autoescaped) from a
:class:`~georesil.report.data.ReportData` and its figures. It reads well on a laptop screen and
prints on A4 (``@media print``: one section per page, tables and figures kept whole).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from georesil.report import _format
from georesil.report.data import SECTIONS, TIER_OBJECTIVES, annual_highlights

if TYPE_CHECKING:
    from georesil.report.data import ReportData
    from georesil.report.figures import ReportFigure

__all__ = ["render_html"]

UNITS = {"power_mw": "Power (MW)", "gpus": "GPUs", "storage_pb": "Storage (PB)"}


def render_html(data: ReportData, figures: Mapping[str, ReportFigure]) -> str:
    """The report as one HTML document."""
    import jinja2

    from georesil import __version__

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
        scenario_rows=_scenario_rows(data), site_refs=_site_refs(data), units=UNITS,
        objectives=TIER_OBJECTIVES, inputs=_Inputs(data.inputs),
    )


def _code(text: str) -> Any:
    """Escape ``text`` and show its `backticked` parts as code."""
    from markupsafe import Markup, escape

    parts = str(escape(text)).split("`")
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


class _FigureMap(dict[str, Any]):
    """Figures by name; a missing figure is ``None`` rather than an error in the template."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


class _Inputs(_FigureMap):
    pass


def _kpis(data: ReportData) -> dict[str, Any]:
    tier1 = [s for s in data.services if s.tier == 1]
    known = [s.meets_objective for s in tier1 if s.meets_objective is not None]
    failed = sum(1 for d in data.drills if d.rto_ok is False or d.rpo_ok is False
                 or d["status"] not in ("completed", None))
    return {"tier1_total": len(tier1), "tier1_ok": sum(known) if known else None,
            "drills_failed": failed, "annual": annual_highlights(data)}


def _scenario_rows(data: ReportData) -> dict[str, list[tuple[str, Any]]]:
    """Per scenario, the services that do not simply stay on their primary."""
    rows: dict[str, list[tuple[str, Any]]] = {}
    for scn in data.scenarios:
        rows[scn] = [(s.id, _Row(s.outcomes[scn])) for s in data.services
                     if scn in s.outcomes and (s.outcomes[scn]["status"] != "ok"
                                               or s.outcomes[scn].get("split_brain_risk"))]
    return rows


class _Row(_FigureMap):
    pass


def _site_refs(data: ReportData) -> list[str]:
    return [k for k in data.quakes[0].elements if k.startswith("site:")] if data.quakes else []
