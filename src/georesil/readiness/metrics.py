"""Readiness as Prometheus metrics, and the loop behind ``georesil serve``.

:class:`ReadinessCollector` turns the latest :class:`Snapshot` into metric families each time
``/metrics`` is scraped (prometheus_client's custom-collector pattern: no gauges to keep in
step, and a service or check that disappears from the model disappears from the output).
docs/readiness.md lists every metric; docs/prometheus-rules.yml alerts on them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from georesil.readiness.drill_age import LastDrill
from georesil.readiness.results import CheckStatus, ReadinessReport

if TYPE_CHECKING:
    from georesil.drills.runbook import Mode
    from georesil.model import Topology

__all__ = ["METRIC_NAMES", "ReadinessCollector", "Snapshot", "serve_forever"]

log = structlog.get_logger(__name__)

#: Every metric name exported, for docs, the alert rules and the dashboard test.
METRIC_NAMES: tuple[str, ...] = (
    "georesil_readiness_status",
    "georesil_readiness_checks",
    "georesil_readiness_ok",
    "georesil_readiness_last_run_timestamp_seconds",
    "georesil_readiness_run_duration_seconds",
    "georesil_drift_items",
    "georesil_replication_lag_seconds",
    "georesil_rpo_target_seconds",
    "georesil_rto_target_seconds",
    "georesil_last_drill_age_seconds",
    "georesil_last_drill_rto_seconds",
    "georesil_last_drill_rpo_seconds",
    "georesil_predicted_availability",
)


@dataclass(frozen=True)
class Snapshot:
    """What one readiness run leaves for the exporter."""

    topology: Topology
    report: ReadinessReport
    last_drills: dict[tuple[str, Mode], LastDrill]
    predicted_availability: dict[str, float]


class ReadinessCollector(Collector):
    """Exposes the latest :class:`Snapshot`; ``update`` swaps it in atomically."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def update(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            snap = self._snapshot
        if snap is None:
            return
        yield from _check_metrics(snap.report)
        yield from _service_metrics(snap)
        yield from _drill_metrics(snap)


def _check_metrics(report: ReadinessReport) -> Iterator[Metric]:
    status = GaugeMetricFamily(
        "georesil_readiness_status",
        "Readiness check verdict: 0 ok, 1 warn, 2 fail, 3 unreachable, 4 skipped",
        labels=["check", "service", "site"])
    for r in report.results:
        status.add_metric([r.check, r.service or "", r.site or ""], r.status.gauge)
    yield status
    counts = GaugeMetricFamily("georesil_readiness_checks", "Readiness results by status",
                               labels=["status"])
    for name, n in report.counts().items():
        counts.add_metric([name], n)
    yield counts
    yield GaugeMetricFamily("georesil_readiness_ok",
                            "1 when the last readiness run found no failure",
                            value=1 if report.exit_code == 0 else 0)
    yield GaugeMetricFamily("georesil_readiness_last_run_timestamp_seconds",
                            "When the last readiness run started (Unix time)",
                            value=report.started_at)
    yield GaugeMetricFamily("georesil_readiness_run_duration_seconds",
                            "How long the last readiness run took", value=report.duration_s)
    drift = GaugeMetricFamily("georesil_drift_items", "Drift found by the last run",
                              labels=["kind"])
    for kind in ("unmanaged", "missing"):
        drift.add_metric([kind], sum(1 for d in report.drift if d.kind == kind))
    yield drift
    lag = GaugeMetricFamily("georesil_replication_lag_seconds",
                            "Age of the oldest write not yet at the secondary (0 in sync)",
                            labels=["service", "site"])
    for r in report.results:
        if r.check == "storage.lag" and r.value is not None and r.status is not CheckStatus.SKIPPED:
            lag.add_metric([r.service or "", r.site or ""], r.value)
    yield lag


def _service_metrics(snap: Snapshot) -> Iterator[Metric]:
    rpo = GaugeMetricFamily("georesil_rpo_target_seconds", "The service's RPO target",
                            labels=["service"])
    rto = GaugeMetricFamily("georesil_rto_target_seconds", "The service's RTO target",
                            labels=["service"])
    for sid, spec in snap.topology.services.items():
        rpo.add_metric([sid], float(spec.rpo_s))
        rto.add_metric([sid], float(spec.rto_s))
    yield rpo
    yield rto
    avail = GaugeMetricFamily("georesil_predicted_availability",
                              "Snapshot availability predicted by the risk engine",
                              labels=["service"])
    for sid, value in snap.predicted_availability.items():
        avail.add_metric([sid], value)
    yield avail


def _drill_metrics(snap: Snapshot) -> Iterator[Metric]:
    families = {
        "age": GaugeMetricFamily("georesil_last_drill_age_seconds",
                                 "Seconds since the last completed drill", labels=["service",
                                                                                   "mode"]),
        "rto": GaugeMetricFamily("georesil_last_drill_rto_seconds",
                                 "RTO measured by the last completed drill",
                                 labels=["service", "mode"]),
        "rpo": GaugeMetricFamily("georesil_last_drill_rpo_seconds",
                                 "RPO measured by the last completed drill",
                                 labels=["service", "mode"]),
    }
    for (service, mode), drill in sorted(snap.last_drills.items()):
        labels = [service, mode.value]
        families["age"].add_metric(labels, snap.report.started_at - drill.started_at)
        if drill.rto_s is not None:
            families["rto"].add_metric(labels, drill.rto_s)
        if drill.rpo_s is not None:
            families["rpo"].add_metric(labels, drill.rpo_s)
    yield from families.values()


def serve_forever(collect: Callable[[], Snapshot], collector: ReadinessCollector,
                  interval_s: float, stop: threading.Event) -> int:
    """Run ``collect`` every ``interval_s`` seconds until ``stop`` is set; returns the runs.

    A run that raises is logged and retried at the next interval: an exporter keeps serving
    the last good snapshot (and its timestamp shows how old it is).
    """
    runs = 0
    while not stop.is_set():
        try:
            collector.update(collect())
            runs += 1
        except Exception as exc:  # noqa: BLE001 - keep serving; the log says what failed
            log.warning("readiness.run_failed", error=str(exc), error_type=type(exc).__name__)
        stop.wait(interval_s)
    return runs


def registry_for(collector: ReadinessCollector) -> CollectorRegistry:
    """A registry holding only georesil's metrics (no process/platform collectors)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
