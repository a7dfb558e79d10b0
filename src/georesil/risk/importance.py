"""Importance measures of basic events (site, link and zone failures) for each target.

With P = P(S) the target's failure probability, P₁ = P(S | e failed), P₀ = P(S | e working) and
p the probability of basic event e:

* **Birnbaum** MIF = P₁ − P₀;
* **criticality** = p·MIF / P;
* **RAW** (risk achievement worth) = P₁ / P;
* **RRW** (risk reduction worth) = P / P₀;
* **Fussell–Vesely**, in its *risk-reduction* form FV = (P − P₀) / P = 1 − 1/RRW: the fraction
  of the risk removed if e never failed. It equals the cut-set definition
  Σ_{MCS ∋ e} P(MCS) / P under the rare-event approximation; it is **not** SCRAM's
  "DIF" P(e | S).

Monte Carlo estimates use common random numbers: the same draws are evaluated with e forced to
fail and forced to work (:func:`georesil.risk.chunks.run_chunk`), so the differences are not
swamped by sampling noise. The basic event of ``site:X`` is X's *own* failure; failures a zone
passes on are the zone's event. Ratios with a zero denominator are ``None``. Elements that
do not affect a target (P₁ = P₀ = P on the trials used) get no row for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Importance", "harden_first", "importance_rows"]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Importance:
    """Importance of one basic event for one target."""

    element: str
    target: str
    p: float
    birnbaum: float
    criticality: float | None
    raw: float | None
    rrw: float | None
    fussell_vesely: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "element": self.element, "target": self.target, "p": self.p,
            "birnbaum": self.birnbaum, "criticality": self.criticality, "raw": self.raw,
            "rrw": self.rrw, "fussell_vesely": self.fussell_vesely,
        }


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def importance_rows(
    elements: tuple[str, ...], p: F64, targets: tuple[str, ...],
    base: F64, given_up: F64, given_down: F64,
) -> list[Importance]:
    """Importance of every element for every target it affects.

    Pairs where forcing the element changes nothing (P₁ = P₀ = P) are left out.

    Args:
        elements: Basic event names.
        p: Probability of each basic event.
        targets: Target names.
        base: P(S) per target.
        given_up: P(S | e works), ``(n_elements, n_targets)``.
        given_down: P(S | e fails), ``(n_elements, n_targets)``.
    """
    rows = []
    for e, name in enumerate(elements):
        for t, target in enumerate(targets):
            big_p, p0, p1 = float(base[t]), float(given_up[e, t]), float(given_down[e, t])
            mif = p1 - p0
            if mif == 0 and p1 == big_p:  # e does not affect this target: leave it out
                continue
            crit = _ratio(float(p[e]) * mif, big_p)
            rows.append(Importance(
                name, target, float(p[e]), mif, crit, _ratio(p1, big_p), _ratio(big_p, p0),
                _ratio(big_p - p0, big_p),
            ))
    return rows


def harden_first(rows: list[Importance], target: str, limit: int = 10) -> list[Importance]:
    """Elements ranked by the share of ``target``'s risk they remove (Fussell–Vesely)."""
    mine = [r for r in rows if r.target == target and (r.fussell_vesely or 0) > 0]
    mine.sort(key=lambda r: (-(r.fussell_vesely or 0), -r.birnbaum, r.element))
    return mine[:limit]
