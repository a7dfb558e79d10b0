"""``georesil inject`` and ``georesil analyze``: what a failure does, and which failures matter.

Thin: parse, call :mod:`georesil.analysis`, render. The analysis modules (and numba, which
the exhaustive sweep imports) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import JsonOpt, TopologyArg, console, load, print_json
from georesil.cli._progress import progress
from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from rich.table import Table

    from georesil.analysis.analyze import Analysis
    from georesil.analysis.impact import Impact
    from georesil.analysis.network import NetworkAnalysis
    from georesil.model import Topology
    from georesil.risk.quake import QuakeReport

__all__ = ["register"]

_STYLE = {"ok": "green", "failover": "yellow", "breach": "bold magenta", "down": "bold red"}


def register(app: typer.Typer) -> None:
    """Add ``inject`` and ``analyze`` to the ``georesil`` command."""
    app.command("inject", help=inject.__doc__)(inject)
    app.command("analyze", help=analyze.__doc__)(analyze)


def inject(
    file: Path | None = TopologyArg,
    fail: list[str] = typer.Option(
        [], "--fail", "-f", metavar="REF",
        help="Fail an element: site:ID, link:ID, srlg:ID, zone:ID or service:ID (repeatable)."),
    scenario: str | None = typer.Option(
        None, "--scenario", "-s", metavar="ID",
        help="Fail everything a scenario of the file lists, and what its quake (if it has "
             "one) breaks."),
    quake: str | None = typer.Option(
        None, "--quake", metavar="LAT,LON,MAG[,DEPTH]",
        help="Also fail what a scenario quake breaks at median ground motion (P(fail) >= 0.5); "
             "depth defaults to 10 km."),
    as_json: bool = JsonOpt,
) -> None:
    """Fail elements and show what happens to every service, and which sites overflow."""
    from georesil.analysis import inject as run_inject
    from georesil.analysis import scenario_failure
    from georesil.risk.quake import QuakeReport

    topology = load(file)
    failure = topology.expand(fail)  # InvalidReference (exit 2) names a bad --fail
    shaking = None
    if scenario is not None:
        spec = topology.scenario(scenario)
        if quake is None:  # the scenario's own list and quake, as analyze applies them
            failure = failure | scenario_failure(topology, scenario)
        else:  # an explicit --quake wins over the scenario's own
            failure = failure | topology.expand(spec.fail)
        if quake is None and spec.quake is not None:
            q = spec.quake
            shaking = QuakeReport.at(topology, q.lat, q.lon, q.magnitude, q.depth_km)
    if quake is not None:
        shaking = QuakeReport.of(topology, quake)
        failure = failure | shaking.failures
    impact = run_inject(topology, failure)
    if as_json:
        print_json(impact.to_json() | ({"quake": shaking.to_json()} if shaking else {}))
        return
    out = console()
    if shaking is not None:
        out.print(_quake_table(shaking))
    out.print(f"[bold]Failed:[/bold] {', '.join(impact.failed) or 'nothing'}")
    out.print(_impact_table(impact))
    for sid, o in impact.services.items():  # reasons as lines: a narrow column wraps badly
        if o.status.value != "ok":
            out.print(f"  • {sid} [{_STYLE[o.status.value]}]{o.status.value}[/]: {o.reason}",
                      soft_wrap=True)
    if impact.capacity_overflow:
        out.print(_overflow_table(impact))
    out.print(_summary(impact))


def analyze(
    file: Path | None = TopologyArg,
    max_order: int = typer.Option(
        2, "--max-order", "-k", metavar="K",
        help="Largest number of sites and links failing together (1 to 3)."),
    top: int = typer.Option(20, "--top", "-n", metavar="N", help="How many N-k sets to list."),
    network: bool = typer.Option(
        False, "--network",
        help="Also report network-level findings: articulation sites, bridges, partitioning "
             "SRLGs and zones, N-k by site pairs disconnected (always on without services)."),
    max_sets: int = typer.Option(
        100_000_000, "--max-sets", metavar="N",
        help="Most failure sets the exact sweep may evaluate (sets of failure classes: sites "
             "and links that can change an outcome, a chain of pass-through sites counting "
             "once; under 0.1 µs each)."),
    as_json: bool = JsonOpt,
) -> None:
    """Find single points of failure, minimal cut sets, shared risks, region cuts, N-k."""
    from georesil.analysis.analyze import MAX_ORDER
    from georesil.analysis.analyze import analyze as run_analyze

    if not 1 <= max_order <= MAX_ORDER:
        raise InvalidInput(
            f"--max-order: got {max_order}; allowed: 1 to {MAX_ORDER}. An exhaustive sweep of "
            f"every combination grows as n^K; for deeper combinations estimate risk with "
            "'georesil simulate' instead", field="max_order", value=max_order)
    if top < 0:
        raise InvalidInput(f"--top: got {top}; allowed: 0 or more", field="top", value=top)
    if max_sets < 1:
        raise InvalidInput(f"--max-sets: got {max_sets}; allowed: 1 or more", field="max_sets",
                           value=max_sets)
    topology = load(file)
    with progress("analyzing", "failure sets") as tick:
        result = run_analyze(topology, max_order=max_order, top=top, network=network,
                             max_sets=max_sets, progress=tick)
    if as_json:
        print_json(result.to_json())
        return
    _render_analysis(topology, result)


# -- rendering ------------------------------------------------------------------------------


def _table(title: str, *columns: str, whole: int = 1) -> Table:
    """A compact table (no vertical rules, to fit 80 columns); the first ``whole`` never wrap."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for i, column in enumerate(columns):
        table.add_column(column, no_wrap=i < whole)
    return table


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:g} s"


def _impact_table(impact: Impact) -> Table:
    table = _table("Services", "service", "status", "serving", "data loss", "recovery",
                   "split-brain", "served", whole=3)
    for sid, o in impact.services.items():
        status = o.status.value
        table.add_row(sid, f"[{_STYLE[status]}]{status}[/]", o.serving_site or "—",
                      _seconds(o.data_loss_s), _seconds(o.recovery_s),
                      "[bold red]yes[/]" if o.split_brain_risk else "no",
                      f"{o.clients_served:.0%}")
    return table


def _overflow_table(impact: Impact) -> Table:
    table = _table("Capacity overflow", "site", "resource", "demand", "capacity", "over by")
    for o in impact.capacity_overflow:
        table.add_row(o.site, o.resource, f"{o.demand:g}", f"{o.capacity:g}",
                      f"[bold red]{o.demand - o.capacity:g}[/]")
    return table


def _summary(impact: Impact) -> str:
    from georesil.analysis import Status

    counts = {s: len(impact.with_status(s)) for s in Status}
    parts = [f"[{_STYLE[s.value]}]{n} {s.value}[/]" for s, n in counts.items() if n]
    split = sum(o.split_brain_risk for o in impact.services.values())
    if split:
        parts.append(f"[bold red]{split} at risk of split-brain[/]")
    if impact.capacity_overflow:
        parts.append(f"[bold red]{len(impact.capacity_overflow)} capacity overflow(s)[/]")
    return ", ".join(parts)


def _render_analysis(topology: Topology, result: Analysis) -> None:
    from georesil.analysis.spof import sentence

    out = console()
    out.print(f"[bold]{topology.name}[/bold]: failure analysis up to N-{result.max_order}")
    for title, findings in (("Single points of failure", result.spofs),
                            ("Shared risks (zones and SRLGs)", result.shared_risks)):
        if not findings:
            out.print(f"[green]{title}: none[/]")
            continue
        table = _table(title, "element", "down", "breach")
        for f in findings:
            table.add_row(f.element, ", ".join(f.down) or "—", ", ".join(f.breach) or "—")
        out.print(table)
        for f in findings:  # full sentences read better than a narrow wrapped column
            out.print(f"  • {sentence(topology, f)}", soft_wrap=True)
    for shared in result.control_plane:
        out.print(f"[bold red]control plane[/] at {shared.control} shares "
                  f"{', '.join(shared.shared)} with {shared.service}'s primary "
                  f"{shared.primary}: a failure there takes the register its failover needs"
                  + ("" if shared.declared else " (no `control:` in the topology: declare a "
                     "witness outside the primaries' failure domains)"), soft_wrap=True)
    if topology.services:
        out.print(_cut_table(result))
    out.print(_region_table(result))
    if topology.services:
        out.print(_nk_table(result))
    if result.scenarios:
        out.print(_scenario_table(result))
    if result.network is not None:
        _render_network(result.network)
    if not result.exact:
        out.print("[bold yellow]Not exact:[/] a search ran out of its work budget; the "
                  "ranges above are proven bounds (see --json \"exact\").")


def _cut_table(result: Analysis) -> Table:
    table = _table(f"Minimal cut sets (at most {result.max_order} elements)", "service",
                   "smallest", "count", "cut sets (first 6)")
    for sid, cuts in result.cut_sets.items():
        smallest = str(min(len(c) for c in cuts)) if cuts else f"> {result.max_order}"
        shown = "; ".join(" + ".join(c) or "(nothing: down already)" for c in cuts[:6])
        table.add_row(sid, smallest, str(len(cuts)), shown + (" …" if len(cuts) > 6 else ""))
    return table


def _region_table(result: Analysis) -> Table:
    table = _table("Region cuts (fewest failures separating two regions)", "from", "to",
                   "links", "SRLG groups", "zones", "one SRLG cut", whole=2)
    inexact = False
    for c in result.region_cuts:
        srlgs, zones = str(c.srlgs), "none" if c.zones is None else str(c.zones)
        if c.srlgs_lower < c.srlgs:
            srlgs, inexact = f"{c.srlgs_lower}–{c.srlgs}", True
        if c.zones is not None and c.zones_lower is not None and c.zones_lower < c.zones:
            zones, inexact = f"{c.zones_lower}–{c.zones}", True
        shown = ", ".join(c.srlg_cut[:3]) + (" …" if len(c.srlg_cut) > 3 else "")
        table.add_row(c.from_region, c.to_region, str(c.links), srlgs, zones, shown or "—")
    captions = ["zones 'none': failing every zone leaves the regions connected"
                if any(c.zones is None for c in result.region_cuts) else "the full cuts: --json"]
    if inexact:
        captions.insert(0, "a–b: not exact — the search ran out of its work budget; the best "
                           "cut found has b groups and no cut has fewer than a")
    table.caption = "; ".join(captions)
    return table


def _nk_table(result: Analysis) -> Table:
    table = _table(f"Worst failure sets (N-{result.max_order}, top {len(result.nk)})", "#",
                   "elements", "score", "down", "breach")
    hidden = 0
    for i, e in enumerate(result.nk, 1):
        if e.same_as is not None:  # "X + anything" rows bury the findings that matter
            hidden += 1
            continue
        table.add_row(str(i), " + ".join(e.elements), f"{e.score:g}",
                      ", ".join(e.down) or "—", ", ".join(e.breach) or "—")
    if hidden:
        table.caption = (f"{hidden} more of the top {len(result.nk)} only add an element "
                         "that changes nothing to a set above (see --json)")
    return table


def _render_network(network: NetworkAnalysis) -> None:
    out = console()
    out.print(f"[bold]Network[/bold]: {network.sites} sites, {network.site_pairs:,} site pairs, "
              f"{network.components} connected component(s) with nothing failed")
    for title, rows in (("Articulation sites", network.articulation_sites),
                        ("Bridge links", network.bridges),
                        ("SRLGs and zones that partition the network",
                         network.partitioning_groups)):
        if not rows:
            out.print(f"[green]{title}: none[/]")
            continue
        table = _table(f"{title} ({len(rows)}, most pairs first; first 20)", "element",
                       "pairs cut", "share", "components")
        for f in rows[:20]:
            table.add_row(f.elements[0], f"{f.pairs:,}", f"{f.share:.2%}", str(f.components))
        out.print(table)
    table = _table(f"Worst failure sets by site pairs disconnected (N-{network.max_order}, "
                   f"top {len(network.nk)})", "#", "elements", "pairs cut", "share")
    for i, f in enumerate(network.nk, 1):
        table.add_row(str(i), " + ".join(f.elements), f"{f.pairs:,}", f"{f.share:.2%}")
    table.caption = ("pairs: single sites and links, and pairs inside one biconnected block "
                     "that cut more than either alone" if network.max_order > 1 else None)
    if not network.exact:
        table.caption = (table.caption or "") + \
            "; not exact: the pair search ran out of its work budget"
    out.print(table)


def _scenario_table(result: Analysis) -> Table:
    from georesil.analysis import Status

    table = _table("Scenarios", "scenario", "down", "breach", "also")
    for sid, impact in result.scenarios.items():
        also = [f"{len(impact.with_status(Status.FAILOVER))} failover"]
        split = [s for s, o in impact.services.items() if o.split_brain_risk]
        if split:
            also.append("split-brain risk: " + ", ".join(split))
        if impact.capacity_overflow:
            also.append("overflow: " + ", ".join(f"{o.site} {o.resource}"
                                                 for o in impact.capacity_overflow))
        table.add_row(sid, ", ".join(impact.with_status(Status.DOWN)) or "—",
                      ", ".join(impact.with_status(Status.BREACH)) or "—", "; ".join(also))
    return table


def _quake_table(shaking: QuakeReport) -> Table:
    """A rich table of every element's shaking under a scenario quake, nearest first."""
    from rich.table import Table

    table = Table(title=f"Quake M{shaking.magnitude:g} at {shaking.lat:g}, {shaking.lon:g}, "
                        f"{shaking.depth_km:g} km (median PGA, Lin 2009)")
    for col in ("element", "R_rup km", "PGA g", "P(fail)", "fails"):
        table.add_column(col, justify="left" if col == "element" else "right")
    for r in sorted(shaking.rows, key=lambda r: r.distance_km):
        table.add_row(r.element, f"{r.distance_km:.0f}", f"{r.pga_g:.3f}",
                      f"{r.p_fail:.3f}", "[bold red]yes[/]" if r.fails else "no")
    return table
