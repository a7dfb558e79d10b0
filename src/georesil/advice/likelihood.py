"""How often a failure happens: annual rates of elements, zones, SRLGs and scenarios.

The advice ranks risks by *likelihood × impact*; this module supplies the likelihood, from the
same hazard inputs the Monte Carlo engine samples (:mod:`georesil.hazards`):

* a site or link fails ``rate_per_yr`` times a year (alternating renewal, see docs/hazards.md);
* a zone is in an outage ``annual_rate`` times a year; for a **power** zone a site goes dark
  only when the outage outlasts its ``backup_power_h``, which happens with probability
  ``exp(-backup / mean_duration)`` (exponential durations), so the effective rate is
  ``rate · exp(-backup / mean)`` at the site that matters;
* an SRLG is one physical conduit: a cut of it is taken as often as its most exposed member
  is cut (the largest member rate) — an estimate, said so in the text;
* a scenario that names one element happens at that element's rate; a scenario carrying a quake
  is one event, at the rate of its rarest zone; any other multi-element scenario is a
  coincidence of independent failures, ``Σ_i λ_i · Π_{j≠i} U_j`` (rare-event approximation,
  U the probability of being down at a random instant).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from georesil.advice.wording import rate_text, share
from georesil.hazards import element_reliabilities
from georesil.hazards.elements import HOURS_PER_YEAR
from georesil.model import Topology
from georesil.model.schema import ZoneKind

__all__ = ["Likelihood", "Rates", "element_rates"]


@dataclass(frozen=True)
class Likelihood:
    """An annual rate and the words that say where it comes from."""

    per_year: float
    basis: str

    @property
    def return_period_years(self) -> float:
        return math.inf if self.per_year <= 0 else 1.0 / self.per_year

    @property
    def text(self) -> str:
        """``0.066/yr (once in 15 years): its own failures (…)`` — the rate and its basis."""
        return f"{rate_text(self.per_year)}: {self.basis}"


@dataclass(frozen=True)
class Rates:
    """Annual rates and unavailabilities of every failure reference of a topology."""

    topology: Topology
    rate: Mapping[str, float]
    unavailability: Mapping[str, float]
    repair_h: Mapping[str, float]

    def of(self, ref: str, affected_sites: Iterable[str] = ()) -> Likelihood:
        """The likelihood of one reference (``site:``, ``link:``, ``zone:``, ``srlg:``)."""
        kind, _, ident = ref.partition(":")
        if kind == "zone":
            return self._zone(ident, tuple(affected_sites))
        if kind == "srlg":
            members = self.topology.srlgs[ident]
            rate = max((self.rate.get(f"link:{m}", 0.0) for m in members), default=0.0)
            return Likelihood(rate, f"one cut of the shared conduit {ident} (taken as its most "
                              f"exposed member's cut rate, {len(members)} links) [est.]")
        rate = self.rate.get(ref, 0.0)
        unav = self.unavailability.get(ref, 0.0)
        return Likelihood(rate, f"its own failures (down {unav:.2g} of the time, "
                          f"{self.repair_h.get(ref, 0.0):g} h mean repair)")

    def _zone(self, ident: str, affected_sites: tuple[str, ...]) -> Likelihood:
        zone = self.topology.zone(ident)
        rate = float(zone.annual_rate or 0.0)
        mean = zone.mean_duration_h
        if zone.kind is not ZoneKind.POWER or not mean:
            return Likelihood(rate, f"{ident} ({zone.kind.value}) has about {rate_text(rate)} "
                              "damaging events")
        members = self.topology.zone_members(ident).sites
        # The first affected site to go dark sets the rate of the (first) impact.
        sites = [s for s in affected_sites if s in members] or sorted(members)
        backups = {s: float(self.topology.site(s).backup_power_h or 0.0) for s in sites}
        site = min(backups, key=lambda s: backups[s])
        p_outlast = math.exp(-backups[site] / mean)
        return Likelihood(rate * p_outlast,
                          f"{ident} outages ({rate:.2g}/yr, mean {mean:g} h) outlast the "
                          f"{backups[site]:g} h of backup power at {site} "
                          f"{share(p_outlast)} of the time")

    def scenario(self, scenario_id: str, affected_sites: Iterable[str] = ()) -> Likelihood:
        """The likelihood of a scenario of the topology (see the module notes)."""
        spec = self.topology.scenario(scenario_id)
        refs = list(spec.fail)
        if len(refs) == 1:
            return self.of(refs[0], affected_sites)
        if spec.quake is not None:
            zones = [r for r in refs if r.startswith("zone:")] or refs
            rates = {r: self.of(r, affected_sites).per_year for r in zones}
            rarest = min(rates, key=lambda r: rates[r])
            return Likelihood(rates[rarest], f"one M{spec.quake.magnitude:g} quake: the rate of "
                              f"{rarest} ({rate_text(rates[rarest])})")
        lam = [self.of(r, affected_sites).per_year for r in refs]
        unav = [self._unavailability(r) for r in refs]
        rate = sum(lam[i] * math.prod(unav[j] for j in range(len(refs)) if j != i)
                   for i in range(len(refs)))
        return Likelihood(rate, f"a coincidence of {len(refs)} independent failures "
                          "(each starting while the others are still down)")

    def _unavailability(self, ref: str) -> float:
        kind, _, ident = ref.partition(":")
        if kind == "zone":
            zone = self.topology.zone(ident)
            lam, mean = float(zone.annual_rate or 0.0), float(zone.mean_duration_h or 0.0)
            return lam * mean / (HOURS_PER_YEAR + lam * mean)
        if kind == "srlg":
            links = [f"link:{m}" for m in self.topology.srlgs[ident]]
            return max((self.unavailability.get(k, 0.0) for k in links), default=0.0)
        return self.unavailability.get(ref, 0.0)


def element_rates(topology: Topology) -> Rates:
    """Annual failure rates and unavailabilities of every site and link."""
    rel = element_reliabilities(topology)
    return Rates(topology, {r: e.rate_per_yr for r, e in rel.items()},
                 {r: e.unavailability for r, e in rel.items()},
                 {r: e.mttr_h for r, e in rel.items()})
