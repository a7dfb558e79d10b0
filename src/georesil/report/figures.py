"""The report's figures, drawn with matplotlib from a :class:`~georesil.report.data.ReportData`.

Each figure is rendered once to SVG text (inlined by the HTML report, written beside the
Markdown one). Text stays text in the SVG (``svg.fonttype: none``) so it is crisp and
searchable, and every figure gets its own ``svg.hashsalt`` so that element ids of several
figures inlined in one page never collide. A figure whose data is absent is simply not made;
the section says why in words.

This module imports matplotlib: the CLI imports the report package only when it renders.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from georesil.analysis import NkEntry
from georesil.model import Topology
from georesil.report.data import ReportData
from georesil.report.inputs import DrillEvidence
from georesil.report.topology_map import render_map

__all__ = ["STATUS_COLORS", "ReportFigure", "render_figures"]

#: Status colours shared by the heat map, the tables and the CSS.
STATUS_COLORS = {"ok": "#d8ecd9", "failover": "#a9c9ea", "breach": "#f2b35e", "down": "#d1495b"}
_INK, _MUTED, _GRID = "#1e2a33", "#5c6b73", "#e3e8ec"
_ACCENT, _ACCENT2, _GOOD, _BAD = "#1f5fa8", "#e9a03b", "#2a9d8f", "#d1495b"
_QUAKE_COLORS = ("#1f5fa8", "#e9a03b", "#2a9d8f", "#d1495b", "#8e5ea2", "#5c6b73")


@dataclass(frozen=True)
class ReportFigure:
    """One rendered figure: a file-friendly name, its caption and the SVG text."""

    name: str
    caption: str
    svg: str

    @property
    def inline_svg(self) -> str:
        """The SVG without its XML prologue, ready to inline in HTML."""
        start = self.svg.find("<svg")
        body = self.svg[start:] if start >= 0 else self.svg
        body = re.sub(r"<!--.*?-->", "", body, flags=re.S)
        # matplotlib numbers its ids per figure (figure_1, axes_1...): prefix them so that
        # several figures in one page keep unique ids and their internal references.
        prefix = f"fig-{self.name}-"
        body = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m[1]}"', body)
        body = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m[1]}"', body)
        return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m[1]})", body)


def render_figures(data: ReportData, topology: Topology) -> dict[str, ReportFigure]:
    """Every figure the data allows, keyed by name (``map``, ``impact``, ``nk``, ...)."""
    makers: list[tuple[str, str, Callable[[ReportData], Figure | None]]] = [
        ("impact", "Predicted status of every service (columns) in every scenario (rows).",
         _impact_heatmap),
        ("nk", "The worst combinations of up to two site/link failures, by tier-weighted score "
         "(a combination that only adds an element to a listed one is folded).",
         _nk_bars),
        ("availability", "Snapshot availability (in nines) with its 95 % interval against the "
         "tier objective.", _availability),
        ("loss_exceedance", "Annual probability that at least N tier-1 services are down at "
         "once.", _loss_exceedance),
        ("pga", "Median peak ground acceleration at each site in the scenario quakes, against "
         "the site's fragility median.", _pga),
        ("drills", "Measured RTO and RPO of each drill against the target and the prediction.",
         _drills),
        ("readiness", "Failing and warning readiness results in each saved run over time "
         "(each count holds until the next run).", _readiness),
    ]
    out: dict[str, ReportFigure] = {}
    map_svg, map_caption = _map_svg(data, topology)
    out["map"] = ReportFigure("map", "Sites and links at their real coordinates (links along "
                              "great circles), coloured by criticality for any tier-1 service; "
                              f"halos mark SRLG groups. {map_caption}", map_svg)
    for name, caption, make in makers:
        fig = make(data)
        if fig is not None:
            out[name] = ReportFigure(name, caption, _svg(fig, name))
    return out


# -- plumbing -----------------------------------------------------------------------------------
def _rc(name: str) -> Any:  # matplotlib types rc keys as a Literal union
    return {"svg.fonttype": "none", "svg.hashsalt": f"georesil-{name}",
            "font.family": "DejaVu Sans", "font.size": 9, "axes.edgecolor": "#b8c4cc",
            "axes.labelcolor": _INK, "xtick.color": _MUTED, "ytick.color": _MUTED,
            "axes.titlesize": 10, "axes.titleweight": "bold", "axes.titlelocation": "left"}


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Figure, name: str) -> str:
    buf = io.StringIO()
    with rc_context(_rc(name)):
        fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None})
    return buf.getvalue()


def _map_svg(data: ReportData, topology: Topology) -> tuple[str, str]:
    """The map's SVG text and the sentence its caption adds (basemap, projection, labels)."""
    colors = dict(data.map_criticality) or None
    title = (f"{topology.name}: criticality for any tier-1 service" if colors
             else f"{topology.name}: sites and links")
    with rc_context(_rc("map")):
        svg, info = render_map(topology, "svg", element_colors=colors, title=title)
    return svg.decode("utf-8"), info.caption()


def _style(ax: Any) -> None:
    ax.grid(axis="x", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


# -- figures ------------------------------------------------------------------------------------
def _impact_heatmap(data: ReportData) -> Figure | None:
    scenarios = [s for s in data.scenarios if any(s in r.outcomes for r in data.services)]
    if not scenarios:
        return None
    with _rc_ctx("impact"):
        order = list(STATUS_COLORS)
        grid = [[order.index(r.outcomes[s].status) if s in r.outcomes else 0
                 for r in data.services] for s in scenarios]
        fig = _figure(9.0, 1.2 + 0.36 * len(scenarios))
        ax = fig.add_subplot()
        ax.imshow(grid, cmap=ListedColormap(list(STATUS_COLORS.values())), vmin=0,
                  vmax=len(order) - 1, aspect="auto")
        for i, s in enumerate(scenarios):
            for j, row in enumerate(data.services):
                out = row.outcomes.get(s)
                if out and out.status != "ok":
                    label = {"failover": "→", "breach": "!", "down": "✕"}[out.status]
                    ax.text(j, i, label, ha="center", va="center", fontsize=9,
                            color="white" if out.status == "down" else _INK)
        ax.set_xticks(range(len(data.services)),
                      [f"{r.id}\n(tier {r.tier})" for r in data.services], rotation=35,
                      ha="right", fontsize=8)
        ax.set_yticks(range(len(scenarios)), scenarios, fontsize=8)
        ax.tick_params(length=0)
        ax.set_xticks([x - 0.5 for x in range(1, len(data.services))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(scenarios))], minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        marks = {"ok": "", "failover": "→ ", "breach": "! ", "down": "✕ "}
        ax.legend(handles=[Patch(color=c, label=f"{marks[k]}{k}")
                           for k, c in STATUS_COLORS.items()],
                  loc="lower left", bbox_to_anchor=(0, 1.01), ncols=4, frameon=False, fontsize=8)
    return fig


def _nk_bars(data: ReportData) -> Figure | None:
    rows = [r for r in data.nk if not r.same_as][:12]
    if not rows:
        return None
    with _rc_ctx("nk"):
        fig = _figure(9.0, 0.9 + 0.3 * len(rows))
        ax = fig.add_subplot()
        labels = [" + ".join(r.elements) for r in rows]
        scores = [float(r.score) for r in rows]
        colors = [_BAD if r.down else _ACCENT2 for r in rows]
        y = list(range(len(rows)))[::-1]
        ax.barh(y, scores, color=colors, height=0.65)
        for yi, r, sc in zip(y, rows, scores, strict=True):
            ax.text(sc, yi, f"  {sc:g}  {_effect(r)}", va="center", fontsize=7.5,
                    color=_MUTED)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_xlim(0, max(scores) * 2.4)
        ax.set_xlabel("score (tier-1 down 100, tier 2 10, tier 3 1; a breach half)")
        _style(ax)
    return fig


def _effect(row: NkEntry) -> str:
    """``down: a, b +2 · breach: c`` — short enough to sit beside a bar."""
    parts = []
    for key, names in (("down", row.down), ("breach", row.breach)):
        if names:
            more = f" +{len(names) - 2}" if len(names) > 2 else ""
            parts.append(f"{key}: {', '.join(names[:2])}{more}")
    return " · ".join(parts)


def _availability(data: ReportData) -> Figure | None:
    rows = [r for r in data.services if r.snapshot]
    if not rows:
        return None

    cap = 7.0  # an estimate of 1.0 (no failure seen) is drawn at the right edge

    def nines(a: float) -> float:
        return min(cap, -math.log10(max(1.0 - a, 1e-12)))

    with _rc_ctx("availability"):
        fig = _figure(9.0, 0.9 + 0.34 * len(rows))
        ax = fig.add_subplot()
        y = list(range(len(rows)))[::-1]
        for yi, r in zip(y, rows, strict=True):
            a = r.snapshot.availability if r.snapshot else 1.0
            lo, hi = r.ci95 or (a, a)
            ok = r.meets_objective
            color = _GOOD if ok else _BAD
            ax.plot([nines(lo), nines(hi)], [yi, yi], color=color, linewidth=2.4, alpha=0.55,
                    solid_capstyle="butt")
            ax.plot([nines(a)], [yi], "o", color=color, markersize=6)
            ax.plot([nines(r.objective)], [yi], marker="|", color=_INK, markersize=14,
                    markeredgewidth=2)
            label = "no failure seen" if a >= 1.0 else f"{a * 100:.4f} %"
            at = max(nines(hi), nines(r.objective)) + 0.05
            ax.text(min(at, cap - 0.05), yi + (0.3 if at >= cap - 0.05 else 0), label,
                    va="center", ha="right" if at >= cap - 0.05 else "left", fontsize=7.5,
                    color=_MUTED)
        ax.set_yticks(y, [f"{r.id} (tier {r.tier})" for r in rows], fontsize=8)
        ticks = [2, 3, 4, 5, 6, 7]
        ax.set_xticks(ticks, [f"{100 - 10 ** (2 - t):.{max(t - 2, 0)}f} %" for t in ticks])
        ax.set_xlim(2.5, cap + 0.05)
        ax.set_xlabel("availability (log scale of unavailability); ● estimate, bar 95 % "
                      "interval, | tier objective")
        _style(ax)
    return fig


def _loss_exceedance(data: ReportData) -> Figure | None:
    rows = [r for r in data.loss_exceedance if _lec_point(r)]
    if len(rows) < 2:  # one point is no curve: the table beside it says it all
        return None
    pts = sorted(p for p in (_lec_point(r) for r in rows) if p is not None)
    with _rc_ctx("loss_exceedance"):
        fig = _figure(9.0, 3.2)
        ax = fig.add_subplot()
        xs, ps = [p[0] for p in pts], [p[1] for p in pts]
        ax.step(xs, ps, where="post", color=_ACCENT, linewidth=2)
        ax.plot(xs, ps, "o", color=_ACCENT, markersize=4)
        for x, p in pts:
            ax.annotate(f"1 in {1 / p:,.0f} years", (x, p), xytext=(4, 4),
                        textcoords="offset points", fontsize=7.5, color=_MUTED)
        ax.set_yscale("log")
        ax.set_xticks(xs)
        ax.set_xlabel("tier-1 services down at once (at least)")
        ax.set_ylabel("probability per year")
        ax.grid(color=_GRID, linewidth=0.8)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def _lec_point(row: Any) -> tuple[float, float] | None:
    """(loss, annual exceedance probability) from one loss-exceedance row, whatever its keys."""
    if not isinstance(row, dict):
        return None
    loss = next((row[k] for k in ("tier1_down_at_least", "tier1_down", "loss") if k in row),
                None)
    prob = next((row[k] for k in ("p_per_year", "annual_probability") if k in row), None)
    if prob is None and row.get("return_period_years"):
        prob = 1.0 / float(row["return_period_years"])
    if loss is None or prob is None or float(prob) <= 0:
        return None
    return float(loss), float(prob)


def _pga(data: ReportData) -> Figure | None:
    if not data.quakes:
        return None
    sites = data.quakes[0].sites
    with _rc_ctx("pga"):
        fig = _figure(9.0, 3.8)
        ax = fig.add_subplot()
        n = len(data.quakes)
        width = 0.8 / n
        for i, q in enumerate(data.quakes):
            xs = [j + (i - (n - 1) / 2) * width for j in range(len(sites))]
            ax.bar(xs, [q.elements[s].pga_g for s in sites], width=width * 0.95,
                   color=_QUAKE_COLORS[i % len(_QUAKE_COLORS)],
                   label=f"{q.scenario} (M{q.quake.magnitude:g})")
        medians = [data.quakes[0].median_g[s] for s in sites]
        if medians:
            ax.plot(range(len(sites)), medians, linestyle="", marker="_", markersize=22,
                    markeredgewidth=2, color=_INK, label="fragility median (50 % failure)")
        ax.set_xticks(range(len(sites)), [s[5:] for s in sites], rotation=30, ha="right",
                      fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("median PGA (g, log scale)")
        ax.legend(fontsize=7.5, frameon=False, ncols=2)
        ax.grid(axis="y", color=_GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def _drills(data: ReportData) -> Figure | None:
    runs = list(data.drills)  # all of them, so that #n matches the table's numbering
    if not any(d.rto_s is not None or d.rpo_s is not None for d in runs):
        return None
    with _rc_ctx("drills"):
        fig = _figure(9.0, 3.4)
        axes = fig.subplots(1, 2)
        for ax, key, title in ((axes[0], "rto", "RTO (s, symmetric log scale)"),
                               (axes[1], "rpo", "RPO (s, symmetric log scale)")):
            _drill_panel(ax, runs, key, title)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=4, frameon=False,
                   fontsize=7.5)
    return fig


def _drill_panel(ax: Any, runs: list[DrillEvidence], key: str, title: str) -> None:
    """Measured (●), predicted (◇) and target (—) per run, on a symmetric-log scale: lab
    measurements in seconds and targets in hours share one axis."""
    books = list(dict.fromkeys(r.runbook for r in runs))
    for b_i, book in enumerate(books):
        color = _QUAKE_COLORS[b_i % len(_QUAKE_COLORS)]
        mine = [i for i, r in enumerate(runs) if r.runbook == book]
        measured = [(i, float(getattr(runs[i], f"{key}_s"))) for i in mine
                    if getattr(runs[i], f"{key}_s") is not None]
        predicted = [(i, float(getattr(runs[i], f"predicted_{key}_s"))) for i in mine
                     if getattr(runs[i], f"predicted_{key}_s") is not None]
        if measured:
            ax.plot(*zip(*measured, strict=True), "o", color=color, markersize=7,
                    label=f"{book}: measured")
        if predicted:
            ax.plot(*zip(*predicted, strict=True), "D", mfc="none", color=color,
                    markersize=7, label=f"{book}: predicted")
        if len(measured) >= 2:
            xs, ys = zip(*measured, strict=True)
            slope, icept = np.polyfit(xs, ys, 1)
            ax.plot([xs[0], xs[-1]], [icept + slope * xs[0], icept + slope * xs[-1]],
                    color=color, linewidth=1, linestyle=":", label=f"{book}: trend")
    targets = [(i, float(getattr(r, f"{key}_target_s"))) for i, r in enumerate(runs)
               if getattr(r, f"{key}_target_s") is not None]
    if targets:
        ax.plot(*zip(*targets, strict=True), linestyle="", marker="_", markersize=22,
                markeredgewidth=2, color=_BAD, label="target")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0)
    ax.set_xlim(-0.6, len(runs) - 0.4)
    ax.set_xticks(range(len(runs)), [f"#{i + 1}\n{_when(r.started_at)}"
                                     for i, r in enumerate(runs)], fontsize=7.5)
    ax.set_title(title)
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


#: Readiness statuses drawn in the trend, with their colours; ``unreachable`` only when seen.
_READINESS_LINES = (("fail", _BAD), ("warn", _ACCENT2), ("unreachable", "#8e5ea2"))


def _readiness(data: ReportData) -> Figure | None:
    runs = data.readiness.runs if data.readiness else ()
    if len(runs) < 2:  # one run is no trend: the counts beside it say it all
        return None
    # Concise date ticks (matplotlib picks the date converter from rcParams when it plots).
    with rc_context(_rc("readiness") | {"date.converter": "concise"}):
        fig = _figure(9.0, 3.0)
        ax = fig.add_subplot()
        when = np.array([dt.datetime.fromtimestamp(r.started_at, dt.UTC).replace(tzinfo=None)
                         for r in runs], dtype="datetime64[s]")
        top = 1
        for status, color in _READINESS_LINES:
            counts = [r.counts[status] for r in runs]
            if status == "unreachable" and not any(counts):
                continue
            top = max(top, *counts)
            ax.step(when, counts, where="post", color=color, linewidth=1.8, label=status)
            ax.plot(when, counts, "o", color=color, markersize=3.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(-0.1 * top, top * 1.15)
        ax.set_ylabel("results")
        ax.set_xlabel(f"readiness run started (UTC); {len(runs)} runs")
        ax.legend(fontsize=7.5, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0),
                  ncols=3)
        ax.grid(axis="y", color=_GRID, linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return fig


def _when(started_at: Any) -> str:
    """``2026-11-28T16:04:02Z`` → ``11-28 16:04``."""
    text = str(started_at or "")
    return f"{text[5:10]} {text[11:16]}".strip() if len(text) >= 16 else text


def _rc_ctx(name: str) -> Any:
    return rc_context(_rc(name))
