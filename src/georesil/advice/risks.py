"""The five biggest risks, and the findings of the analysis with their likelihood.

A **risk** is a failure (a single element, a zone, an SRLG or a named scenario) with

* a *likelihood* — an annual rate from :mod:`georesil.advice.likelihood`;
* an *impact* — what the failure does to the services (the analysis semantics, :func:`inject`),
  weighted like the N-k ranking: a tier-1 service down 100, tier 2 10, tier 3+ 1, a breach half;
* a *score* = rate × impact weight (expected weighted service losses per year).

Failures with the same impact (e.g. three power hubs that each take the north) are merged into
one risk naming the most likely one and listing the others. Every risk carries the fixes derived
from its numbers (:mod:`georesil.advice.recommendations`).

Candidates are every SPOF and shared risk of the analysis, every SRLG and every named scenario
(:func:`candidates`); the analysis findings themselves get a sentence and a likelihood
(:func:`rate_findings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from georesil.advice.likelihood import Likelihood, Rates
from georesil.advice.recommendations import Recommendation, recommend_for
from georesil.advice.wording import duration as _dur
from georesil.analysis import Analysis, Finding, Impact, Status, inject, sentence
from georesil.analysis.nk import tier_weight
from georesil.model import Topology

__all__ = [
    "Candidate",
    "RatedFinding",
    "Risk",
    "candidates",
    "impact_text",
    "impact_weight",
    "rank_risks",
    "rate_findings",
]

#: Extra impact weight of a failure that leaves some service at risk of split brain.
SPLIT_BRAIN_WEIGHT = 5.0
#: How many risks the summary ranks.
TOP_RISKS = 5


@dataclass(frozen=True)
class Candidate:
    """A failure considered for the top risks, before ranking."""

    title: str
    refs: tuple[str, ...]
    kind: str  # "single point of failure", "shared risk", "scenario"
    likelihood: Likelihood


@dataclass(frozen=True)
class Risk:
    """A ranked risk: likelihood, impact and the fixes it points to, all in words and numbers."""

    rank: int
    title: str
    refs: tuple[str, ...]
    kind: str
    likelihood: Likelihood
    impact_weight: float
    impact_text: str
    score: float
    down: tuple[str, ...]
    breach: tuple[str, ...]
    fixes: tuple[Recommendation, ...]
    also: tuple[str, ...] = field(default=())


def impact_weight(topology: Topology, down: Iterable[str], breach: Iterable[str]) -> float:
    """Tier-weighted impact: 100/10/1 per down service by tier, half that for a breach."""
    return (sum(tier_weight(topology.service(s).tier) for s in down)
            + 0.5 * sum(tier_weight(topology.service(s).tier) for s in breach))


def impact_text(topology: Topology, impact: Impact, baseline: Impact) -> str:
    """The impact in words: which services go down, which breach and why, split brain, overflow."""
    parts = []
    newly = _new_effects(impact, baseline)
    if newly[0]:
        parts.append("down: " + ", ".join(f"{s} (tier {topology.service(s).tier})"
                                          for s in newly[0]))
    for sid in newly[1]:
        out, svc = impact.services[sid], topology.service(sid)
        why = []
        if (out.data_loss_s or 0) > svc.rpo_s:
            why.append(f"loses {_dur(out.data_loss_s)} of writes > RPO {_dur(svc.rpo_s)}")
        if (out.recovery_s or 0) > svc.rto_s:
            why.append(f"recovers in {_dur(out.recovery_s)} > RTO {_dur(svc.rto_s)}")
        parts.append(f"{sid} breaches its objectives ({'; '.join(why) or out.reason})")
    split = [s for s, o in impact.services.items() if o.split_brain_risk]
    if split:
        parts.append("split-brain risk for " + ", ".join(split))
    for o in impact.capacity_overflow:
        parts.append(f"{o.site} overloaded: {o.demand:g} > {o.capacity:g} {o.resource}")
    return "; ".join(parts) or "no service affected"


def _new_effects(impact: Impact, baseline: Impact) -> tuple[list[str], list[str]]:
    before = {s: o.status for s, o in baseline.services.items()}
    down = [s for s in impact.with_status(Status.DOWN) if before[s] is not Status.DOWN]
    breach = [s for s in impact.with_status(Status.BREACH)
              if before[s] not in (Status.DOWN, Status.BREACH)]
    return down, breach


def rank_risks(topology: Topology, candidates: Sequence[Candidate], rates: Rates,
               limit: int = TOP_RISKS) -> list[Risk]:
    """Score every candidate, merge those with the same impact, keep the ``limit`` largest."""
    baseline = inject(topology, [])
    scored: dict[tuple[frozenset[str], frozenset[str]], list[tuple[float, Candidate, Impact]]] = {}
    for cand in candidates:
        impact = inject(topology, cand.refs)
        down, breach = _new_effects(impact, baseline)
        split = any(o.split_brain_risk for o in impact.services.values())
        if not (down or breach or split or impact.capacity_overflow):
            continue
        weight = _weight(topology, impact, down, breach)
        score = cand.likelihood.per_year * weight
        scored.setdefault((frozenset(down), frozenset(breach)), []).append((score, cand, impact))
    groups = [sorted(g, key=lambda x: (-x[0], x[1].title)) for g in scored.values()]
    groups.sort(key=lambda g: (-g[0][0], g[0][1].title))
    risks = []
    for i, group in enumerate(groups[:limit], start=1):
        score, cand, impact = group[0]
        down, breach = _new_effects(impact, baseline)
        risks.append(Risk(
            rank=i, title=cand.title, refs=cand.refs, kind=cand.kind, likelihood=cand.likelihood,
            impact_weight=_weight(topology, impact, down, breach),
            impact_text=impact_text(topology, impact, baseline), score=score,
            down=tuple(down), breach=tuple(breach),
            fixes=tuple(recommend_for(topology, cand.refs, impact, rates)),
            also=tuple(c.title for _, c, _ in group[1:]),
        ))
    return risks


def _weight(topology: Topology, impact: Impact, down: Sequence[str],
            breach: Sequence[str]) -> float:
    """Tier-weighted impact, plus 5 when some service risks split brain."""
    split = any(o.split_brain_risk for o in impact.services.values())
    return impact_weight(topology, down, breach) + (SPLIT_BRAIN_WEIGHT if split else 0.0)


@dataclass(frozen=True)
class RatedFinding:
    """An analysis finding (a SPOF or a shared risk), explained, with how often it happens."""

    finding: Finding
    sentence: str
    likelihood: Likelihood

    @property
    def element(self) -> str:
        return self.finding.element


def rate_findings(topology: Topology, findings: Iterable[Finding],
                  rates: Rates) -> tuple[RatedFinding, ...]:
    """Each finding with the analysis' sentence and the likelihood of its effect."""
    return tuple(RatedFinding(f, sentence(topology, f), rates.of(
        f.element, critical_sites(topology, f.down, f.breach))) for f in findings)


def critical_sites(topology: Topology, down: Iterable[str], breach: Iterable[str]) -> list[str]:
    """Sites whose going dark causes the effect: a breach needs its primary dark; a service
    down needs every replica dark, so its best-protected replica (most backup power) counts."""
    sites = [topology.primary(s).site for s in breach]
    for sid in down:
        replicas = [topology.site(r.site) for r in topology.service(sid).replicas]
        sites.append(max(replicas, key=lambda site: site.backup_power_h or 0.0).id)
    return sites


def candidates(topology: Topology, analysis: Analysis, rates: Rates) -> list[Candidate]:
    """Every failure considered for the top risks: SPOFs, shared risks, SRLGs, scenarios."""
    out = []
    for kind, found in (("single point of failure", analysis.spofs),
                        ("shared risk", analysis.shared_risks)):
        for f in found:
            out.append(Candidate(f"{f.element} ({kind})", (f.element,), kind,
                                 rates.of(f.element, critical_sites(topology, f.down, f.breach))))
    for srlg in topology.srlgs:  # SRLGs are shared risks even when the analysis lists none
        out.append(Candidate(f"srlg:{srlg} (shared risk)", (f"srlg:{srlg}",), "shared risk",
                             rates.of(f"srlg:{srlg}")))
    for sid, impact in analysis.scenarios.items():
        affected = critical_sites(topology, impact.with_status(Status.DOWN),
                                  impact.with_status(Status.BREACH))
        out.append(Candidate(f"scenario {sid}", tuple(topology.scenario(sid).fail), "scenario",
                             rates.scenario(sid, affected)))
    return out
