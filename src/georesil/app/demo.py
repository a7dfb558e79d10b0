"""``georesil demo``: the whole tour on the bundled Taiwan topology, with no cloud account.

validate → analyze → simulate → lab up → planned storage failover drill → failback →
unplanned storage failover drill (the runbook's from-site killed mid-drill while an
application keeps writing) → lab down → report with the drill evidence.

Every result is computed once and passed on typed: the analysis and the simulations go straight
into the report; each runbook is loaded once; the lab state is read once, by
:func:`georesil.app.environment.open_lab`.

Each stage is a function named after it; :func:`run_demo` runs them in order, shows one
progress line per stage, and always takes the lab down — on success, on error and on Ctrl-C —
so no server process outlives the demo. Ctrl-C or SIGTERM during a drill lets the drill roll
back (the drill runner turns the signal into a stop request), then the demo stops: no further
stage, the lab taken down, no report, :class:`~georesil.errors.Interrupted` (exit 130) naming
the drill's run id and what to do next. Outside a drill the signal ends the demo the same way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from rich.console import Console

from georesil.analysis import Analysis, analyze
from georesil.app.environment import LabSettings, LabWorld, close_lab, open_lab
from georesil.app.report import drill_evidence, readiness_evidence, report_inputs
from georesil.drills import Runbook, load_runbook
from georesil.drills.catalog import find_runbook
from georesil.drills.run_state import DrillRun
from georesil.drills.runbook import Mode
from georesil.drills.runner import run_drill
from georesil.drills.writer import Writer
from georesil.errors import Interrupted
from georesil.model import Topology, load_topology
from georesil.readiness import run_readiness
from georesil.readiness.context import lab_context
from georesil.readiness.history import save_run
from georesil.report import write_report
from georesil.risk import AnnualResult, SnapshotResult, simulate_snapshot, simulate_years

__all__ = ["DemoDrill", "DemoResult", "DemoSettings", "run_demo"]

log = structlog.get_logger(__name__)

#: Runbooks the demo runs, in order.
PLANNED, FAILBACK, UNPLANNED = ("storage-failover-planned", "storage-failback",
                                "storage-failover-unplanned")


@dataclass(frozen=True)
class DemoSettings:
    """What the demo runs; the defaults give stable figures well under a minute of simulation.

    Attributes:
        trials: Snapshot Monte Carlo trials.
        years: Simulated years for the annual risk.
        seed: Seed of both simulations.
        runbooks: Shipped runbooks to drill, in order; an ``unplanned`` one runs with an
            application writing throughout.
        lab: How to start the lab.
        writer_lead_s: How long the application writes before an unplanned drill starts.
    """

    trials: int = 1_000_000
    years: int = 20_000
    seed: int = 0
    runbooks: tuple[str, ...] = (PLANNED, FAILBACK, UNPLANNED)
    lab: LabSettings = field(default_factory=LabSettings)
    writer_lead_s: float = 1.0


@dataclass(frozen=True)
class DemoDrill:
    """One drill the demo ran: its outcome as measured, and where its journal is."""

    runbook: str
    run_id: str
    status: str
    rto_s: float | None
    rpo_s: float | None
    rpo_objects: int | None
    journal: Path


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced."""

    directory: Path
    report_html: Path
    drills: tuple[DemoDrill, ...] = ()
    timings_s: dict[str, float] = field(default_factory=dict)


class _Stages:
    """One line per stage: a spinner while it runs, then ✓ and its duration (or ✗)."""

    def __init__(self, console: Console | None) -> None:
        self.console = console
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, text: str) -> Iterator[Callable[[str], None]]:
        start = time.monotonic()
        status = self.console.status(f"{text} …") if self.console else None
        if status is not None:
            status.start()

        outcome = {"status": ""}  # a drill stage reports its drill's status here

        def note(status_text: str) -> None:
            outcome["status"] = status_text
            if status is not None:
                status.update(f"{text} … {status_text}")

        ok = False
        try:
            yield note
            ok = outcome["status"] in ("", "completed")
        finally:
            if status is not None:
                status.stop()
            took = time.monotonic() - start
            self.timings[name] = round(took, 2)
            if self.console is not None:
                mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
                said = f" — {outcome['status']}" if outcome["status"] else ""
                self.console.print(f"{mark} {text}{said} [dim]({took:.1f} s)[/dim]",
                                   soft_wrap=True)
            log.info("demo.stage_finished", stage=name, ok=ok, duration_s=round(took, 2))

    def say(self, text: str) -> None:
        if self.console is not None:
            # soft_wrap: a journal path is never cut into two lines (pipes, CI logs, 80 columns)
            self.console.print(f"  [dim]{text}[/dim]", soft_wrap=True)


def run_demo(directory: Path, *, console: Console | None = None,
             settings: DemoSettings | None = None) -> DemoResult:
    """Run the whole demo in ``directory`` (created if needed); returns where the report is.

    Raises:
        GeoresilError: a stage failed; the lab is down again before this propagates.
    """
    settings = settings or DemoSettings()
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stages = _Stages(console)
    with stages.stage("validate", "validating the bundled Taiwan topology"):
        topology = load_topology()
        stages.say(topology.summary())
    with stages.stage("analyze", "analysing every single and double failure"):
        analysis = analyze(topology)
        stages.say(f"{len(analysis.spofs)} single points of failure, "
                   f"{len(analysis.shared_risks)} shared risks")
    with stages.stage("simulate", f"simulating {settings.trials:,} instants and "
                      f"{settings.years:,} years"):
        snapshot = simulate_snapshot(topology, settings.trials, settings.seed)
        annual = simulate_years(topology, settings.years, settings.seed)
    try:
        with _sigterm_as_interrupt(), \
                stages.stage("lab_up", "starting the lab (one S3/DynamoDB server per site)"):
            world = open_lab(topology, directory, settings.lab)
        with _sigterm_as_interrupt():
            runs = _drills(stages, world, settings)
        with _sigterm_as_interrupt(), \
                stages.stage("readiness", "checking that the lab could fail over now"):
            _readiness(stages, directory)
    finally:
        with stages.stage("lab_down", "stopping the lab"):
            close_lab(directory)
    with stages.stage("report", "writing the report with the drill evidence"):
        html = _report(topology, directory, analysis, snapshot, annual)
    return DemoResult(directory, html, runs, stages.timings)


# -- stages -----------------------------------------------------------------------------------
def _drills(stages: _Stages, world: LabWorld, settings: DemoSettings) -> tuple[DemoDrill, ...]:
    """Each runbook in turn, each loaded once; unplanned ones with an application writing."""
    books = [load_runbook(find_runbook(name), topology=world.env.topology)
             for name in settings.runbooks]
    runs = []
    for runbook in books:
        with stages.stage(runbook.name, _describe(runbook)) as note:
            run = (_run_with_writer(runbook, world, settings.writer_lead_s)
                   if runbook.doc.mode is Mode.UNPLANNED else _run(runbook, world))
            runs.append(_outcome(stages, run))
            note(runs[-1].status)
        _stop_if_interrupted(run)
    return tuple(runs)


def _stop_if_interrupted(run: DrillRun) -> None:
    """A signal stopped the drill (it rolled back): the demo stops too, saying which run."""
    outcome = run.outcome()
    if outcome.interrupted:
        raise Interrupted(f"demo interrupted during drill {outcome.runbook} (run "
                          f"{outcome.run_id}): {outcome.reason}; the drill rolled back, the "
                          "lab is down and no report was written — see `georesil drill "
                          f"history` in the demo directory, or run `georesil demo` again",
                          run_id=outcome.run_id)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the demo like Ctrl-C (KeyboardInterrupt), so the lab is taken down; a
    drill in flight overrides this with its own stop flag for its duration."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _describe(runbook: Runbook) -> str:
    doc = runbook.doc
    what = (f"{doc.mode} drill: {', '.join(doc.services)} from "
            f"{', '.join(doc.from_sites)} to {doc.to_site}")
    return what + (f" ({', '.join(doc.from_sites)} killed while writes go on)"
                   if doc.mode is Mode.UNPLANNED else "")


def _run(runbook: Runbook, world: LabWorld) -> DrillRun:
    return run_drill(runbook, world.env, workdir=world.workdir, approve=lambda _step: True)


def _run_with_writer(runbook: Runbook, world: LabWorld, lead_s: float) -> DrillRun:
    """Run a drill while an application keeps writing, so the RPO measures real loss."""
    # A writer that retries would wait out a dead site instead of noticing it: one attempt.
    clients = world.clients(attempts=1, connect_timeout_s=1.0, read_timeout_s=5.0)
    writer = Writer(clients, world.env.outputs, str(runbook.doc.services[0]),
                    workdir=world.workdir, interval_s=0.05).start()
    try:
        time.sleep(lead_s)  # writes in flight before the fault
        return _run(runbook, world)
    finally:
        writer.stop(timeout_s=15)


def _outcome(stages: _Stages, run: DrillRun) -> DemoDrill:
    s = run.summary
    drill = DemoDrill(run.runbook.name, run.run_id, str(s.get("status", "?")),
                      _opt_float(s.get("rto_s")), _opt_float(s.get("rpo_s")),
                      None if s.get("rpo_objects") is None else int(s["rpo_objects"]),
                      Path(run.journal.path))
    stages.say(f"{drill.runbook}: {drill.status}, RTO {_num(drill.rto_s)} s, "
               f"RPO {_num(drill.rpo_s)} s"
               + (f" ({drill.rpo_objects} objects)" if drill.rpo_objects else "")
               + f", journal {drill.journal}")
    return drill


def _readiness(stages: _Stages, directory: Path) -> None:
    """One readiness run, saved for the report: what the drills left behind (a site still
    down after the unplanned drill shows here, as it would in production)."""
    report = run_readiness(lab_context(directory))
    save_run(report, directory)
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    stages.say(f"readiness: {counts}" + (f"; first to fix: {report.failing()[0].check} "
                                          f"{report.failing()[0].subject}"
                                          if report.failing() else ""))


def _report(topology: Topology, directory: Path, analysis: Analysis,
            snapshot: SnapshotResult, annual: AnnualResult) -> Path:
    inputs = report_inputs(topology, analysis, snapshot, annual,
                           drill_evidence(workdir=directory),
                           readiness=readiness_evidence(topology, directory))
    return write_report(inputs, directory / "report")["html"]


def _opt_float(value: object) -> float | None:
    return None if value is None else float(str(value))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"
