"""Seismic sources, sampled events and scenario quakes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from georesil.errors import InvalidHazard
from georesil.hazards.earthquakes import (
    quake_impact,
    sample_epicentres,
    sample_events,
    sample_magnitudes,
)
from georesil.hazards.fragility import p_fail
from georesil.hazards.gmpe import pga_median_g
from georesil.model.schema import SeismicSource
from tests.unit._risk_build import site, topology


def _pair() -> object:
    return topology(
        [site("near", 23.10, 120.28, fragility={"median_g": 0.3, "beta": 0.5}),
         site("far", 25.03, 121.56)],
        [{"id": "l", "a": "near", "b": "far"}],
    )


def test_magnitudes_truncated() -> None:
    """Gutenberg–Richter magnitudes stay within [m_min, m_max]."""
    m = sample_magnitudes(np.random.default_rng(1), 50_000, 1.0, 5.0, 7.5)
    assert m.min() >= 5.0 and m.max() <= 7.5


def test_magnitude_exceedance_follows_b_value() -> None:
    """P(M ≥ 6) of a b = 1 source on [5, 7.5] is (10^-1 − 10^-2.5)/(1 − 10^-2.5)."""
    m = sample_magnitudes(np.random.default_rng(2), 400_000, 1.0, 5.0, 7.5)
    expected = (10**-1 - 10**-2.5) / (1 - 10**-2.5)
    assert (m >= 6.0).mean() == pytest.approx(expected, abs=0.002)


def test_bad_b_value_rejected() -> None:
    """A non-positive b-value is an InvalidHazard naming the values."""
    with pytest.raises(InvalidHazard, match="b_value=0"):
        sample_magnitudes(np.random.default_rng(0), 1, 0.0, 5.0, 7.0)


def test_line_source_epicentres_on_trace() -> None:
    """A N–S line source puts epicentres on its meridian, between its ends."""
    src = SeismicSource(id="f", kind="line", annual_rate=1.0,
                        trace=({"lat": 23.0, "lon": 120.5}, {"lat": 24.0, "lon": 120.5}))
    epi = sample_epicentres(src, np.random.default_rng(4), 1000)
    assert np.allclose(epi[:, 1], 120.5)
    assert epi[:, 0].min() >= 23.0 and epi[:, 0].max() <= 24.0


def test_scenario_at_site_uses_median_and_fragility() -> None:
    """A quake under a site shakes it at the Lin (2009) median and applies its own curve."""
    impact = quake_impact(_pair(), 23.10, 120.28, 6.4, 15.0, mechanism="strike-slip")
    near = impact.elements["site:near"]
    # M6.4: rupture width 10^(−1.01+0.32·6.4) ≈ 11.1 km, so its top is 15 − 5.55·sin 45° deep.
    top_km = 15.0 - 0.5 * 10 ** (-1.01 + 0.32 * 6.4) * math.sin(math.radians(45))
    assert near.distance_km == pytest.approx(top_km, rel=1e-6)
    assert near.pga_g == pytest.approx(float(pga_median_g(6.4, top_km, 760.0)), rel=1e-6)
    assert near.p_fail == pytest.approx(float(p_fail(near.pga_g, 0.3, 0.5)))


def test_scenario_failure_set_threshold() -> None:
    """Elements with p_fail ≥ ½ fail; the distant site does not."""
    impact = quake_impact(_pair(), 23.10, 120.28, 7.5, 5.0)
    assert "near" in impact.failures.sites and "far" not in impact.failures.sites
    assert all(e.p_fail >= 0.5 for r, e in impact.elements.items() if r == "site:near")


def test_link_shaken_at_nearest_point() -> None:
    """A link is as close to the quake as its nearest point, not its ends' midpoint."""
    impact = quake_impact(_pair(), 24.0, 121.0, 6.0, 10.0)
    assert impact.elements["link:l"].distance_km < min(
        impact.elements["site:near"].distance_km, impact.elements["site:far"].distance_km)


@pytest.mark.parametrize(("args", "field"), [((91.0, 120.0, 6.0, 10.0), "lat"),
                                             ((23.0, 120.0, 11.0, 10.0), "magnitude"),
                                             ((23.0, 120.0, 6.0, -5.0), "depth_km")])
def test_scenario_out_of_range_rejected(args: tuple[float, ...], field: str) -> None:
    """Out-of-range scenario parameters name the field and the allowed range."""
    with pytest.raises(InvalidHazard, match=f"quake {field}: got .*; allowed") as info:
        quake_impact(_pair(), *args)
    assert info.value.field == field


def test_sampled_events_break_near_elements_more() -> None:
    """Events on a source under 'near' break it more often than the far site."""
    src = SeismicSource(id="p", location={"lat": 23.1, "lon": 120.28}, annual_rate=1.0,
                        m_min=6.0, m_max=7.5, depth_km=10.0)
    events = sample_events(_pair(), src, 2000, np.random.default_rng(5))
    near = sum("near" in e.failures.sites for e in events)
    far = sum("far" in e.failures.sites for e in events)
    assert near > 10 * max(far, 1)
    assert all(math.isfinite(e.magnitude) for e in events)
