"""Report fixtures: the bundled topology, its typed results, and reports rendered once.

The analysis and the simulations are computed for real (seeded, small enough to take a
couple of seconds); the drill history comes from a journal-summary fixture, as the report
reads it from files; the readiness runs are real :class:`ReadinessReport` objects saved with
:func:`georesil.readiness.history.save_run` and read back by the app, as ``georesil report``
reads them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from georesil.analysis import Analysis, analyze
from georesil.app import readiness_evidence, report_inputs
from georesil.model import Topology, load_topology
from georesil.readiness import CheckResult, CheckStatus, DriftItem, ReadinessReport
from georesil.readiness.history import save_run
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


#: Evidence text with everything Markdown or HTML could take for markup, and a command as code.
TRICKY_EVIDENCE = ("bucket <b>georesil_model_store</b> has *versioning* [Suspended](x) | "
                   "#1 & ~~2~~ \\ `aws s3api get-bucket-versioning`")


def readiness_runs(topology: str, first: float, count: int,
                   step_s: float = 3600.0) -> list[ReadinessReport]:
    """``count`` readiness runs of ``topology`` an interval apart, from ``first`` (epoch s).

    Run ``i`` finds ``i % 3`` failing lag checks and one warning when ``i`` is odd; the last
    run also finds a skipped lock check, suspended versioning (evidence full of markup) and one
    unmanaged bucket.
    """
    runs = []
    for i in range(count):
        results = [CheckResult("storage.bucket", CheckStatus.OK, "model-store", site,
                               f"bucket of model-store at {site} exists")
                   for site in ("taoyuan-dc", "tainan-ngcc")]
        results += [CheckResult("storage.lag", CheckStatus.FAIL, svc, "tainan-ngcc",
                                f"{svc}: oldest write not at tainan-ngcc is 910 s old; RPO 300 s",
                                f"catch up now: `georesil mirror sync {svc} --to tainan-ngcc`",
                                910.0) for svc in ("model-store", "dataset-store")[:i % 3]]
        if i % 2:
            results.append(CheckResult("drills.recent", CheckStatus.WARN, "model-store", None,
                                       "last planned drill missed its RTO (1,200 s > 900 s)",
                                       "run `georesil drill run storage-failover-planned`"))
        drift: tuple[DriftItem, ...] = ()
        if i == count - 1:
            results += [CheckResult("storage.versioning", CheckStatus.FAIL, "model-store",
                                    "tainan-ngcc", TRICKY_EVIDENCE,
                                    "`aws s3api put-bucket-versioning` with Status=Enabled"),
                        CheckResult("control.locks", CheckStatus.SKIPPED, "model-store", None,
                                    "control plane unreachable: see control.reachable")]
            drift = (DriftItem("unmanaged", "bucket", "georesil-model-store-copy",
                               "tainan-ngcc", "named like the stack's buckets, not in its "
                               "outputs"),)
        runs.append(ReadinessReport(topology, first + i * step_s, 1.25 + i / 10,
                                    tuple(results), drift))
    return runs


def save_readiness_runs(workdir: Path, runs: list[ReadinessReport]) -> None:
    for run in runs:
        save_run(run, workdir)


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
def saved_readiness(tmp_path_factory: pytest.TempPathFactory,
                    taiwan: Topology) -> tuple[Path, list[ReadinessReport]]:
    """A working directory with six readiness runs saved, the last two hours before WHEN."""
    workdir = tmp_path_factory.mktemp("readiness")
    runs = readiness_runs(taiwan.name, WHEN.timestamp() - 7 * 3600, 6)
    save_readiness_runs(workdir, runs)
    return workdir, runs


@pytest.fixture(scope="session")
def inputs(taiwan: Topology, analysis: Analysis, snapshot: SnapshotResult,
           annual: AnnualResult,
           saved_readiness: tuple[Path, list[ReadinessReport]]) -> ReportInputs:
    """Every input a report reads, typed."""
    return report_inputs(taiwan, analysis, snapshot, annual, fixture_drills(),
                         readiness=readiness_evidence(taiwan, saved_readiness[0]))


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
