"""``georesil readiness`` and ``georesil serve``: can the deployed world fail over now?"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import JsonOpt, TopologyArg, print_json

if TYPE_CHECKING:
    from georesil.readiness import ReadinessContext, ReadinessReport
    from georesil.readiness.metrics import Snapshot

OutputsOpt = typer.Option(
    None, "--outputs", help="Stack outputs JSON of a deployed stack (`pulumi stack output "
    "--json`); the topology's endpoints are used. Default: the lab in this directory.",
    metavar="STACK_OUTPUTS")
LabOpt = typer.Option(False, "--lab", help="Check the lab in this directory (the default "
                      "when --outputs is not given).")
CheckOpt = typer.Option(None, "--check", help="Only these checks or areas (repeatable): "
                        "storage, dns, control, capacity, drills, or a check id.")

_MARK = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "unreachable": "UNREACHABLE",
         "skipped": "skipped"}


def _context(topology: Path | None, outputs: Path | None, lab: bool) -> ReadinessContext:
    from georesil.errors import InvalidInput
    from georesil.readiness.context import lab_context, outputs_context

    if outputs is not None and lab:
        raise InvalidInput("give either --outputs STACK_OUTPUTS or --lab, not both",
                           field="outputs")
    if outputs is None:
        if topology is not None:
            raise InvalidInput("FILE is read from the lab's own record in lab mode; give "
                               "--outputs STACK_OUTPUTS to check a deployed stack of FILE",
                               field="topology")
        return lab_context(Path.cwd())
    from georesil.model import load_topology

    return outputs_context(load_topology(topology), outputs, Path.cwd())


def readiness(
    topology: Path | None = TopologyArg,
    outputs: Path | None = OutputsOpt,
    lab: bool = LabOpt,
    only: list[str] | None = CheckOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Audit every service against the model and what is deployed: one row per check.

    Exit 0 when nothing fails (warnings allowed), 1 when a check fails, 2 on bad input,
    3 when a site could not be reached.
    """
    from georesil.readiness import run_readiness
    from georesil.readiness.history import save_run

    ctx = _context(topology, outputs, lab)
    report = run_readiness(ctx, only or ())
    if not only:  # a partial run is not "the latest readiness" of the deployment
        save_run(report, ctx.workdir)
    if as_json:
        print_json(report.to_json())
    else:
        _show(report)
    raise typer.Exit(report.exit_code)


def _show(report: ReadinessReport) -> None:
    """One line per result, never cut: ``STATUS check subject: evidence``, the fix beneath."""
    width = max((len(r.check) for r in report.results), default=0)
    for r in report.results:
        typer.echo(f"{_MARK[r.status.value]:<11} {r.check:<{width}}  {r.subject}: {r.evidence}")
        if r.fix is not None and r.status.value not in ("ok", "skipped"):
            typer.echo(f"{'':<11} {'':<{width}}  fix: {r.fix}")
    for item in report.drift:
        where = f" at {item.site}" if item.site else ""
        typer.echo(f"{'DRIFT':<11} {item.kind} {item.resource} {item.name}{where}: {item.detail}")
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    typer.echo(f"{len(report.results)} checks: {counts}; {len(report.drift)} drift item(s); "
               f"{report.duration_s:.1f} s")


def serve(
    topology: Path | None = TopologyArg,
    outputs: Path | None = OutputsOpt,
    lab: bool = LabOpt,
    metrics_port: int = typer.Option(9108, "--metrics-port", help="Port of /metrics "
                                     "(0: any free port, printed)."),
    metrics_addr: str = typer.Option("127.0.0.1", "--metrics-addr", help="Address to listen "
                                     "on; 0.0.0.0 for a Prometheus on another host."),
    interval: str = typer.Option("60s", "--interval", help="Time between readiness runs "
                                 "(e.g. 30s, 5m)."),
    trials: int = typer.Option(200_000, "--trials", help="Monte Carlo trials behind the "
                               "predicted availability (computed once at start)."),
) -> None:
    """Run readiness on a schedule and export it on /metrics for Prometheus (Ctrl-C stops)."""
    from prometheus_client import start_http_server

    from georesil.readiness.metrics import ReadinessCollector, registry_for, serve_forever

    every = _seconds(interval)
    ctx = _context(topology, outputs, lab)
    predicted = _predicted(ctx, trials)
    collector = ReadinessCollector()
    server, thread = start_http_server(metrics_port, metrics_addr, registry_for(collector))
    port = server.server_port
    typer.echo(f"serving readiness metrics on http://{metrics_addr}:{port}/metrics every "
               f"{every:g} s (Ctrl-C or SIGTERM stops)", err=True)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        serve_forever(lambda: _snapshot(topology, outputs, lab, predicted), collector, every,
                      stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.shutdown()
        thread.join(timeout=5)
    typer.echo("readiness exporter stopped", err=True)


def _snapshot(topology: Path | None, outputs: Path | None, lab: bool,
              predicted: dict[str, float]) -> Snapshot:
    from georesil.readiness import run_readiness
    from georesil.readiness.drill_age import last_drills
    from georesil.readiness.history import save_run
    from georesil.readiness.metrics import Snapshot

    ctx = _context(topology, outputs, lab)  # fresh: the lab's endpoints change on revive
    report = run_readiness(ctx)
    save_run(report, ctx.workdir)
    return Snapshot(ctx.topology, report, last_drills(ctx), predicted)


def _predicted(ctx: ReadinessContext, trials: int) -> dict[str, float]:
    from georesil.risk import simulate_snapshot

    if trials <= 0:
        return {}
    result = simulate_snapshot(ctx.topology, trials=trials, seed=0)
    return {sid: risk.availability for sid, risk in result.services.items()}


def _seconds(text: str) -> float:
    from georesil.errors import InvalidInput

    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InvalidInput(f"--interval: got {text!r}; give a positive duration such as 30s, "
                           "5m or 1h", field="interval", value=text)
    return value


def register(app: typer.Typer) -> None:
    app.command("readiness")(readiness)
    app.command("serve")(serve)
