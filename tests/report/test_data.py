"""Report data: ranking of risks, likelihoods, recommendations, missing inputs, bad input."""

from __future__ import annotations

import math
from typing import Any

import pytest

from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.report.data import ReportData, build_report_data
from georesil.report.likelihood import element_rates
from tests.report.conftest import WHEN


@pytest.fixture(scope="module")
def data(taiwan: Topology, inputs: dict[str, Any]) -> ReportData:
    return build_report_data(taiwan, **inputs, generated_at=WHEN)


def test_risks_are_ranked_by_score(data: ReportData) -> None:
    """The executive summary lists at most five risks, largest likelihood × impact first."""
    scores = [r.score for r in data.risks]
    assert 1 <= len(scores) <= 5
    assert scores == sorted(scores, reverse=True)
    assert [r.rank for r in data.risks] == list(range(1, len(scores) + 1))


def test_score_is_likelihood_times_impact(data: ReportData) -> None:
    """Each risk's score is its annual rate times its tier-weighted impact."""
    for r in data.risks:
        assert r.score == pytest.approx(r.likelihood.per_year * r.impact_weight)


def test_every_risk_carries_likelihood_impact_and_fix(data: ReportData) -> None:
    """Every summary risk states a likelihood, an impact and at least one fix."""
    for r in data.risks:
        assert r.likelihood.per_year > 0 and r.likelihood.basis
        assert r.impact_text and r.impact_text != "no service affected"
        assert r.fixes, r.title


def test_same_impact_failures_are_merged(data: ReportData) -> None:
    """The power hubs that all take the north appear once, the others listed as 'also'."""
    north = [r for r in data.risks if "inference-api" in r.down]
    assert len(north) == 1
    assert "zone:longtan-hub (shared risk)" in north[0].also


def test_top_risk_is_the_taipei_spof(data: ReportData) -> None:
    """With the reference topology the Taipei site (0.066/yr, two tier-1 breaches) leads."""
    top = data.risks[0]
    assert top.refs == ("site:taipei-neihu",)
    assert top.impact_weight == 100
    assert set(top.breach) == {"model-store", "inference-api"}


def test_power_zone_likelihood_counts_only_outages_outlasting_backup(taiwan: Topology) -> None:
    """A Chungliao outage (0.037/yr, mean 96 h) darkens Taipei (48 h backup) at 0.037·e^-0.5."""
    rates = element_rates(taiwan)
    got = rates.of("zone:chungliao-hub", ["taipei-neihu"]).per_year
    assert got == pytest.approx(0.037 * math.exp(-48 / 96))


def test_coincidence_scenario_likelihood(taiwan: Topology) -> None:
    """Two independent cable cuts coincide at λ1·U2 + λ2·U1."""
    rates = element_rates(taiwan)
    lam = [rates.rate["link:sub-east"], rates.rate["link:sub-west"]]
    unav = [rates.unavailability["link:sub-east"], rates.unavailability["link:sub-west"]]
    got = rates.scenario("submarine-cut-2023").per_year
    assert got == pytest.approx(lam[0] * unav[1] + lam[1] * unav[0])


def test_quake_scenario_is_one_event(taiwan: Topology) -> None:
    """A scenario carrying a quake happens at the rate of its rarest zone, not a coincidence."""
    rates = element_rates(taiwan)
    assert rates.scenario("chi-chi-1999-like").per_year == pytest.approx(0.02)


def _rec(data: ReportData, action: str, element: str) -> Any:
    found = [r for r in data.recommendations if (r.action, r.element) == (action, element)]
    assert found, [(r.action, r.element) for r in data.recommendations]
    return found[0]


def test_sync_replication_recommended_when_lag_exceeds_rpo(data: ReportData) -> None:
    """model-store's 900 s async lag against a 300 s RPO asks for sync replication."""
    rec = _rec(data, "sync-replication", "service:model-store")
    assert "tainan-ngcc" in rec.text and "15 min" in rec.text and "5 min" in rec.text


def test_backup_power_recommendation_names_hours(data: ReportData) -> None:
    """Taipei gets mean·ln 10 = 221 more hours, cutting Chungliao darkness tenfold."""
    rec = _rec(data, "backup-power", "site:taipei-neihu")
    assert "Add 221 h" in rec.text and "48 h → 269 h" in rec.text
    assert "0.022/yr → 0.0022/yr" in rec.text


def test_capacity_recommendation_names_the_gpu_shortfall(data: ReportData) -> None:
    """Moving all load south needs 2,080 GPUs against 1,968: add 112 GPUs in the south."""
    rec = _rec(data, "add-capacity", "the south region")
    assert rec.figure == "short 112 GPUs"
    assert "0.19 MW" in rec.text


def test_disjoint_route_recommended_for_shared_conduit(data: ReportData) -> None:
    """The two 400 Gbps HSR trunks in one conduit ask for an SRLG-disjoint route."""
    rec = _rec(data, "srlg-disjoint-route", "srlg:west-hsr-conduit")
    assert "hsinchu-hq and tainan-ngcc" in rec.text and "900 Gbps" in rec.text


def test_single_replica_service_gets_a_second_replica(data: ReportData) -> None:
    """monitoring, with its only replica at Hsinchu, is told to add one outside the north."""
    rec = _rec(data, "add-replica", "service:monitoring")
    assert "hsinchu-hq" in rec.text


def test_objective_is_judged_on_the_lower_bound(data: ReportData) -> None:
    """A service whose interval dips below the tier objective does not meet it."""
    svc = data.service("model-store")
    assert svc.snapshot is not None and svc.snapshot["ci95"][0] < svc.objective
    assert svc.meets_objective is False
    assert data.service("dns").meets_objective is True


def test_map_criticality_is_scaled_to_one(data: ReportData) -> None:
    """Map colours are site/link criticalities in (0, 1], the largest exactly 1."""
    values = data.map_criticality
    assert max(values.values()) == 1.0
    assert all(k.startswith(("site:", "link:")) and 0 < v <= 1 for k, v in values.items())


def test_absent_inputs_are_named(taiwan: Topology) -> None:
    """With no producer output the report still builds and says what is missing."""
    data = build_report_data(taiwan, None, None, None, None, generated_at=WHEN)
    assert set(data.missing) == {"analysis", "simulate", "years", "drills"}
    assert data.risks == () and data.importance == ()
    assert "No drills recorded yet" in data.missing["drills"]


def test_empty_drill_history_counts_as_missing(taiwan: Topology,
                                               inputs: dict[str, Any]) -> None:
    """An empty drill history is reported as 'no drills recorded yet'."""
    data = build_report_data(taiwan, **(inputs | {"drills_json": []}), generated_at=WHEN)
    assert "drills" in data.missing and data.drills == ()


def test_unknown_service_in_simulation_is_rejected(taiwan: Topology,
                                                   inputs: dict[str, Any]) -> None:
    """Simulation JSON from another topology is refused, naming the stray service."""
    bad = dict(inputs["simulate_json"])
    bad["services"] = dict(bad["services"]) | {"ghost": bad["services"]["dns"]}
    with pytest.raises(InvalidInput, match=r"simulate\.services: unknown service\(s\) 'ghost'"):
        build_report_data(taiwan, **(inputs | {"simulate_json": bad}))


def test_drill_record_judged_against_targets(data: ReportData) -> None:
    """A drill over its RTO target is marked as missing it; one under is marked met."""
    by_id = {d["run_id"]: d for d in data.drills}
    assert by_id["d-20261127-1600-d9"].rto_ok is False
    assert by_id["d-20261101-0930-a1"].rto_ok is True
    assert by_id["d-20261115-1400-b7"].rpo_ok is False


def test_region_route_recommended_when_two_conduits_separate_regions(
        data: ReportData) -> None:
    """North and central are separated by two conduit cuts: a route outside one is advised."""
    rec = _rec(data, "srlg-disjoint-route", "srlg:freeway3-duct")
    assert "north–central" in rec.text and "2 independent cuts" in rec.text
    assert "200 of the 300 Gbps" in rec.text


def test_nk_rows_that_add_nothing_are_folded(data: ReportData) -> None:
    """Taipei + Taoyuan does what Taipei does alone: it is marked same_as Taipei."""
    rows = {tuple(r["elements"]): r for r in data.nk}
    assert rows[("site:taipei-neihu", "site:taoyuan-dc")]["same_as"] == ["site:taipei-neihu"]
    assert rows[("site:tainan-ngcc", "site:taipei-neihu")]["same_as"] is None


def test_annual_highlights_name_the_most_exposed_services(data: ReportData) -> None:
    """The summary names the service most likely to have an outage, and an RPO breach, a year."""
    from georesil.report.data import annual_highlights

    lines = annual_highlights(data)
    assert lines[0].startswith("training-scheduler (tier 2)") and "9.4 %" in lines[0]
    assert lines[1].startswith("model-store (tier 1)") and "5.8 %" in lines[1]
