"""The Markdown report: the same sections as the HTML, figures as SVG files beside it.

:func:`render_markdown` returns the text and the figure files to write (relative paths), so
the caller can write everything atomically in one place.

Text from the topology (names, descriptions, reasons) is data, never markup: every ``<`` in
the document is written as ``&lt;``, so no HTML from an input file reaches a Markdown viewer
(renderers pass raw HTML through). The report's own Markdown uses no HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from georesil.report import _format as fmt
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

__all__ = ["FIGURE_DIR", "escape_html", "prose", "render_markdown"]

#: Directory, beside report.md, that holds the figures.
FIGURE_DIR = "figures"
_UNITS = {"power_mw": "Power (MW)", "gpus": "GPUs", "storage_pb": "Storage (PB)"}


def render_markdown(data: ReportData,
                    figures: Mapping[str, ReportFigure]) -> tuple[str, dict[str, str]]:
    """The report as Markdown, and the figure files (relative path → SVG text) it refers to."""
    files = {f"{FIGURE_DIR}/{name}.svg": fig.svg for name, fig in figures.items()}
    out: list[str] = [f"# {data.title}", "", data.description, "",
                      f"Generated {data.generated_at}. " + " · ".join(
                          f"{n} {k}" for k, n in data.counts.items()), ""]
    titles = dict(SECTIONS)
    for i, (key, render) in enumerate(_SECTIONS, start=1):
        out += [f"## {i}. {titles[key]}", ""]
        out += render(data, figures)
        out.append("")
    return escape_html("\n".join(out).rstrip() + "\n"), files


def escape_html(text: str) -> str:
    """``text`` with every ``<`` as ``&lt;``: no HTML tag, comment or autolink can start.

    Markdown renders ``&lt;`` as ``<``, so the text reads the same.
    """
    return text.replace("<", "&lt;")


def _fig(figures: Mapping[str, ReportFigure], name: str) -> list[str]:
    fig = figures.get(name)
    if fig is None:
        return []
    return [f"![{fig.caption}]({FIGURE_DIR}/{name}.svg)", "", f"*{fig.caption}*", ""]


def _table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def prose(text: str) -> str:
    """Free text (evidence, a fix, a name) made safe for Markdown; `backticked` parts stay code.

    Outside code spans every character Markdown could read as markup (emphasis, links,
    headings, entities) is backslash-escaped, so the text shows as written; an unbalanced
    backtick is escaped too. ``<`` is left to :func:`escape_html`, which the whole document
    passes through; ``|`` and line breaks are left to the table cell.
    """
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: nothing is code
        parts = [text]
    return "`".join(part if i % 2 else re.sub(r"([\\`*_\[\]>#!~&])", r"\\\1", part)
                    for i, part in enumerate(parts))


def _missing(data: ReportData, key: str) -> list[str]:
    return [f"> **Not available.** {data.missing[key]}", ""] if key in data.missing else []


# -- sections -----------------------------------------------------------------------------------
def _summary(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    out = [f"The {len(data.risks)} biggest risks, ranked by expected tier-weighted service loss "
           "per year = likelihood × impact (a tier-1 service down counts 100, tier 2 10, tier 3 "
           "1; a breach half). Failures with the same impact are merged.", ""]
    if not data.risks:
        return out + (_missing(data, "analysis") or
                      ["No failure in this model makes a service go down or breach.", ""])
    for r in data.risks:
        out += [f"### {r.rank}. {r.title}", "",
                f"- **Likelihood:** {r.likelihood.text}",
                f"- **Impact:** {r.impact_text}"]
        if r.fixes:
            out.append("- **Fix:**")
            out += [f"  - {f.text}" for f in r.fixes]
        out.append(f"- **Score:** {fmt.number(r.score)} weighted service losses per year")
        if r.also:
            out.append(f"- Same impact: {', '.join(r.also)}.")
        out.append("")
    highlights = annual_highlights(data)
    if highlights:
        simulated = data.inputs.annual
        span = f"{simulated.years:,}" if simulated else "the"
        out += [f"From {span} simulated years: " + " ".join(highlights), ""]
    if len(data.risks) < 5:
        out += [f"Only {len(data.risks)} distinct failures in this model affect a service; all "
                "are listed.", ""]
    return out


def _map(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    return (["Sites and links at their real coordinates; colour is criticality importance for "
             "any tier-1 service (scaled to the largest); halos mark SRLG groups.", ""]
            + _fig(figures, "map") + _missing(data, "simulate"))


def _services(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    rows = []
    for s in data.services:
        yr = s.years or {}
        avail = "—"
        if s.snapshot is not None and s.ci95 is not None:
            lo, hi = s.ci95
            avail = (f"{fmt.availability(s.snapshot.availability)} "
                     f"({fmt.availability(lo)} – {fmt.availability(hi)})")
        met = {None: "", True: " met", False: " **missed**"}[s.meets_objective]
        rows.append((f"**{s.id}** (tier {s.tier})", fmt.duration(s.rto_s), fmt.duration(s.rpo_s),
                     s.replicas, avail, fmt.availability(s.objective) + met,
                     fmt.probability(yr.get("p_outage_per_year")),
                     fmt.probability(yr.get("p_rpo_breach_per_year")),
                     fmt.number(yr.get("expected_downtime_h_per_year")),
                     fmt.number(yr.get("expected_data_loss_s_per_year"))))
    out = _table(("Service", "RTO", "RPO", "Replicas (★ primary)", "Availability (95 %)",
                  "Objective", "P(outage)/yr", "P(RPO breach)/yr", "Downtime h/yr",
                  "Data loss s/yr"), rows)
    out += [f"Objectives: tier 1 {fmt.availability(TIER_OBJECTIVES[1])}, tier 2 "
            f"{fmt.availability(TIER_OBJECTIVES[2])}, tier 3 "
            f"{fmt.availability(TIER_OBJECTIVES[3])}; met when the interval's lower bound "
            "reaches it.", ""]
    out += _missing(data, "simulate") + _missing(data, "years") + _fig(figures, "availability")
    out += ["### Predicted outcome in every scenario", ""]
    if "analysis" in data.missing:
        return out + _missing(data, "analysis")
    outcome_rows: list[tuple[Any, ...]] = []
    for scn in data.scenarios:
        hit = [(s.id, o) for s in data.services if (o := s.affected_in(scn)) is not None]
        if not hit:
            outcome_rows.append((f"**{scn}**", "all", "ok", "", "", "",
                                 "every service stays on its primary"))
        for sid, o in hit:
            status = str(o.status) + (" (split brain)" if o.split_brain_risk else "")
            outcome_rows.append((f"**{scn}**", sid, status, o.serving_site or "—",
                                 fmt.duration(o.data_loss_s), fmt.duration(o.recovery_s),
                                 o.reason))
    return out + _table(("Scenario", "Service", "Status", "Served at", "Data loss", "Recovery",
                         "Why"), outcome_rows)


def _spofs(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    if "analysis" in data.missing:
        return _missing(data, "analysis")
    out = [f"### Single points of failure ({len(data.spofs)})", ""]
    out += (_table(("Element", "What it does", "Likelihood"),
                   ((f"**{f.element}**", f.sentence, f.likelihood.text) for f in data.spofs))
            if data.spofs else ["No single site or link failure affects a service.", ""])
    out += [f"### Shared risks ({len(data.shared_risks)})", ""]
    out += (_table(("Zone / SRLG", "What it does", "Likelihood"),
                   ((f"**{f.element}**", f.sentence, f.likelihood.text)
                    for f in data.shared_risks))
            if data.shared_risks else ["No zone or SRLG failure affects a service.", ""])
    out += ["### Region cuts", ""]
    return out + _table(("Between", "Links", "Risk groups"),
                        ((f"{c.from_region} ↔ {c.to_region}", c.links, c.srlgs)
                         for c in data.region_cuts))


def _nk(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    if "analysis" in data.missing:
        return _missing(data, "analysis")
    out = _fig(figures, "nk")
    out += _table(("Failure set", "Down", "Breach", "Score", "Same effect as"),
                  ((" + ".join(r.elements), ", ".join(r.down), ", ".join(r.breach),
                    f"{r.score:g}", " + ".join(r.same_as or ()) or "—") for r in data.nk))
    return out + _fig(figures, "impact")


def _capacity(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    out = ["“As analysed” fails every site of the first region with the analysis semantics; "
           "“all load moved” serves every service of both regions in the second.", ""]
    for a in data.absorption:
        got = a.analysed
        out += [f"### {a.to_region.capitalize()} absorbing {a.from_region}: "
                f"{'yes' if got.absorbs else '**no**'}", ""]
        out += _table(("Resource", "Moved", "Demand after", f"Capacity in {a.to_region}",
                       "Shortfall", "Demand, all moved", "Shortfall, all moved"),
                      ((_UNITS.get(r.resource, r.resource), fmt.number(r.moved),
                        fmt.number(r.demand), fmt.number(r.capacity),
                        fmt.number(r.shortfall), fmt.number(w.demand), fmt.number(w.shortfall))
                       for r, w in zip(got.resources, a.all_moved, strict=True)))
        out += [f"Moved: {', '.join(got.moved_services) or 'none'}. Lost (down): "
                f"{', '.join(got.lost_services) or 'none'}.", ""]
    if not data.absorption:
        out += ["Only one region hosts primaries: nothing to absorb.", ""]
    return out


def _seismic(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    out = _fig(figures, "pga")
    out = [seismic_lead(data), "", *out]
    if data.quakes:
        first = data.quakes[0]
        head = ("Site", "Fragility median", *(f"{q.scenario} (M{q.quake.magnitude:g})"
                                              for q in data.quakes))
        out += _table(head, ((s[5:], f"{first.median_g[s]:g} g",
                              *(f"{q.elements[s].pga_g:.3f} g, P(fail) "
                                f"{fmt.probability(q.elements[s].p_fail)}"
                                for q in data.quakes)) for s in first.sites))
    else:
        out += ["The topology has no scenario quakes.", ""]
    out += ["### Loss exceedance", ""] + _missing(data, "years")
    if data.inputs.annual is not None and not data.tier1_outage_seen:
        out += [NO_LOSS_EXCEEDANCE, ""]
    if data.loss_exceedance:
        out += _table(("Tier-1 down (at least)", "Events/yr", "Return period", "P(per year)",
                       "Dominated by"),
                      ((r["tier1_down_at_least"], fmt.number(r["annual_rate"]),
                        f"{fmt.number(r['return_period_years'])} years"
                        if r["return_period_years"] else "not seen",
                        fmt.probability(r["p_per_year"]),
                        ", ".join(f"{e['event']} ({e['share']:.0%})"
                                  for e in r["dominated_by"]))
                       for r in data.loss_exceedance))
    return out + _fig(figures, "loss_exceedance")


def _importance(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    out = ["Importance for “any tier-1 service down”; Fussell–Vesely in its risk-reduction "
           "form (P − P₀)/P.", ""]
    if data.importance:
        out += _table(("#", "Element", "P(down)", "Birnbaum", "Criticality", "RAW", "RRW",
                       "Fussell–Vesely"),
                      ((i, f"**{r.element}**", fmt.number(r.p), fmt.number(r.birnbaum),
                        fmt.number(r.criticality), fmt.number(r.raw), fmt.number(r.rrw),
                        fmt.probability(r.fussell_vesely))
                       for i, r in enumerate(data.importance[:12], start=1)))
    else:
        out += _missing(data, "simulate")
    out += ["### Recommendations", ""]
    out += [f"{i}. **{r.element}** ({r.action.replace('-', ' ')}): {r.text}"
            for i, r in enumerate(data.recommendations, start=1)]
    return [*out, ""]


def _drills(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    if not data.drills:
        return _missing(data, "drills") or ["No drills recorded yet.", ""]
    out = ["Measured RTO/RPO against target and prediction. Lab drills measure the "
           "orchestration, not production DNS TTLs or data volumes: a lab RTO is a lower bound.",
           ""]
    out += _table(("#", "Started", "Runbook", "Mode", "Status", "RTO", "target", "predicted", "RPO",
                  "objects", "target", "predicted", "Split brain"),
                 ((i, d.started_at, d.runbook, d.mode, d.status,
                   fmt.duration(d.rto_s) + ("" if d.rto_ok in (None, True) else " ✗"),
                   fmt.duration(d.rto_target_s), fmt.duration(d.predicted_rto_s),
                   fmt.duration(d.rpo_s) + ("" if d.rpo_ok in (None, True) else " ✗"),
                   d.rpo_objects if d.rpo_objects is not None else "—",
                   fmt.duration(d.rpo_target_s), fmt.duration(d.predicted_rpo_s),
                   "yes" if d.split_brain else "no")
                  for i, d in enumerate(data.drills, start=1)))
    return out + _fig(figures, "drills")


def _readiness(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    ready = data.readiness
    if ready is None:
        return _missing(data, "readiness")
    out = [prose(readiness_checked(data)), ""]
    out += _table(tuple(ready.latest.counts), [tuple(ready.latest.counts.values())])
    out += [f"### Not ok ({len(ready.rows)})", ""]
    out += (_table(("Status", "Check", "Subject", "Evidence", "Fix"),
                   ((f"**{r.status}**" if r.status in ("fail", "unreachable") else r.status,
                     prose(r.check), prose(r.subject), prose(r.evidence), prose(r.fix or "—"))
                    for r in ready.rows))
            if ready.rows else ["Every check is ok.", ""])
    out += [f"### Drift ({len(ready.drift)})", ""]
    out += (_table(("Kind", "Resource", "Name", "Site", "Detail"),
                   ((d.kind, prose(d.resource), prose(d.name), prose(d.site or "—"),
                     prose(d.detail)) for d in ready.drift))
            if ready.drift else ["Nothing deployed that the model does not know, and nothing "
                                 "in the model left undeployed.", ""])
    out += ["### Over time", ""]
    out += _fig(figures, "readiness") or [
        f"Only {len(ready.runs)} readiness run is saved: the trend appears from the second.", ""]
    return [*out, drill_trend_note(data), ""]


def _method(data: ReportData, figures: Mapping[str, ReportFigure]) -> list[str]:
    return [f"- {line}" for line in method_lines(data)] + [""]


_SECTIONS = (("summary", _summary), ("map", _map), ("services", _services), ("spofs", _spofs),
             ("nk", _nk), ("capacity", _capacity), ("seismic", _seismic),
             ("importance", _importance), ("drills", _drills), ("readiness", _readiness),
             ("method", _method))
