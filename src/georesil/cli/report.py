"""``georesil report`` (and ``georesil demo``): the risk report, and the end-to-end tour.

Thin: parse, call :mod:`georesil.report.build` (or :mod:`georesil.report.demo`), print where
the files went. matplotlib and jinja2 are imported by the library functions, never here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import TopologyArg, console, load

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to the ``georesil`` command."""
    from importlib.util import find_spec

    app.command("report", help=report.__doc__)(report)
    if find_spec("georesil.report.demo") is not None:  # the demo lands with the drills
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
    """Write the risk report: top risks, map, services, SPOFs, N-k, capacity, seismic, drills."""
    from georesil.report.build import (
        check_output_dir,
        collect_inputs,
        parse_formats,
        write_report,
    )

    chosen = parse_formats(formats)
    check_output_dir(out)  # fail before minutes of simulation, not after
    topology = load(file)
    with _stages() as stage:
        inputs = collect_inputs(topology, trials=trials, years=years, seed=seed,
                                journals=journals, stage=stage)
        stage("render")
        written = write_report(topology, inputs, out, chosen)
    for fmt in chosen:
        typer.echo(str(written[fmt]))


def demo(
    directory: Path = typer.Option(Path("georesil-demo"), "--dir", metavar="DIR",
                                   help="Working directory for the lab, journals and report."),
) -> None:
    """Validate, analyze, simulate, run failover drills in a local lab, write the report.

    Exit 1 (after writing the report) when a drill did not complete.
    """
    from georesil.report.demo import run_demo  # type: ignore[import-not-found,unused-ignore]

    result = run_demo(directory, console=console(stderr=True))
    failed = [d.get("run_id", "?") for d in result.drills if d.get("status") != "completed"]
    if failed:
        typer.echo(f"demo: {len(failed)} drill(s) did not complete ({', '.join(failed)}); "
                   "the report shows them", err=True)
    typer.echo(str(result.report_html))
    if failed:
        raise typer.Exit(1)


_STAGE_TEXT = {"analyze": "analysing failures (N-2, zones, SRLGs, scenarios)",
               "simulate": "simulating snapshot availability",
               "years": "simulating years of hazard events",
               "drills": "reading drill journals", "render": "rendering the report"}


@contextmanager
def _stages() -> Iterator[Callable[[str], None]]:
    """A status line per stage on a TTY; silent otherwise."""
    import sys

    if not sys.stderr.isatty():
        yield lambda _name: None
        return
    status = console(stderr=True).status("starting")
    status.start()
    try:
        yield lambda name: status.update(_STAGE_TEXT.get(name, name))
    finally:
        status.stop()
