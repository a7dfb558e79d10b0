"""``georesil simulate``: snapshot availability, exact enumeration, annual event risk.

Thin: parse, call :mod:`georesil.risk`, render. numba and dask are imported inside the command.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import (
    JsonOpt,
    TopologyArg,
    console,
    load,
    print_json,
    warn_never_failing,
)
from georesil.cli._progress import progress
from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from georesil.risk.annual import AnnualResult
    from georesil.risk.engine import Engine, SnapshotResult

__all__ = ["register"]

_ENGINES = ("local", "dask")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to the ``georesil`` command."""
    app.command("simulate", help=simulate.__doc__)(simulate)


def simulate(
    file: Path | None = TopologyArg,
    trials: int = typer.Option(1_000_000, "--trials", "-n", help="Monte Carlo trials."),
    years: int | None = typer.Option(
        None, "--years", help="Simulate N years of hazard events instead (annual risk)."),
    seed: int = typer.Option(0, "--seed", help="Seed; the same seed gives identical numbers."),
    exact: bool = typer.Option(
        False, "--exact", help="Enumerate all states exactly (at most 24 stochastic elements)."),
    engine: str = typer.Option("local", "--engine", help="Where trials run: local or dask.",
                               metavar="local|dask"),
    workers: int = typer.Option(1, "--workers", help="Worker processes."),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Existing Dask scheduler, tcp://HOST:PORT (with --engine dask)."),
    importance_trials: int | None = typer.Option(
        None, "--importance-trials",
        help="Trials used for importance measures (default: all, fewer when costly; 0: none)."),
    as_json: bool = JsonOpt,
) -> None:
    """Estimate availability and risk per service: Monte Carlo snapshot, --exact, or --years."""
    _check_options(trials, years, exact, engine, workers, scheduler, importance_trials)
    topology = load(file)
    warn_never_failing(topology)
    if years is not None:
        from georesil.risk.annual import simulate_years

        with progress("simulating", "years") as tick:
            annual = simulate_years(topology, years, seed, progress=tick)
        return print_json(annual.to_json()) if as_json else _render_annual(annual)
    if exact:
        from georesil.risk.exact import exact_snapshot

        result = exact_snapshot(topology)
    else:
        from georesil.risk.engine import simulate_snapshot

        with _engine(engine, workers, scheduler) as eng, progress("simulating", "trials") as tick:
            result = simulate_snapshot(topology, trials, seed, eng, importance_trials, tick)
    return print_json(result.to_json()) if as_json else _render_snapshot(result)


def _check_options(trials: int, years: int | None, exact: bool, engine: str, workers: int,
                   scheduler: str | None, importance_trials: int | None) -> None:
    if engine not in _ENGINES:
        raise InvalidInput(f"--engine: got {engine!r}; allowed: {', '.join(_ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise InvalidInput("--scheduler needs --engine dask")
    if exact and years is not None:
        raise InvalidInput("--exact and --years exclude each other: --exact is snapshot mode")
    if trials < 1:
        raise InvalidInput(f"--trials: got {trials}; need at least 1")
    if workers < 1:
        raise InvalidInput(f"--workers: got {workers}; need at least 1")
    if importance_trials is not None and importance_trials < 0:
        raise InvalidInput(f"--importance-trials: got {importance_trials}; need ≥ 0")


@contextmanager
def _engine(name: str, workers: int, scheduler: str | None) -> Iterator[Engine]:
    if name == "dask":
        from georesil.risk.dask import DaskEngine

        with DaskEngine(workers=max(workers, 1), scheduler=scheduler) as dask_engine:
            yield dask_engine
        return
    from georesil.risk.engine import LocalEngine

    with LocalEngine(workers) as local:
        yield local


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "—" if x is None else format(x, spec)


def _render_snapshot(result: SnapshotResult) -> None:
    from rich.table import Table

    out = console()
    head = (f"exact enumeration of {result.trials:,} states" if result.mode == "exact"
            else f"{result.trials:,} trials, seed {result.seed}")
    table = Table(title=f"Snapshot availability ({head})")
    for col in ("service", "tier", "availability", "nines", "downtime h/yr (95 %)",
                "P(breach)", "rel. err"):
        table.add_column(col, justify="left" if col == "service" else "right")
    for sid, s in result.services.items():
        row = s.to_json()
        lo, hi = row["downtime_h_per_year_ci95"]
        downtime = _fmt(s.downtime_h_per_year)
        if result.mode != "exact":
            downtime += f" ({lo:.2g}–{hi:.2g})"
        table.add_row(sid, str(s.tier), f"{s.availability:.7f}", _fmt(row["nines"], ".2f"),
                      downtime, _fmt(s.p_breach.value), _fmt(row["rel_error"], ".2f"))
    out.print(table)
    if result.tier1 is not None:
        out.print(f"P(any tier-1 service down) = {result.tier1.value:.3g} "
                  f"(95 %: {result.tier1.low:.3g}–{result.tier1.high:.3g})")
    _render_harden(result)
    err = console(stderr=True)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}")


def _render_harden(result: SnapshotResult) -> None:
    from rich.table import Table

    ranked = result.harden_first()
    if not ranked:
        return
    table = Table(title=f"Harden these first (target {ranked[0].target}; "
                        f"{result.importance_trials:,} trials, Fussell–Vesely risk-reduction form)")
    for col in ("#", "element", "p", "Birnbaum", "criticality", "RAW", "RRW", "FV"):
        table.add_column(col, justify="left" if col == "element" else "right")
    for i, r in enumerate(ranked, 1):
        table.add_row(str(i), r.element, _fmt(r.p), _fmt(r.birnbaum), _fmt(r.criticality),
                      _fmt(r.raw), _fmt(r.rrw), _fmt(r.fussell_vesely))
    console().print(table)


def _render_annual(result: AnnualResult) -> None:
    from rich.table import Table

    out = console()
    table = Table(title=f"Annual risk ({result.years:,} simulated years, seed {result.seed}, "
                        f"{result.events_per_year:.2f} events/yr)")
    for col in ("service", "tier", "P(outage)/yr", "P(RPO breach)/yr", "downtime h/yr",
                "data loss s/yr"):
        table.add_column(col, justify="left" if col == "service" else "right")
    for sid, s in result.services.items():
        table.add_row(sid, str(s["tier"]), _fmt(s["p_outage_per_year"]),
                      _fmt(s["p_rpo_breach_per_year"]), _fmt(s["expected_downtime_h_per_year"]),
                      _fmt(s["expected_data_loss_s_per_year"]))
    out.print(table)
    loss = Table(title="Loss exceedance: tier-1 services down in one event")
    for col in ("≥ tier-1 down", "rate /yr", "return period yr", "P(year)", "dominated by"):
        loss.add_column(col, justify="left" if col == "dominated by" else "right")
    for row in result.loss_exceedance:
        dom = ", ".join(f"{d['event']} ({d['share']:.0%})" for d in row["dominated_by"])
        loss.add_row(str(row["tier1_down_at_least"]), _fmt(row["annual_rate"]),
                     _fmt(row["return_period_years"], ".4g"), _fmt(row["p_per_year"]), dom)
    out.print(loss)
    for note in result.notes:
        console(stderr=True).print(f"note: {note}")
