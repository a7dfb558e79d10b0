"""``georesil report`` (and ``georesil demo``): the risk report, and the end-to-end tour.

Thin: parse, call :mod:`georesil.app` (collect the inputs, or run the demo) and
:func:`georesil.report.write_report`, print where the files went. Both are imported inside the
commands: they pull in matplotlib and jinja2, which ``georesil --help`` must not load.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from georesil.cli._common import TopologyArg, console, load

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to the ``georesil`` command."""
    app.command("report", help=report.__doc__)(report)
    app.command("demo", help=demo.__doc__)(demo)


def report(
    file: Path | None = TopologyArg,
    out: Path = typer.Option(..., "--out", "-o", metavar="DIR",
                             help="Directory to write report.html / report.md / report.json to."),
    formats: str = typer.Option("html,md,json", "--format", metavar="LIST",
                                help="Comma-separated formats: html, md, json."),
    trials: int = typer.Option(1_000_000, "--trials", "-n",
                               help="Snapshot Monte Carlo trials (0 skips the simulation)."),
    years: int = typer.Option(20_000, "--years",
                              help="Simulated years for the annual risk (0 skips it)."),
    seed: int = typer.Option(0, "--seed", help="Seed of both simulations."),
    journals: Path | None = typer.Option(
        None, "--journals", metavar="DIR",
        help="Drill journals to report on (default: .georesil/drills if it exists)."),
) -> None:
    """Write the risk report: top risks, map, services, SPOFs, N-k, capacity, seismic, drills,
    readiness (the runs `georesil readiness` saved in this directory)."""
        # Lazy: the report renderers import matplotlib and jinja2 (see the module docstring).
    from georesil.app import collect_inputs
    from georesil.report import check_output_dir, parse_formats, write_report

    chosen = parse_formats(formats)
    check_output_dir(out)  # fail before minutes of simulation, not after
    topology = load(file)
    with _stages() as stage:
        inputs = collect_inputs(topology, trials=trials, years=years, seed=seed,
                                journals=journals, stage=stage)
        stage("render")
        written = write_report(inputs, out, chosen)
    for fmt in chosen:
        typer.echo(str(written[fmt]))


def demo(
    directory: Path = typer.Option(Path("georesil-demo"), "--dir", metavar="DIR",
                                   help="Working directory for the lab, journals and report."),
) -> None:
    """Validate, analyze, simulate, run failover drills in a local lab, write the report.

    Exit 1 (after writing the report) when a drill did not complete.
    """
    from georesil.app import run_demo  # lazy: see the module docstring

    result = run_demo(directory, console=console(stderr=True))
    failed = [d.run_id for d in result.drills if d.status != "completed"]
    if failed:
        typer.echo(f"demo: {len(failed)} drill(s) did not complete ({', '.join(failed)}); "
                   "the report shows them", err=True)
    typer.echo(str(result.report_html))
    if failed:
        raise typer.Exit(1)


_STAGE_TEXT = {"analyze": "analysing failures (N-2, zones, SRLGs, scenarios)",
               "simulate": "simulating snapshot availability",
               "years": "simulating years of hazard events",
               "drills": "reading drill journals", "readiness": "reading readiness runs",
               "render": "rendering the report"}


@contextmanager
def _stages() -> Iterator[Callable[[str], None]]:
    """A status line per stage on a TTY; silent otherwise."""
    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    status = console(stderr=True).status("starting")
    status.start()
    try:
        yield lambda name: status.update(_STAGE_TEXT.get(name, name))
    finally:
        status.stop()
