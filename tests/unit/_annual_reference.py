"""The annual simulation as it was first written: the plain reference for the tests.

Events are built one by one as :class:`Event` objects and each is evaluated with the networkx
reference evaluator (cached by failure set), then tallied event by event. The fast path in
:mod:`georesil.risk.annual` must give identical results for the same seed. Only the last step,
turning the tally into a result, is shared with it (``_Tally``, ``_annual_result``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from georesil.analysis.impact import Status
from georesil.analysis.reference import evaluate
from georesil.errors import InvalidInput
from georesil.hazards.earthquakes import Exposure, sample_events
from georesil.hazards.elements import element_reliabilities
from georesil.hazards.zones import ZoneModel, outage_failures, zone_models
from georesil.model.schema import SeismicSpec
from georesil.model.topology import FailureSet, Topology
from georesil.risk.annual import AnnualResult, _annual_result, _Tally

__all__ = ["simulate_years_reference"]

YEARS_PER_CHUNK = 1000


@dataclass(frozen=True)
class Event:
    """One simulated event: when, what kind, what failed and for how long."""

    year: int
    label: str
    failures: FailureSet
    duration_h: float


@dataclass(frozen=True)
class _Outcome:
    """A failure set's effect on every service: (status, downtime-if-down flag, loss, recovery)."""

    down: tuple[bool, ...]
    recovery_h: tuple[float, ...]
    data_loss_s: tuple[float, ...]
    rpo_breach: tuple[bool, ...]


def _poisson_events(rng: np.random.Generator, rate: float, n_years: int) -> np.ndarray:
    """The year (0-based within the chunk) of each event of a Poisson process."""
    counts = rng.poisson(rate, n_years) if rate > 0 else np.zeros(n_years, dtype=np.int64)
    return np.repeat(np.arange(n_years), counts)


def _zone_events(zone: ZoneModel, rng: np.random.Generator, n_years: int) -> list[Event]:
    years = _poisson_events(rng, zone.rate_per_yr, n_years)
    mean = zone.mean_duration_h or 0.0
    durations = rng.exponential(mean, len(years)) if mean > 0 else np.zeros(len(years))
    out: list[Event] = []
    for y, d in zip(years.tolist(), durations.tolist(), strict=True):
        failed = outage_failures(zone, d)
        if failed:
            backups = [b for s, b in zip(zone.sites, zone.backup_h, strict=True)
                       if s in failed.sites]
            lost = d - min(backups) if backups and not failed.links else d
            out.append(Event(y, f"zone:{zone.id}", failed, lost))
    return out


def _element_events(topology: Topology, rng: np.random.Generator, n_years: int) -> list[Event]:
    out: list[Event] = []
    for ref, rel in element_reliabilities(topology).items():
        years = _poisson_events(rng, rel.rate_per_yr, n_years)
        durations = rng.exponential(rel.mttr_h, len(years)) if rel.mttr_h > 0 else \
            np.zeros(len(years))
        failed = topology.resolve(ref)
        out.extend(Event(y, ref, failed, d)
                   for y, d in zip(years.tolist(), durations.tolist(), strict=True))
    return out


def _quake_events(topology: Topology, exposure: Exposure | None, rng: np.random.Generator,
                  n_years: int) -> list[Event]:
    spec = topology.doc.seismic or SeismicSpec()
    out: list[Event] = []
    for source in spec.sources:
        years = _poisson_events(rng, source.annual_rate, n_years)
        assert exposure is not None
        events = sample_events(topology, source, len(years), rng, exposure)
        for y, ev in zip(years.tolist(), events, strict=True):
            if ev.failures:
                low = math.floor(ev.magnitude * 2) / 2
                out.append(Event(y, f"quake:{source.id} M{low:.1f}-{low + 0.5:.1f}",
                                 ev.failures, ev.repair_h))
    return out


def sample_year_events(topology: Topology, seed: int, chunk: int, n_years: int,
                       exposure: Exposure | None = None) -> list[Event]:
    """Every event of ``n_years`` years of chunk ``chunk`` (years numbered within the chunk)."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))
    events = []
    for zone in zone_models(topology):
        events.extend(_zone_events(zone, rng, n_years))
    events.extend(_element_events(topology, rng, n_years))
    events.extend(_quake_events(topology, exposure, rng, n_years))
    return events


def _make_evaluator(topology: Topology) -> Callable[[FailureSet], _Outcome]:
    cache: dict[FailureSet, _Outcome] = {}

    def outcome(failures: FailureSet) -> _Outcome:
        if failures not in cache:
            impact = evaluate(topology, failures)
            svcs = [impact.services[s] for s in topology.services]
            cache[failures] = _Outcome(
                tuple(s.status is Status.DOWN for s in svcs),
                tuple((s.recovery_s or 0.0) / 3600.0 for s in svcs),
                tuple(s.data_loss_s or 0.0 for s in svcs),
                tuple((s.data_loss_s or 0.0) > topology.services[sid].rpo_s
                      for sid, s in zip(topology.services, svcs, strict=True)),
            )
        return cache[failures]

    return outcome


def simulate_years_reference(
    topology: Topology, years: int = 10_000, seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> AnnualResult:
    """Simulate ``years`` years of hazard events and their impact on every service.

    Raises:
        InvalidInput: ``years`` < 1 or a negative seed.

    Notes:
        Cost: O(events) draws plus one reference evaluation per distinct failure set.
    """
    if years < 1:
        raise InvalidInput(f"--years: got {years}; need at least 1", field="years")
    if seed < 0:
        raise InvalidInput(f"--seed: got {seed}; need a non-negative integer", field="seed")
    services = list(topology.services)
    tier1 = [i for i, s in enumerate(services) if topology.services[s].tier == 1]
    n = len(services)
    tally = _Tally(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n), np.zeros(n))
    outcome = _make_evaluator(topology)
    exposure = Exposure.of(topology) if (topology.doc.seismic and
                                         topology.doc.seismic.sources) else None
    # Without services no event has an impact to tally: skip sampling (minutes at 750 sites).
    for chunk in range(math.ceil(years / YEARS_PER_CHUNK) if n else 0):
        n_years = min(YEARS_PER_CHUNK, years - chunk * YEARS_PER_CHUNK)
        events = sample_year_events(topology, seed, chunk, n_years, exposure)
        _tally_chunk(events, n_years, outcome, tier1, tally)
        if progress is not None:
            progress(chunk * YEARS_PER_CHUNK + n_years, years)
    return _annual_result(topology, years, seed, tally, len(tier1), exposure is None)


def _tally_chunk(events: list[Event], n_years: int, outcome: Callable[[FailureSet], _Outcome],
                 tier1: list[int], tally: _Tally) -> None:
    n = len(tally.downtime_h)
    outage = np.zeros((n_years, n), dtype=bool)
    breach = np.zeros((n_years, n), dtype=bool)
    worst = np.zeros(n_years, dtype=np.int64)
    for ev in events:
        out = outcome(ev.failures)
        tally.events += 1
        for i in range(n):
            if out.down[i]:
                tally.downtime_h[i] += ev.duration_h
                outage[ev.year, i] = True
            elif out.recovery_h[i] > 0:
                tally.downtime_h[i] += out.recovery_h[i]
                outage[ev.year, i] = True
            if out.rpo_breach[i] and not out.down[i]:
                breach[ev.year, i] = True
                tally.data_loss_s[i] += out.data_loss_s[i]
            elif not out.down[i]:
                tally.data_loss_s[i] += out.data_loss_s[i]
        k = sum(out.down[i] for i in tier1)
        worst[ev.year] = max(worst[ev.year], k)
        for level in range(1, k + 1):
            tally.exceed[level] += 1
            tally.by_label[level][ev.label] += 1
    tally.outage_years += outage.sum(axis=0)
    tally.breach_years += breach.sum(axis=0)
    for level in range(1, len(tier1) + 1):
        tally.exceed_years[level] += int((worst >= level).sum())
