"""Estimates with their uncertainty: Wilson intervals, relative error, nines, trial budgets.

* **Wilson score interval** (Wilson 1927) for k successes in n trials at z = 1.96 (95 %):
  (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n). Unlike the normal interval it stays
  inside [0, 1] and is not degenerate when k = 0.
* **Relative error** of a crude Monte Carlo estimate of a probability u: √((1 − u)/(N u)).
* **Trials needed** for a 95 % half-width of r·u: N ≥ z² (1 − u) / (r² u) — "availability
  0.99999 needs ≥ 4·10^7 trials for ±10 %".
* **Nines** of an availability A: −log10(1 − A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "Z95",
    "Estimate",
    "estimate",
    "nines",
    "relative_error",
    "trials_needed",
    "trials_warning",
    "wilson",
]

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (``(0, 1)`` when n = 0)."""
    if n <= 0:
        return 0.0, 1.0
    phat = k / n
    z2 = z * z
    centre = phat + z2 / (2 * n)
    half = z * math.sqrt(phat * (1 - phat) / n + z2 / (4 * n * n))
    denom = 1 + z2 / n
    low = 0.0 if k == 0 else max(0.0, (centre - half) / denom)
    high = 1.0 if k == n else min(1.0, (centre + half) / denom)
    return low, high


def relative_error(u: float, n: int) -> float:
    """√((1 − u)/(N u)): relative standard error of a crude estimate (inf when u = 0)."""
    if u <= 0 or n <= 0:
        return math.inf
    return math.sqrt((1 - u) / (n * u))


def trials_needed(u: float, rel: float = 0.1, z: float = Z95) -> float:
    """Trials for a 95 % half-width of ``rel``·u: z²(1 − u)/(rel² u) (inf when u = 0)."""
    if u <= 0:
        return math.inf
    return z * z * (1 - u) / (rel * rel * u)


def nines(availability: float) -> float:
    """−log10(1 − A); inf for A = 1."""
    return math.inf if availability >= 1 else -math.log10(1 - availability)


@dataclass(frozen=True)
class Estimate:
    """A probability estimated from k of n trials (or computed exactly: n = 0 and exact)."""

    value: float
    low: float
    high: float
    rel_error: float


def estimate(k: int, n: int) -> Estimate:
    """Point estimate, Wilson 95 % interval and relative error of k out of n."""
    u = k / n if n else 0.0
    lo, hi = wilson(k, n)
    return Estimate(u, lo, hi, relative_error(u, n))


def _sci(x: float) -> str:
    exp = math.floor(math.log10(x))
    mant = round(x / 10**exp)
    if mant == 10:
        mant, exp = 1, exp + 1
    return f"10^{exp}" if mant == 1 else f"{mant}·10^{exp}"


def trials_warning(what: str, k: int, n: int, rel: float = 0.1) -> str | None:
    """A warning when n trials are too few for ``rel`` relative error, else ``None``."""
    if n <= 0:
        return None
    if k == 0:
        return (f"{what}: no failure in {n} trials: unavailability < {3 / n:.2g} (95 %, rule of "
                f"three); use more trials or --exact")
    u = k / n
    need = trials_needed(u, rel)
    if n >= need:
        return None
    return (f"{what}: availability {1 - u:.{int(nines(1 - u)) + 2}g} needs ≥ "
            f"{_sci(need)} trials for {rel:.0%} relative error (have {n}); "
            "use more trials or --exact")
