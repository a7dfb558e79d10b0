"""Numbers in words, shared by the advice texts and the report renderers.

A duration in the unit a reader expects and an annual rate with its return period: the advice
writes them into its sentences, the report into its tables, so they are defined once, here.
"""

from __future__ import annotations

__all__ = ["duration", "rate_text", "share"]


def duration(seconds: float | None) -> str:
    """``900 s`` → ``15 min``; ``None`` → ``—``: the unit a reader expects."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 120:
        return f"{s:g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    if s < 172800:
        return f"{s / 3600:.3g} h"
    return f"{s / 86400:.3g} d"


def rate_text(per_year: float) -> str:
    """``0.037/yr (once in 27 years)`` — a rate with its return period."""
    if per_year <= 0:
        return "never (no failure rate in the model)"
    period = 1.0 / per_year
    if period < 1:
        return f"{per_year:.2g}/yr ({per_year:.2g} times a year)"
    return f"{per_year:.2g}/yr (once in {_years(period)})"


def share(p: float) -> str:
    """``61 %``, ``0.68 %``, ``< 0.0001 %``."""
    if p >= 0.01:
        return f"{p:.0%}".replace("%", " %")
    return f"{p * 100:.2g} %" if p >= 1e-6 else "< 0.0001 %"


def _years(period: float) -> str:
    if period >= 1e6:
        return "over a million years"
    if period >= 100:
        return f"{period:,.0f} years"
    return f"{period:.0f} years" if period >= 10 else f"{period:.1f} years"
