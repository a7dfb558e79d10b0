"""Report data: typed inputs arranged per section, missing inputs named, foreign results refused."""

from __future__ import annotations

import dataclasses

import pytest

from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.report.data import ReportData, ServiceRow, annual_highlights, build_report_data
from georesil.report.inputs import ReportInputs
from georesil.risk import AnnualResult, SnapshotResult
from georesil.risk.stats import estimate
from tests.report.conftest import WHEN


@pytest.fixture(scope="module")
def data(inputs: ReportInputs) -> ReportData:
    return build_report_data(inputs, generated_at=WHEN)


def test_sections_show_the_advice_as_computed(data: ReportData, inputs: ReportInputs) -> None:
    """Risks, findings and recommendations are the advice's, not recomputed."""
    assert data.risks == inputs.advice.risks
    assert data.spofs == inputs.advice.spofs
    assert data.recommendations == inputs.advice.recommendations


def test_nk_rows_that_add_nothing_are_folded(data: ReportData) -> None:
    """Taipei + Taoyuan does what Taipei does alone: the analysis marks it same_as Taipei."""
    rows = {r.elements: r for r in data.nk}
    assert rows[("site:taipei-neihu", "site:taoyuan-dc")].same_as == ("site:taipei-neihu",)
    assert rows[("site:tainan-ngcc", "site:taipei-neihu")].same_as is None


def test_objective_is_judged_on_the_lower_bound(data: ReportData) -> None:
    """A service meets its objective exactly when its interval's lower bound reaches it."""
    for s in data.services:
        assert s.snapshot is not None and s.ci95 is not None
        assert s.meets_objective is (s.ci95[0] >= s.objective)


def test_interval_dipping_below_the_objective_misses_it(data: ReportData) -> None:
    """An estimate above the objective whose interval dips below it does not meet it."""
    row = data.service("model-store")
    assert row.snapshot is not None
    # 1 failure in 100,000 trials: 99.999 % available, but the interval reaches 99.994 %.
    risky = dataclasses.replace(row.snapshot, p_down=estimate(1, 100_000))
    shaky = dataclasses.replace(row, snapshot=risky)
    assert 1 - risky.p_down.value > shaky.objective
    assert shaky.meets_objective is False
    assert dataclasses.replace(row, snapshot=None).meets_objective is None


def test_map_criticality_is_scaled_to_one(data: ReportData) -> None:
    """Map colours are site/link criticalities in (0, 1], the largest exactly 1."""
    values = data.map_criticality
    assert max(values.values()) == 1.0
    assert all(k.startswith(("site:", "link:")) and 0 < v <= 1 for k, v in values.items())


def test_absent_inputs_are_named(bare_inputs: ReportInputs) -> None:
    """With no producer output the report still builds and says what is missing."""
    data = build_report_data(bare_inputs, generated_at=WHEN)
    assert set(data.missing) == {"analysis", "simulate", "years", "drills", "readiness"}
    assert data.risks == () and data.importance == ()
    assert "No drills recorded yet" in data.missing["drills"]


def test_empty_drill_history_counts_as_missing(inputs: ReportInputs) -> None:
    """An empty drill history is reported as 'no drills recorded yet'."""
    data = build_report_data(dataclasses.replace(inputs, drills=()), generated_at=WHEN)
    assert "drills" in data.missing and data.drills == ()


def test_simulation_of_another_topology_is_refused(inputs: ReportInputs,
                                                   snapshot: SnapshotResult) -> None:
    """A snapshot naming a service the topology lacks is refused, naming the stray service."""
    stray = dataclasses.replace(snapshot, services=snapshot.services | {
        "ghost": snapshot.services["dns"]})
    with pytest.raises(InvalidInput, match=r"snapshot: unknown service\(s\) 'ghost'"):
        dataclasses.replace(inputs, snapshot=stray)


def test_drill_record_judged_against_targets(data: ReportData) -> None:
    """A drill over its RTO target is marked as missing it; one under is marked met."""
    by_id = {d.run_id: d for d in data.drills}
    assert by_id["d-20261127-1600-d9"].rto_ok is False
    assert by_id["d-20261101-0930-a1"].rto_ok is True
    assert by_id["d-20261115-1400-b7"].rpo_ok is False


def test_drills_are_oldest_first(data: ReportData) -> None:
    """Drill evidence is shown in the order the drills ran."""
    started = [d.started_at for d in data.drills]
    assert started == sorted(started) and len(started) == 4


def test_annual_highlights_name_the_most_exposed_services(data: ReportData,
                                                          annual: AnnualResult) -> None:
    """The summary names the service most likely to have an outage, and an RPO breach, a year."""
    lines = annual_highlights(data)
    for line, key in zip(lines, ("p_outage_per_year", "p_rpo_breach_per_year"), strict=True):
        top = max(annual.services, key=lambda s: annual.services[s][key])
        assert line.startswith(f"{top} (tier ")
    assert len(lines) == 2


def test_service_rows_follow_the_topology(data: ReportData, taiwan: Topology) -> None:
    """One row per service in file order, with its outcome in every scenario analysed."""
    assert [s.id for s in data.services] == list(taiwan.services)
    row: ServiceRow = data.services[0]
    assert set(row.outcomes) == set(taiwan.scenarios)
