"""Lognormal fragility curves (HAZUS style).

    P(fail | PGA) = Φ( ln(PGA / θ) / β )

with θ the median capacity in g and β the lognormal standard deviation (HAZUS v5.1 technical
manual, ch. 7–8; FEMA 2022). Equivalently an element has a lognormal capacity
C = θ·e^{βZ}, Z ~ N(0, 1), and fails when PGA ≥ C — which is how failures are *sampled*.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from georesil.errors import InvalidHazard

__all__ = ["normal_cdf", "p_fail", "sample_failures"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_erfc = np.frompyfunc(math.erfc, 1, 1)


def normal_cdf(x: npt.ArrayLike) -> FloatArray:
    """Standard normal CDF Φ(x), vectorised (via ``erfc`` for accuracy in the lower tail)."""
    arr = np.asarray(x, dtype=np.float64)
    return np.asarray(0.5 * _erfc(-arr / math.sqrt(2.0)), dtype=np.float64)


def _check(median_g: npt.ArrayLike, beta: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    theta = np.asarray(median_g, dtype=np.float64)
    b = np.asarray(beta, dtype=np.float64)
    if np.any(~(theta > 0)) or np.any(~(b > 0)):
        raise InvalidHazard(
            "a fragility curve needs median_g > 0 and beta > 0", field="fragility",
        )
    return theta, b


def p_fail(pga_g: npt.ArrayLike, median_g: npt.ArrayLike, beta: npt.ArrayLike) -> FloatArray:
    """Failure probability Φ(ln(PGA/θ)/β); PGA = 0 gives 0. Arguments broadcast."""
    theta, b = _check(median_g, beta)
    pga = np.asarray(pga_g, dtype=np.float64)
    if np.any(pga < 0):
        raise InvalidHazard("PGA must be ≥ 0 g", field="pga_g")
    with np.errstate(divide="ignore"):
        z = np.log(pga / theta) / b
    return normal_cdf(z)


def sample_failures(
    ln_pga: FloatArray, median_g: FloatArray, beta: FloatArray, rng: np.random.Generator
) -> BoolArray:
    """Sample failures from ln PGA (events × elements) by drawing lognormal capacities."""
    theta, b = _check(median_g, beta)
    z = rng.standard_normal(np.shape(ln_pga))
    return np.asarray(ln_pga >= np.log(theta) + b * z)
