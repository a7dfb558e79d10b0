"""Importance measures of basic events (site, link and zone failures) for each target.

With P = P(S) the target's failure probability, P₁ = P(S | e failed), P₀ = P(S | e working) and
p the probability of basic event e:

* **Birnbaum** MIF = P₁ − P₀ (never negative: every target is monotone in the failures);
* **criticality** = p·MIF / P;
* **RAW** (risk achievement worth) = P₁ / P;
* **RRW** (risk reduction worth) = P / P₀;
* **Fussell–Vesely**, in its *risk-reduction* form FV = (P − P₀) / P = 1 − 1/RRW: the fraction
  of the risk removed if e never failed. Because e is independent of the other events,
  P − P₀ = p·MIF, so FV equals the criticality importance. It equals the cut-set form
  Σ_{MCS ∋ e} P(MCS) / P under the rare-event approximation; it is **not** SCRAM's "DIF"
  P(e | S).

Ratios with a zero denominator are ``None``. Elements that do not affect a target get no row
for it.

Notes:
    **Monte Carlo estimators** (counts from :mod:`georesil.risk.criticality`, all from the
    trials of the run — common random numbers, no pass per element). Over the M importance
    trials, F of which fail the target:

    * P = F/M; P₀ = (F − R_e)/M, where R_e counts the failed trials that e's repair fixes.
      This is *exactly* the mean of forcing e to work in every trial; so are FV and
      criticality = R_e / F ≤ 1 (a ratio of counts).
    * MIF, stratified on whether anything but e failed: in trials where nothing else failed
      S(e) − S(∅) is read from the single table (exact), weighted by the share q̂ of such
      trials; in the rest it is the mean of S(with e) − S(without e) over the trials where
      e failed (repairs) and the forced trials of the base sample. Zones are not stratified
      (their effect depends on the backup levels drawn). Each term is a count ≥ 0, so
      MIF ≥ 0 with no rounding noise; P₁ = min(1, P₀ + MIF).

    Cost: O(trials × failed fraction × events per failed trial) repair evaluations plus
    O(events × base) forced ones, each 1/64 of a kernel word; O(events × targets) to finish.
    The forced-everywhere estimator (one evaluation per element per trial) is the test oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.risk.criticality import ImportanceTally

__all__ = ["EXACT_TOLERANCE", "Importance", "from_probabilities", "from_tally",
           "harden_first"]

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
#: Exact enumeration sums floats: differences below this are rounding noise and read as 0.
EXACT_TOLERANCE = 1e-12


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


def _row(name: str, target: str, p: float, big_p: float, p0: float, mif: float,
         share: float | None) -> Importance:
    """A row from P, P₀, MIF ≥ 0 and the risk share (P − P₀)/P."""
    p1 = min(1.0, p0 + mif)
    return Importance(name, target, p, p1 - p0, share, _ratio(p1, big_p), _ratio(big_p, p0),
                      share)


def from_probabilities(
    elements: tuple[str, ...], p: F64, targets: tuple[str, ...],
    base: F64, given_up: F64, given_down: F64,
) -> list[Importance]:
    """Importance from exact probabilities (exact enumeration).

    Differences within :data:`EXACT_TOLERANCE` are float noise: MIF is clamped to ≥ 0 and a
    pair whose MIF and P₁ − P are both within it is left out (the element does not affect
    the target); criticality is clamped to ≤ 1.

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
            if mif <= EXACT_TOLERANCE and abs(p1 - big_p) <= EXACT_TOLERANCE:
                continue
            mif = max(mif, 0.0)
            share = _ratio(min(float(p[e]) * mif, big_p), big_p)
            rows.append(_row(name, target, float(p[e]), big_p, max(p0, 0.0), mif, share))
    return rows


def from_tally(elements: tuple[str, ...], p: F64, targets: tuple[str, ...],
               tally: ImportanceTally, n_elements: int, gain: U8) -> list[Importance]:
    """Importance from Monte Carlo counts (see the module Notes for the estimators).

    Args:
        elements: Basic events: sites and links (the first ``n_elements``), then zones.
        p: Probability of each basic event.
        targets: Target names.
        tally: The counts of the run.
        n_elements: Sites and links.
        gain: ``(n_elements, targets)``: 1 where the element failing alone fails the target
            and nothing failing does not (from the single table).
    """
    m = tally.trials
    mif = _mif(tally, n_elements, gain)
    fixed = tally.repaired
    keep = ~np.isnan(mif) & ((mif != 0) | (fixed != 0))
    rows = []
    for e, t in zip(*np.nonzero(keep), strict=True):  # events, then targets
        failed, fixed_et = int(tally.failed[t]), int(fixed[e, t])
        rows.append(_row(elements[e], targets[t], float(p[e]), failed / m,
                         (failed - fixed_et) / m, float(mif[e, t]), _ratio(fixed_et, failed)))
    return rows


def _mif(tally: ImportanceTally, n_elements: int, gain: U8) -> F64:
    """The Birnbaum estimates ``(events, targets)``; NaN where no trial informs one."""
    fixed, forced = tally.repaired, tally.forced
    n_set, n_forced = tally.event_trials[:, None], tally.forced_trials[:, None]
    out = np.full(fixed.shape, np.nan)
    # a zone: every trial it was set in, and the forced base sample
    n = n_set[n_elements:] + n_forced[n_elements:]
    zones = out[n_elements:]
    seen = np.broadcast_to(n > 0, zones.shape)
    zones[seen] = ((fixed[n_elements:] + forced[n_elements:]) / np.where(n > 0, n, 1))[seen]
    # sites and links: stratified on whether anything else failed
    alone, g = tally.alone[:n_elements, None], gain.astype(np.int64)
    q = (tally.empty + alone) / tally.trials
    n_rest = n_set[:n_elements] - alone + n_forced[:n_elements]
    rest = np.where(n_rest > 0, (fixed[:n_elements] - alone * g + forced[:n_elements])
                    / np.where(n_rest > 0, n_rest, 1), g.astype(np.float64))
    out[:n_elements] = q * g + (1.0 - q) * rest
    return out


def harden_first(rows: list[Importance], target: str, limit: int = 10) -> list[Importance]:
    """Elements ranked by the share of ``target``'s risk they remove (Fussell–Vesely)."""
    mine = [r for r in rows if r.target == target and (r.fussell_vesely or 0) > 0]
    mine.sort(key=lambda r: (-(r.fussell_vesely or 0), -r.birnbaum, r.element))
    return mine[:limit]
