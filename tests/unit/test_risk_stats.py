"""Wilson intervals, relative error, nines and the trial-count warning."""

from __future__ import annotations

import math

import pytest

from georesil.risk.stats import nines, relative_error, trials_needed, trials_warning, wilson


def test_wilson_known_value() -> None:
    """Wilson 95 % interval of 5/100 is (0.0215, 0.1118)."""
    lo, hi = wilson(5, 100)
    assert (lo, hi) == pytest.approx((0.02154, 0.11175), abs=1e-4)


def test_wilson_zero_successes_starts_at_zero() -> None:
    """With no successes the interval is [0, ≈ z²/n]."""
    lo, hi = wilson(0, 1000)
    assert lo == 0.0 and hi == pytest.approx(0.00383, abs=1e-4)


def test_relative_error_formula() -> None:
    """√((1−u)/(N u)): u = 10⁻⁶ at N = 10⁸ gives 10 %."""
    assert relative_error(1e-6, 10**8) == pytest.approx(0.1, rel=1e-5)


def test_nines() -> None:
    """Availability 0.9999 has four nines."""
    assert nines(0.9999) == pytest.approx(4.0)
    assert math.isinf(nines(1.0))


def test_trials_needed_matches_issue_example() -> None:
    """Availability 0.99999 needs about 4·10⁷ trials for ±10 % at 95 %."""
    assert trials_needed(1e-5) == pytest.approx(3.84e7, rel=0.01)


def test_warning_text() -> None:
    """Too few trials produce the issue's warning, pointing to --exact."""
    text = trials_warning("model-store", 10, 1_000_000)
    assert text is not None
    assert "availability 0.99999 needs ≥ 4·10^7 trials" in text and "--exact" in text


def test_no_warning_with_enough_trials() -> None:
    """Enough trials: no warning."""
    assert trials_warning("s", 10_000, 1_000_000) is None
