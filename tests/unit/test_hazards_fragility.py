"""Lognormal fragility curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from georesil.errors import InvalidHazard
from georesil.hazards.fragility import normal_cdf, p_fail, sample_failures


def test_median_capacity_fails_half() -> None:
    """At PGA = θ the failure probability is exactly ½."""
    assert float(p_fail(0.5, 0.5, 0.6)) == pytest.approx(0.5)


@pytest.mark.parametrize("z", [-2.0, -0.5, 1.0, 2.5])
def test_formula(z: float) -> None:
    """P = Φ(ln(PGA/θ)/β): at PGA = θ·e^{zβ} it is Φ(z)."""
    theta, beta = 0.47, 0.4
    expected = 0.5 * math.erfc(-z / math.sqrt(2))
    assert float(p_fail(theta * math.exp(z * beta), theta, beta)) == pytest.approx(expected)


def test_zero_shaking_never_fails() -> None:
    """PGA = 0 gives probability 0."""
    assert float(p_fail(0.0, 0.5, 0.5)) == 0.0


def test_normal_cdf_lower_tail_accurate() -> None:
    """Φ(−8) keeps relative accuracy (≈ 6.2·10⁻¹⁶)."""
    assert float(normal_cdf(-8.0)) == pytest.approx(6.220960574271785e-16, rel=1e-9)


def test_non_positive_beta_rejected() -> None:
    """β ≤ 0 is an InvalidHazard."""
    with pytest.raises(InvalidHazard, match="beta > 0"):
        p_fail(0.3, 0.5, 0.0)


def test_sampled_failures_follow_curve() -> None:
    """Sampled capacities fail with the curve's probability."""
    rng = np.random.default_rng(3)
    ln_pga = np.full((400_000, 1), math.log(0.6))
    frac = sample_failures(ln_pga, np.array([0.5]), np.array([0.5]), rng).mean()
    assert frac == pytest.approx(float(p_fail(0.6, 0.5, 0.5)), abs=0.003)
