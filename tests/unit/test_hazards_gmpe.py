"""Lin (2009) ground motion and its inter/intra-event scatter."""

from __future__ import annotations

import math

import numpy as np
import pytest

from georesil.errors import InvalidHazard
from georesil.hazards.gmpe import LIN2009, Scatter, ln_pga_median, pga_median_g


@pytest.mark.parametrize(("magnitude", "rrup", "expected_g"),
                         [(6.0, 20.0, 0.075), (7.0, 10.0, 0.227), (7.0, 50.0, 0.047)])
def test_check_values(magnitude: float, rrup: float, expected_g: float) -> None:
    """Median PGA matches Lin (2009)'s check values within 2 % (docs/sources.md#lin-2009)."""
    got = float(pga_median_g(magnitude, rrup, 760.0, "strike-slip"))
    assert got == pytest.approx(expected_g, rel=0.02)


def test_reverse_faulting_adds_c7() -> None:
    """Reverse faulting raises ln PGA by exactly C7 over strike-slip."""
    diff = ln_pga_median(6.5, 30.0, 760.0, "reverse") - ln_pga_median(6.5, 30.0, 760.0)
    assert float(diff) == pytest.approx(LIN2009["C7"])


def test_soft_soil_amplifies() -> None:
    """Lower Vs30 (softer soil) gives stronger median shaking by C8·ln(Vs30/1130)."""
    soft, rock = pga_median_g(6.5, 30.0, 300.0), pga_median_g(6.5, 30.0, 760.0)
    assert float(soft / rock) == pytest.approx(math.exp(LIN2009["C8"] * math.log(300 / 760)))


def test_vectorised_broadcast() -> None:
    """Magnitudes (column) and distances (row) broadcast to a grid."""
    grid = pga_median_g(np.array([[6.0], [7.0]]), np.array([10.0, 20.0, 50.0]))
    assert grid.shape == (2, 3)
    assert float(grid[0, 1]) == pytest.approx(float(pga_median_g(6.0, 20.0)))


def test_negative_distance_rejected() -> None:
    """A negative rupture distance is an InvalidHazard naming the field."""
    with pytest.raises(InvalidHazard, match="rupture distance") as info:
        ln_pga_median(6.0, -1.0)
    assert info.value.field == "rrup_km"


def test_unknown_mechanism_rejected() -> None:
    """An unknown mechanism lists the allowed ones."""
    with pytest.raises(InvalidHazard, match="allowed: strike-slip, normal, reverse"):
        ln_pga_median(6.0, 10.0, 760.0, "thrust")  # type: ignore[arg-type]


def test_scatter_split_preserves_total_variance() -> None:
    """σ_inter² + σ_intra² = σ² with σ_inter = √f·σ."""
    s = Scatter.split(0.5363, 0.3)
    assert s.sigma_inter == pytest.approx(math.sqrt(0.3) * 0.5363)
    assert s.sigma_inter**2 + s.sigma_intra**2 == pytest.approx(0.5363**2)


def test_scatter_correlates_sites_of_one_event() -> None:
    """Two sites of one event are correlated with coefficient f (the inter-event fraction)."""
    rng = np.random.default_rng(7)
    draws = Scatter.split(0.6, 0.4).sample(np.zeros((200_000, 2)), rng)
    corr = float(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1])
    assert corr == pytest.approx(0.4, abs=0.01)
    assert float(draws.std()) == pytest.approx(0.6, rel=0.01)


def test_bad_inter_event_fraction_rejected() -> None:
    """An inter-event fraction above 1 is an InvalidHazard."""
    with pytest.raises(InvalidHazard, match="inter_event_fraction"):
        Scatter.split(0.5, 1.5)
