"""Collect what a report shows: run the analysis and the simulations, read the drill journals
and the saved readiness runs.

The same functions behind ``georesil analyze/simulate/drill history --json``, called once
each; their typed results go into :class:`~georesil.report.inputs.ReportInputs` with the
advice derived from them (:func:`georesil.advice.advise`). The readiness runs that
``georesil readiness`` and ``georesil serve`` saved (:mod:`georesil.readiness.history`) are
copied into the report's own :class:`~georesil.report.inputs.ReadinessEvidence`. JSON is read
only from files (drill journals, saved readiness runs) and written only by the report's JSON
renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from georesil.advice import advise
from georesil.analysis import Analysis, analyze
from georesil.drills.history import drill_history, history_of_directory
from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.readiness import CheckResult, CheckStatus, ReadinessReport
from georesil.readiness.history import load_latest, load_runs
from georesil.report.inputs import (
    DrillEvidence,
    ReadinessDrift,
    ReadinessEvidence,
    ReadinessRow,
    ReadinessRun,
    ReportInputs,
)
from georesil.risk import AnnualResult, SnapshotResult, simulate_snapshot, simulate_years

__all__ = ["Stage", "collect_inputs", "drill_evidence", "readiness_evidence", "report_inputs"]

#: Called with a stage name ("analyze", "simulate", "years", "drills", "readiness") as it
#: starts.
Stage = Callable[[str], None]


def collect_inputs(
    topology: Topology, *, trials: int = 1_000_000, years: int = 20_000, seed: int = 0,
    journals: Path | None = None, workdir: Path | None = None, stage: Stage | None = None,
) -> ReportInputs:
    """Run every producer the report reads.

    Args:
        topology: The model.
        trials: Snapshot Monte Carlo trials (0 skips the snapshot simulation).
        years: Simulated years for the annual risk (0 skips it).
        seed: Seed of both simulations.
        journals: Directory of drill journals (default: ``WORKDIR/.georesil/drills``).
        workdir: The working directory (default: the current one); its saved readiness runs
            (``WORKDIR/.georesil/readiness/``) are read too.
        stage: Called with each stage's name as it starts (for a progress display).

    Raises:
        InvalidInput: negative ``trials`` or ``years``, or ``journals`` is not a directory.
    """
    tell = stage or (lambda _name: None)
    if trials < 0 or years < 0:
        raise InvalidInput(f"--trials and --years must be ≥ 0; got {trials} and {years}")
    tell("analyze")
    analysis = analyze(topology)
    tell("simulate")
    snapshot = simulate_snapshot(topology, trials, seed) if trials else None
    tell("years")
    annual = simulate_years(topology, years, seed) if years else None
    tell("drills")
    drills = drill_evidence(journals, workdir)
    tell("readiness")
    readiness = readiness_evidence(topology, workdir)
    return report_inputs(topology, analysis, snapshot, annual, drills, readiness=readiness)


def report_inputs(topology: Topology, analysis: Analysis | None,
                  snapshot: SnapshotResult | None, annual: AnnualResult | None,
                  drills: tuple[DrillEvidence, ...] | None, *,
                  readiness: ReadinessEvidence | None = None) -> ReportInputs:
    """The report's inputs from results already computed, with the advice derived from them."""
    return ReportInputs(topology, analysis, snapshot, annual, drills,
                        advise(topology, analysis, snapshot), readiness)


def readiness_evidence(topology: Topology,
                       workdir: Path | None = None) -> ReadinessEvidence | None:
    """The latest saved readiness run of ``topology`` and the trend of every saved one.

    Runs of another topology saved in the same directory are left out. ``None`` when no run
    of ``topology`` was saved (``georesil readiness`` saves every full run).

    Args:
        topology: The model the report is about.
        workdir: The working directory holding ``.georesil/readiness/`` (default: the current
            one).
    """
    where = workdir or Path.cwd()
    runs = [r for r in load_runs(where) if r.topology == topology.name]
    latest = load_latest(where)
    if latest is None or latest.topology != topology.name:
        latest = runs[-1] if runs else None
    if latest is None:
        return None
    return ReadinessEvidence(
        topology=latest.topology, latest=_run(latest), duration_s=latest.duration_s,
        rows=tuple(_row(r) for r in (*latest.failing(), *(
            r for r in latest.results if r.status is CheckStatus.SKIPPED))),
        drift=tuple(ReadinessDrift(d.kind, d.resource, d.name, d.site, d.detail)
                    for d in latest.drift),
        runs=tuple(_run(r) for r in runs))


def _run(report: ReadinessReport) -> ReadinessRun:
    return ReadinessRun(report.started_at, report.counts(), len(report.drift))


def _row(result: CheckResult) -> ReadinessRow:
    return ReadinessRow(result.check, result.status.value, result.subject, result.evidence,
                        result.fix)


def drill_evidence(journals: Path | None = None,
                   workdir: Path | None = None) -> tuple[DrillEvidence, ...]:
    """The drill history, oldest first, as ``georesil drill history`` reads it.

    Args:
        journals: A directory of journals (``*.jsonl``), or a working directory holding
            ``.georesil/drills``; ``None`` reads ``WORKDIR/.georesil/drills``.
        workdir: The working directory (default: the current one).

    Raises:
        InvalidInput: ``journals`` is not a directory.
    """
    if journals is None:
        return _evidence(drill_history(workdir or Path.cwd()))
    if not journals.is_dir():
        raise InvalidInput(f"--journals: {str(journals)!r} is not a directory",
                           field="journals", value=str(journals))
    return _evidence(history_of_directory(journals))


def _evidence(records: list[dict[str, object]]) -> tuple[DrillEvidence, ...]:
    found = (DrillEvidence.from_record(r) for r in records)
    return tuple(sorted(found, key=lambda d: (d.started_at, d.run_id)))
