"""``georesil demo``: the whole tour on the bundled Taiwan topology, with no cloud account.

validate → analyze → simulate → lab up → planned storage failover drill → failback →
unplanned storage failover drill (the north killed mid-drill while an application keeps
writing) → report with the drill evidence → lab down.

Each stage is a function named after it; :func:`run_demo` runs them in order, shows one
progress line per stage, and always takes the lab down — on success, on error and on Ctrl-C —
so no server process outlives the demo.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from georesil.drills.context import Environment
    from georesil.drills.runner import DrillRun
    from georesil.model import Topology

__all__ = ["DEMO_TRIALS", "DEMO_YEARS", "DemoResult", "find_runbook", "run_demo"]

log = structlog.get_logger(__name__)

#: Snapshot trials and simulated years of the demo: enough for stable figures, well under 1 min.
DEMO_TRIALS = 1_000_000
DEMO_YEARS = 20_000
#: Sample objects per object-storage primary, so the mirror and the drills move real data.
SEED_OBJECTS = 20
#: Runbooks the demo runs, in order.
PLANNED, FAILBACK, UNPLANNED = ("storage-failover-planned", "storage-failback",
                                "storage-failover-unplanned")


@dataclass
class DemoResult:
    """What the demo produced."""

    directory: Path
    report_html: Path
    drills: list[dict[str, Any]] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


def find_runbook(name: str) -> Path:
    """A shipped runbook by name: ``runbooks/NAME.yaml`` of the source tree or the package.

    Raises:
        InvalidInput: no such runbook is shipped.
    """
    here = Path(__file__).resolve()
    candidates = [here.parents[1] / "data" / "runbooks" / f"{name}.yaml",  # installed
                  here.parents[3] / "runbooks" / f"{name}.yaml"]  # source checkout
    for path in candidates:
        if path.is_file():
            return path
    raise InvalidInput(f"runbook {name!r} is not shipped with this installation; looked in "
                       + ", ".join(str(p.parent) for p in candidates), value=name)


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
                self.console.print(f"{mark} {text}{said} [dim]({took:.1f} s)[/dim]")
            log.info("demo.stage_finished", stage=name, ok=ok, duration_s=round(took, 2))

    def say(self, text: str) -> None:
        if self.console is not None:
            self.console.print(f"  [dim]{text}[/dim]")


def run_demo(directory: Path, *, console: Console | None = None, trials: int = DEMO_TRIALS,
             years: int = DEMO_YEARS,
             runbooks: Sequence[str] = (PLANNED, FAILBACK, UNPLANNED)) -> DemoResult:
    """Run the whole demo in ``directory`` (created if needed); returns where the report is.

    ``runbooks`` names the shipped runbooks to drill, in order; an ``unplanned`` one runs with
    an application writing throughout.

    Raises:
        GeoresilError: a stage failed; the lab is down again before this propagates.
    """
    from georesil.model import load_topology

    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stages = _Stages(console)
    with stages.stage("validate", "validating the bundled Taiwan topology"):
        topology = load_topology()
        stages.say(topology.summary())
    with stages.stage("analyze", "analysing every single and double failure"):
        analysis = _analyze(topology)
        stages.say(f"{len(analysis['spofs'])} single points of failure, "
                   f"{len(analysis['shared_risks'])} shared risks")
    with stages.stage("simulate", f"simulating {trials:,} instants and {years:,} years"):
        snapshot, annual = _simulate(topology, trials, years)
    try:
        with stages.stage("lab_up", "starting the lab (one S3/DynamoDB server per site)"):
            env = _lab_up(topology, directory)
        runs = _drills(stages, env, directory, runbooks)
    finally:
        with stages.stage("lab_down", "stopping the lab"):
            _lab_down(directory)
    with stages.stage("report", "writing the report with the drill evidence"):
        html = _report(topology, directory, analysis, snapshot, annual)
    return DemoResult(directory, html, runs, stages.timings)


# -- stages -----------------------------------------------------------------------------------
def _analyze(topology: Topology) -> dict[str, Any]:
    from georesil.analysis.analyze import analyze

    return analyze(topology).to_json()


def _simulate(topology: Topology, trials: int,
              years: int) -> tuple[dict[str, Any], dict[str, Any]]:
    from georesil.risk import simulate_snapshot, simulate_years

    return (simulate_snapshot(topology, trials, seed=0).to_json(),
            simulate_years(topology, years, seed=0).to_json())


def _lab_up(topology: Topology, directory: Path) -> Environment:
    from georesil.drills.context import lab_environment
    from georesil.lab.lifecycle import lab_up

    # The bundled sites sign for regions such as tw-north-1, which moto's DynamoDB refuses
    # unless told otherwise; the lab servers inherit this process's environment.
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")
    lab_up(topology, seed_objects=SEED_OBJECTS, workdir=directory, replace=True)
    return lab_environment(directory)


def _lab_down(directory: Path) -> None:
    from georesil.lab.lifecycle import lab_down

    lab_down(workdir=directory)


def _drills(stages: _Stages, env: Environment, directory: Path,
            names: Sequence[str]) -> list[dict[str, Any]]:
    """Each runbook in turn; unplanned ones with an application writing throughout."""
    from georesil.drills import load_runbook

    runs = []
    for name in names:
        path = find_runbook(name)
        unplanned = load_runbook(path, topology=env.topology).doc.mode.value == "unplanned"
        with stages.stage(name, _describe(path, env)) as note:
            run = (_run_with_writer if unplanned else _run)(path, env, directory)
            runs.append(_summary(stages, run))
            note(run.summary.get("status", "?"))
    return runs


def _describe(path: Path, env: Environment) -> str:
    from georesil.drills import load_runbook

    doc = load_runbook(path, topology=env.topology).doc
    what = (f"{doc.mode.value} drill: {', '.join(doc.services)} from "
            f"{', '.join(doc.from_sites)} to {doc.to_site}")
    return what + (f" ({', '.join(doc.from_sites)} killed while writes go on)"
                   if doc.mode.value == "unplanned" else "")


def _run(path: Path, env: Environment, directory: Path) -> DrillRun:
    from georesil.drills import load_runbook
    from georesil.drills.runner import run_drill

    runbook = load_runbook(path, topology=env.topology)
    return run_drill(runbook, env, workdir=directory, approve=lambda _step: True)


def _run_with_writer(path: Path, env: Environment, directory: Path) -> DrillRun:
    """Run a drill while an application keeps writing, so the RPO measures real loss."""
    from georesil.drills.writer import Writer, single_attempt_clients

    writer = Writer(single_attempt_clients(directory), env.outputs, _first_service(path),
                    workdir=directory, interval_s=0.05).start()
    try:
        time.sleep(1.0)  # writes in flight before the fault
        return _run(path, env, directory)
    finally:
        writer.stop(timeout_s=15)


def _first_service(path: Path) -> str:
    from georesil.drills import load_runbook

    return str(load_runbook(path).doc.services[0])


def _summary(stages: _Stages, run: DrillRun) -> dict[str, Any]:
    s = run.summary
    stages.say(f"{run.runbook.name}: {s['status']}, RTO {_num(s.get('rto_s'))} s, "
               f"RPO {_num(s.get('rpo_s'))} s"
               + (f" ({s['rpo_objects']} objects)" if s.get("rpo_objects") else "")
               + f", journal {run.journal.path}")
    return dict(s)


def _report(topology: Topology, directory: Path, analysis: dict[str, Any],
            snapshot: dict[str, Any], annual: dict[str, Any]) -> Path:
    from georesil.report.build import ReportInputs, drill_records, write_report

    inputs = ReportInputs(analysis, snapshot, annual, drill_records(None, workdir=directory))
    written = write_report(topology, inputs, directory / "report")
    return written["html"]


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.3g}"
