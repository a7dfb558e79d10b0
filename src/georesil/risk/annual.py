"""Annual event risk (``simulate --years``): simulated years of outages, cuts and earthquakes.

Each simulated year draws, independently:

* **zone outages** — Poisson(``annual_rate``) events with exponential durations (mean
  ``mean_duration_h``); in a power zone a site fails when the outage outlasts its backup and
  stays down for the rest of it; other members fail for the whole outage;
* **element failures** — Poisson(λ) events per site and link with exponential repair times
  (:mod:`georesil.hazards.elements`);
* **earthquakes** — Poisson(``annual_rate``) events per seismic source, each with a
  Gutenberg–Richter magnitude, an epicentre, scattered ground motion and fragility draws
  (:mod:`georesil.hazards.earthquakes`); broken elements stay down for their repair time.

Each event is evaluated alone with the analysis semantics — overlapping events are not
combined, a good approximation while events are rare compared with their durations. Per
service and event: *down* costs the event's duration (the longest downtime of its failed
elements); *failover* and *breach* cost the recovery time; data loss is the serving replica's
data loss. An **outage** is an event that takes the service down or makes it recover
(recovery > 0); an **RPO breach** is data loss above ``rpo_s``.

Years are simulated in chunks of :data:`YEARS_PER_CHUNK`, chunk c drawing from
``SeedSequence(seed, spawn_key=(c,))``, so results depend only on the seed.

How it is fast: events are never objects. A chunk's draws become arrays (failure-set row,
year, duration, label) per source of events; every distinct failure set is evaluated once, by
the compiled kernel (:mod:`georesil.risk._annual_outcomes`: every single site and link up
front, a zone's or quake's new failure sets in one pass per chunk); events whose failure set
touches no service are only counted, and the rest are tallied with array operations. The
draws, their order and the order of every floating-point sum are those of the plain
event-by-event simulation (``tests/unit/_annual_reference.py``), so the results are identical.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from georesil.errors import InvalidInput
from georesil.hazards.earthquakes import Exposure, sample_events
from georesil.hazards.elements import element_reliabilities
from georesil.hazards.zones import ZoneModel, outage_failures, zone_models
from georesil.model.schema import SeismicSpec
from georesil.model.topology import Topology
from georesil.risk._annual_outcomes import OutcomeTable
from georesil.risk.stats import wilson

__all__ = ["YEARS_PER_CHUNK", "AnnualResult", "simulate_years"]

YEARS_PER_CHUNK = 1000

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass
class _Tally:
    outage_years: Ints
    breach_years: Ints
    downtime_h: Floats
    data_loss_s: Floats
    events: int = 0
    exceed: Counter[int] = field(default_factory=Counter)
    exceed_years: Counter[int] = field(default_factory=Counter)
    by_label: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


@dataclass(frozen=True)
class AnnualResult:
    """Annual risk per service and the loss-exceedance table."""

    years: int
    seed: int
    services: dict[str, dict[str, Any]]
    loss_exceedance: list[dict[str, Any]]
    events_per_year: float
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"mode": "annual", "years": self.years, "seed": self.seed,
                "events_per_year": self.events_per_year, "services": self.services,
                "loss_exceedance": self.loss_exceedance, "notes": list(self.notes)}


@dataclass(frozen=True)
class _Events:
    """Events of a chunk, in draw order: failure-set row, year in the chunk, hours, label."""

    row: Ints
    year: Ints
    duration_h: Floats
    label: Ints

    @classmethod
    def of(cls, row: Any, year: Any, duration_h: Any, label: Any) -> _Events:
        return cls(np.asarray(row, dtype=np.int64), np.asarray(year, dtype=np.int64),
                   np.asarray(duration_h, dtype=np.float64), np.asarray(label, dtype=np.int64))

    @classmethod
    def join(cls, parts: list[_Events]) -> _Events:
        if not parts:
            return cls.of([], [], [], [])
        return cls(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("row", "year", "duration_h", "label")))

    def where(self, keep: npt.NDArray[np.bool_]) -> _Events:
        return _Events(self.row[keep], self.year[keep], self.duration_h[keep], self.label[keep])


class _Labels:
    """Event labels (``zone:ID``, ``site:ID``, ``quake:SOURCE M6.5-7.0``) numbered as met."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._ids: dict[str, int] = {}

    def id(self, name: str) -> int:
        found = self._ids.get(name)
        if found is None:
            found = self._ids[name] = len(self.names)
            self.names.append(name)
        return found


@dataclass(frozen=True)
class _Element:
    """A site or link that fails by itself: its rate, repair time, outcome row and label."""

    rate_per_yr: float
    mttr_h: float
    row: int
    label: int
    touches: bool


@dataclass
class _Sources:
    """Everything a chunk draws from, built once per run."""

    topology: Topology
    table: OutcomeTable
    labels: _Labels
    zones: tuple[ZoneModel, ...]
    elements: tuple[_Element, ...]
    exposure: Exposure | None

    @classmethod
    def of(cls, topology: Topology) -> _Sources:
        table, labels = OutcomeTable(topology), _Labels()
        elements = [(rel, table.row(topology.resolve(ref)), labels.id(ref))
                    for ref, rel in element_reliabilities(topology).items()]
        table.evaluate()  # every single site and link, in one kernel pass
        exposure = Exposure.of(topology) if (topology.doc.seismic and
                                             topology.doc.seismic.sources) else None
        return cls(topology, table, labels, zone_models(topology), tuple(
            _Element(rel.rate_per_yr, rel.mttr_h, row, label, bool(table.touches[row]))
            for rel, row, label in elements if rel.rate_per_yr > 0), exposure)


def _poisson_events(rng: np.random.Generator, rate: float, n_years: int) -> Ints:
    """The year (0-based within the chunk) of each event of a Poisson process."""
    counts = rng.poisson(rate, n_years) if rate > 0 else np.zeros(n_years, dtype=np.int64)
    return np.repeat(np.arange(n_years), counts)


def _zone_events(src: _Sources, zone: ZoneModel, rng: np.random.Generator,
                 n_years: int) -> tuple[_Events, int]:
    years = _poisson_events(rng, zone.rate_per_yr, n_years)
    mean = zone.mean_duration_h or 0.0
    durations = rng.exponential(mean, len(years)) if mean > 0 else np.zeros(len(years))
    rows, kept, lost = [], [], []
    for y, d in zip(years.tolist(), durations.tolist(), strict=True):
        failed = outage_failures(zone, d)
        if failed:
            backups = [b for s, b in zip(zone.sites, zone.backup_h, strict=True)
                       if s in failed.sites]
            rows.append(src.table.row(failed))
            kept.append(y)
            lost.append(d - min(backups) if backups and not failed.links else d)
    label = src.labels.id(f"zone:{zone.id}")
    return _Events.of(rows, kept, lost, [label] * len(rows)), len(rows)


def _element_events(src: _Sources, rng: np.random.Generator, n_years: int
                    ) -> tuple[_Events, int]:
    """Every element failure of the chunk; only those that touch a service are kept.

    The draws are those of one Poisson count per year and one repair time per event, element
    by element (sites then links in file order): the repair times of the elements that touch
    no service must be drawn too, so that the stream stays the same.
    """
    all_years = np.arange(n_years)
    parts, total = [], 0
    for e in src.elements:
        counts = rng.poisson(e.rate_per_yr, n_years)
        n = int(counts.sum())
        total += n
        if n == 0:
            continue
        durations = rng.exponential(e.mttr_h, n) if e.mttr_h > 0 else np.zeros(n)
        if e.touches:
            parts.append(_Events(np.full(n, e.row), np.repeat(all_years, counts), durations,
                                 np.full(n, e.label)))
    return _Events.join(parts), total


def _quake_events(src: _Sources, rng: np.random.Generator, n_years: int
                  ) -> tuple[_Events, int]:
    spec = src.topology.doc.seismic or SeismicSpec()
    rows, kept, repair, labels = [], [], [], []
    for source in spec.sources:
        years = _poisson_events(rng, source.annual_rate, n_years)
        assert src.exposure is not None
        events = sample_events(src.topology, source, len(years), rng, src.exposure)
        for y, ev in zip(years.tolist(), events, strict=True):
            if ev.failures:
                low = math.floor(ev.magnitude * 2) / 2
                rows.append(src.table.row(ev.failures))
                kept.append(y)
                repair.append(ev.repair_h)
                labels.append(src.labels.id(f"quake:{source.id} M{low:.1f}-{low + 0.5:.1f}"))
    return _Events.of(rows, kept, repair, labels), len(rows)


def _chunk_events(src: _Sources, seed: int, chunk: int, n_years: int) -> tuple[_Events, int]:
    """The events of chunk ``chunk`` that touch some service, in draw order, and how many
    events the chunk had in all."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))
    drawn = [_zone_events(src, zone, rng, n_years) for zone in src.zones]
    drawn.append(_element_events(src, rng, n_years))
    drawn.append(_quake_events(src, rng, n_years))
    src.table.evaluate()  # the zones' and quakes' new failure sets
    events = _Events.join([part for part, _ in drawn])
    return events.where(src.table.touches[events.row]), sum(n for _, n in drawn)


def simulate_years(
    topology: Topology, years: int = 10_000, seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> AnnualResult:
    """Simulate ``years`` years of hazard events and their impact on every service.

    Raises:
        InvalidInput: ``years`` < 1 or a negative seed.

    Notes:
        Cost: O(years × (sources + elements)) Poisson draws and O(events) repair-time draws;
        one kernel evaluation per distinct failure set (64 to a word: every single site and
        link once, then each chunk's new zone and quake failure sets); O(touching events ×
        services) to tally the events whose failure set affects some service. Events that
        affect no service (most element failures on a large network) cost only their draws.
    """
    if years < 1:
        raise InvalidInput(f"--years: got {years}; need at least 1", field="years")
    if seed < 0:
        raise InvalidInput(f"--seed: got {seed}; need a non-negative integer", field="seed")
    n = len(topology.services)
    tier1 = sum(s.tier == 1 for s in topology.services.values())
    tally = _Tally(np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n), np.zeros(n))
    no_quakes = not (topology.doc.seismic and topology.doc.seismic.sources)
    # Without services no event has an impact to tally: skip sampling (minutes at 750 sites).
    if n:
        src = _Sources.of(topology)
        for chunk in range(math.ceil(years / YEARS_PER_CHUNK)):
            n_years = min(YEARS_PER_CHUNK, years - chunk * YEARS_PER_CHUNK)
            events, total = _chunk_events(src, seed, chunk, n_years)
            tally.events += total
            _tally_chunk(events, n_years, src.table, src.labels.names, tier1, tally)
            if progress is not None:
                progress(chunk * YEARS_PER_CHUNK + n_years, years)
    return _annual_result(topology, years, seed, tally, tier1, no_quakes)


def _in_order_sum(start: Floats, terms: Floats) -> Floats:
    """``start`` plus the rows of ``terms`` added one after another (not pairwise): the same
    rounding as adding event by event."""
    total: Floats = np.cumsum(np.vstack([start[None, :], terms]), axis=0)[-1]
    return total


def _years_with(year: Ints, hit: npt.NDArray[np.bool_], n_years: int) -> Ints:
    """Per column, how many distinct years have an event with ``hit`` set."""
    seen = np.zeros((n_years, hit.shape[1]), dtype=np.bool_)
    events, columns = np.nonzero(hit)
    seen[year[events], columns] = True
    counts: Ints = seen.sum(axis=0)
    return counts


def _count_labels(counter: Counter[str], labels: Ints, names: list[str]) -> None:
    """Add each label's count, new labels in order of first occurrence (as event by event:
    ``most_common`` breaks ties by first insertion)."""
    ids, first, counts = np.unique(labels, return_index=True, return_counts=True)
    for k in np.argsort(first, kind="stable").tolist():
        counter[names[int(ids[k])]] += int(counts[k])


def _tally_chunk(ev: _Events, n_years: int, table: OutcomeTable, names: list[str],
                 n_tier1: int, tally: _Tally) -> None:
    """Add a chunk's events (those touching some service) to the tally."""
    down, recovery = table.down[ev.row], table.recovery_h[ev.row]
    recovers = ~down & (recovery > 0)
    cost = np.where(down, ev.duration_h[:, None], np.where(recovers, recovery, 0.0))
    tally.downtime_h = _in_order_sum(tally.downtime_h, cost)
    tally.data_loss_s = _in_order_sum(tally.data_loss_s,
                                      np.where(down, 0.0, table.data_loss_s[ev.row]))
    tally.outage_years += _years_with(ev.year, down | recovers, n_years)
    tally.breach_years += _years_with(ev.year, table.rpo_breach[ev.row] & ~down, n_years)
    k = table.tier1_down[ev.row]
    worst = np.zeros(n_years, dtype=np.int64)
    np.maximum.at(worst, ev.year, k)
    for level in range(1, n_tier1 + 1):
        at = k >= level
        tally.exceed[level] += int(at.sum())
        tally.exceed_years[level] += int((worst >= level).sum())
        _count_labels(tally.by_label[level], ev.label[at], names)


def _annual_result(topology: Topology, years: int, seed: int, tally: _Tally, n_tier1: int,
                   no_quakes: bool) -> AnnualResult:
    services = {}
    for i, sid in enumerate(topology.services):
        k = int(tally.outage_years[i])
        services[sid] = {
            "tier": topology.services[sid].tier,
            "p_outage_per_year": k / years,
            "p_outage_per_year_ci95": list(wilson(k, years)),
            "p_rpo_breach_per_year": int(tally.breach_years[i]) / years,
            "expected_downtime_h_per_year": float(tally.downtime_h[i]) / years,
            "expected_data_loss_s_per_year": float(tally.data_loss_s[i]) / years,
        }
    table = []
    for level in range(1, n_tier1 + 1):
        count = tally.exceed[level]
        rate = count / years
        top = tally.by_label[level].most_common(3)
        table.append({
            "tier1_down_at_least": level,
            "annual_rate": rate,
            "return_period_years": (1 / rate) if rate > 0 else None,
            "p_per_year": tally.exceed_years[level] / years,
            "events": count,
            "dominated_by": [{"event": lbl, "share": c / count} for lbl, c in top],
        })
    notes = []
    if no_quakes:
        notes.append("no seismic sources in the topology: earthquakes not simulated")
    for zone in zone_models(topology):
        if zone.unavailability > 0 and zone.rate_per_yr == 0:
            notes.append(f"zone {zone.id} has no annual_rate: not simulated in --years mode")
    return AnnualResult(years, seed, services, table, tally.events / years, tuple(notes))
