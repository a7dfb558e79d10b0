"""Number formatting for the renderers: durations and rates (the advice's words,
:mod:`georesil.advice.wording`), probabilities, availability."""

from __future__ import annotations

import math
from typing import Any

from georesil.advice.wording import duration, rate_text

__all__ = ["availability", "duration", "number", "probability", "rate"]


def rate(per_year: float | None) -> str:
    """``0.037/yr (once in 27 years)``; ``—`` when unknown."""
    return "—" if per_year is None else rate_text(float(per_year))


def probability(p: Any) -> str:
    """A probability as a percentage with sensible precision (``—`` when unknown)."""
    if p is None:
        return "—"
    p = float(p)
    if p == 0:
        return "0"
    if p >= 0.01:
        return f"{p * 100:.1f} %"
    if p >= 1e-6:
        return f"{p * 100:.2g} %"
    return "< 0.0001 %"


def availability(a: Any) -> str:
    """``99.9951 %`` — enough digits to see the nines."""
    if a is None:
        return "—"
    a = float(a)
    if a >= 1:
        return "100 %"
    digits = min(6, max(1, math.ceil(-math.log10(1 - a)) - 1))
    return f"{a * 100:.{digits}f} %"


def number(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant figures; ``—`` for ``None``."""
    if x is None:
        return "—"
    x = float(x)
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"
