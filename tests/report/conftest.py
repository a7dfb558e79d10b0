"""Report fixtures: the bundled topology, its typed results, and reports rendered once.

The analysis and the simulations are computed for real (seeded, small enough to take a
couple of seconds); the drill history comes from a journal-summary fixture, as the report
reads it from files.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from georesil.analysis import Analysis, analyze
from georesil.app import report_inputs
from georesil.model import Topology, load_topology
from georesil.report import DrillEvidence, ReportInputs, write_report
from georesil.risk import AnnualResult, SnapshotResult, simulate_snapshot, simulate_years

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
WHEN = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
#: Enough for every service to see failures and for a tier-1 outage in the simulated years.
TRIALS, YEARS, SEED = 200_000, 5_000, 0


def fixture_drills() -> tuple[DrillEvidence, ...]:
    """Four past drills (``georesil drill history --json`` of a hand-made history)."""
    records = json.loads((FIXTURES / "drills.json").read_text("utf-8"))
    return tuple(DrillEvidence.from_record(r) for r in records)


@pytest.fixture(scope="session")
def taiwan() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def analysis(taiwan: Topology) -> Analysis:
    return analyze(taiwan)


@pytest.fixture(scope="session")
def snapshot(taiwan: Topology) -> SnapshotResult:
    return simulate_snapshot(taiwan, TRIALS, SEED)


@pytest.fixture(scope="session")
def annual(taiwan: Topology) -> AnnualResult:
    return simulate_years(taiwan, YEARS, SEED)


@pytest.fixture(scope="session")
def inputs(taiwan: Topology, analysis: Analysis, snapshot: SnapshotResult,
           annual: AnnualResult) -> ReportInputs:
    """Every input a report reads, typed."""
    return report_inputs(taiwan, analysis, snapshot, annual, fixture_drills())


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory, inputs: ReportInputs) -> Path:
    """A full report (HTML, Markdown, JSON) written from the inputs."""
    out = tmp_path_factory.mktemp("report") / "out"
    write_report(inputs, out, generated_at=WHEN)
    return out


@pytest.fixture(scope="session")
def bare_inputs(taiwan: Topology) -> ReportInputs:
    """No producer output at all."""
    return report_inputs(taiwan, None, None, None, None)


@pytest.fixture(scope="session")
def bare_report_dir(tmp_path_factory: pytest.TempPathFactory, bare_inputs: ReportInputs) -> Path:
    """A report with no producer output at all: every section must degrade in words."""
    out = tmp_path_factory.mktemp("bare") / "out"
    write_report(bare_inputs, out, generated_at=WHEN)
    return out
