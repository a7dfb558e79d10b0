"""Advice: likelihoods, ranked risks and recommendations from the typed analysis results."""

from __future__ import annotations

import math
from typing import Any

import pytest

from georesil.advice import Advice, advise, element_rates
from georesil.advice.capacity import all_load_moved
from georesil.advice.recommendations import disjoint_route
from georesil.analysis import Analysis, analyze
from georesil.model import RESOURCES, Topology, load_topology


@pytest.fixture(scope="module")
def taiwan() -> Topology:
    return load_topology()


@pytest.fixture(scope="module")
def analysis(taiwan: Topology) -> Analysis:
    return analyze(taiwan)


@pytest.fixture(scope="module")
def advice(taiwan: Topology, analysis: Analysis) -> Advice:
    return advise(taiwan, analysis, None)


def test_risks_are_ranked_by_score(advice: Advice) -> None:
    """The summary lists at most five risks, largest likelihood × impact first."""
    scores = [r.score for r in advice.risks]
    assert 1 <= len(scores) <= 5
    assert scores == sorted(scores, reverse=True)
    assert [r.rank for r in advice.risks] == list(range(1, len(scores) + 1))


def test_score_is_likelihood_times_impact(advice: Advice) -> None:
    """Each risk's score is its annual rate times its tier-weighted impact."""
    for r in advice.risks:
        assert r.score == pytest.approx(r.likelihood.per_year * r.impact_weight)


def test_every_risk_carries_likelihood_impact_and_fix(advice: Advice) -> None:
    """Every summary risk states a likelihood, an impact and at least one fix."""
    for r in advice.risks:
        assert r.likelihood.per_year > 0 and r.likelihood.basis
        assert r.impact_text and r.impact_text != "no service affected"
        assert r.fixes, r.title


def test_same_impact_failures_are_merged(advice: Advice) -> None:
    """The power hubs that all take the north appear once, the others listed as 'also'."""
    north = [r for r in advice.risks if "inference-api" in r.down]
    assert len(north) == 1
    assert "zone:longtan-hub (shared risk)" in north[0].also


def test_top_risk_is_the_taipei_spof(advice: Advice) -> None:
    """With the reference topology the Taipei site (two tier-1 breaches) leads."""
    top = advice.risks[0]
    assert top.refs == ("site:taipei-neihu",)
    assert top.impact_weight == 100
    assert set(top.breach) == {"model-store", "inference-api"}


def test_findings_are_the_analysis_findings(advice: Advice, analysis: Analysis) -> None:
    """SPOFs and shared risks are the analysis' own, each with a sentence and a likelihood."""
    assert [f.finding for f in advice.spofs] == list(analysis.spofs)
    assert [f.finding for f in advice.shared_risks] == list(analysis.shared_risks)
    assert all(f.sentence and f.likelihood.basis for f in advice.spofs + advice.shared_risks)


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


def _rec(advice: Advice, action: str, element: str) -> Any:
    found = [r for r in advice.recommendations if (r.action, r.element) == (action, element)]
    assert found, [(r.action, r.element) for r in advice.recommendations]
    return found[0]


def test_sync_replication_recommended_when_lag_exceeds_rpo(advice: Advice) -> None:
    """model-store's 900 s async lag against a 300 s RPO asks for sync replication."""
    rec = _rec(advice, "sync-replication", "service:model-store")
    assert "tainan-ngcc" in rec.text and "15 min" in rec.text and "5 min" in rec.text


def test_backup_power_recommendation_names_hours(advice: Advice) -> None:
    """Taipei gets mean·ln 10 = 221 more hours, cutting Chungliao darkness tenfold."""
    rec = _rec(advice, "backup-power", "site:taipei-neihu")
    assert "Add 221 h" in rec.text and "48 h → 269 h" in rec.text
    assert "0.022/yr → 0.0022/yr" in rec.text


def test_capacity_recommendation_names_the_gpu_shortfall(advice: Advice) -> None:
    """Moving all load south needs 2,080 GPUs against 1,968: add 112 GPUs in the south."""
    rec = _rec(advice, "add-capacity", "the south region")
    assert rec.figure == "short 112 GPUs"
    assert "0.19 MW" in rec.text


def test_disjoint_route_recommended_for_shared_conduit(taiwan: Topology) -> None:
    """The two 400 Gbps HSR trunks in one conduit ask for an SRLG-disjoint route."""
    rec = disjoint_route(taiwan, "west-hsr-conduit", element_rates(taiwan))
    assert rec is not None and rec.element == "srlg:west-hsr-conduit"
    assert "hsinchu-hq and tainan-ngcc" in rec.text and "900 Gbps" in rec.text


def test_single_replica_service_gets_a_second_replica(advice: Advice) -> None:
    """monitoring, with its only replica at Hsinchu, is told to add one outside the north."""
    rec = _rec(advice, "add-replica", "service:monitoring")
    assert "hsinchu-hq" in rec.text


def test_region_route_recommended_when_two_conduits_separate_regions(advice: Advice) -> None:
    """North and central are separated by two conduit cuts: a route outside one is advised."""
    rec = _rec(advice, "srlg-disjoint-route", "srlg:freeway3-duct")
    assert "north–central" in rec.text and "2 independent cuts" in rec.text
    assert "200 of the 300 Gbps" in rec.text


def test_recommendations_are_unique(advice: Advice) -> None:
    """No (action, element) is recommended twice."""
    keys = [r.key for r in advice.recommendations]
    assert len(keys) == len(set(keys))


def test_no_analysis_means_no_risks(taiwan: Topology) -> None:
    """Without an analysis there is nothing to rank, yet capacity and quakes are still shown."""
    bare = advise(taiwan, None, None)
    assert bare.risks == () and bare.spofs == () and bare.importance == ()
    assert bare.absorption and bare.shaking


def test_all_load_moved_matches_a_plain_sum(taiwan: Topology) -> None:
    """The planning case sums the demand of every service with a primary in either region."""
    region = {s.id: s.region for s in taiwan.sites.values()}
    for frm, to in (("north", "south"), ("south", "north")):
        rows = {r.resource: r for r in all_load_moved(taiwan, frm, to)}
        assert list(rows) == list(RESOURCES)
        for resource, row in rows.items():
            demand = 0.0
            for sid, svc in taiwan.services.items():
                if region[taiwan.primary(sid).site] in (frm, to):
                    demand += svc.demand.get(resource) or 0.0
            caps = [s.capacity.get(resource) for s in taiwan.sites.values() if s.region == to]
            known = [c for c in caps if c is not None]
            assert row.demand == pytest.approx(demand)
            assert row.capacity == (pytest.approx(sum(known)) if known else None)
            expected = max(0.0, demand - sum(known)) if known else 0.0
            assert row.shortfall == pytest.approx(expected)
