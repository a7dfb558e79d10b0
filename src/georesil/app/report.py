"""Collect what a report shows: run the analysis and the simulations, read the drill journals.

The same functions behind ``georesil analyze/simulate/drill history --json``, called once
each; their typed results go into :class:`~georesil.report.inputs.ReportInputs` with the
advice derived from them (:func:`georesil.advice.advise`). JSON is read only from the drill
journals (files) and written only by the report's JSON renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from georesil.advice import advise
from georesil.analysis import Analysis, analyze
from georesil.drills.history import drill_history, history_of_directory
from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.report.inputs import DrillEvidence, ReportInputs
from georesil.risk import AnnualResult, SnapshotResult, simulate_snapshot, simulate_years

__all__ = ["Stage", "collect_inputs", "drill_evidence", "report_inputs"]

#: Called with a stage name ("analyze", "simulate", "years", "drills") as it starts.
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
        workdir: The working directory (default: the current one).
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
    return report_inputs(topology, analysis, snapshot, annual, drills)


def report_inputs(topology: Topology, analysis: Analysis | None,
                  snapshot: SnapshotResult | None, annual: AnnualResult | None,
                  drills: tuple[DrillEvidence, ...] | None) -> ReportInputs:
    """The report's inputs from results already computed, with the advice derived from them."""
    return ReportInputs(topology, analysis, snapshot, annual, drills,
                        advise(topology, analysis, snapshot))


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
