"""The Prometheus exposition of readiness, and `georesil serve` against a lab with faults."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from georesil.drills.runbook import Mode
from georesil.lab import LabState, kill_site, revive_site
from georesil.readiness import CheckResult, CheckStatus, DriftItem, ReadinessReport
from georesil.readiness.drill_age import LastDrill
from georesil.readiness.metrics import (
    METRIC_NAMES,
    ReadinessCollector,
    Snapshot,
    registry_for,
)
from tests.readiness.conftest import ready_topology

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_exposition_of_a_snapshot() -> None:
    topo = ready_topology()
    results = (
        CheckResult("storage.lag", CheckStatus.FAIL, "store", "south", "late", "sync", 75.5),
        CheckResult("storage.bucket", CheckStatus.OK, "store", "north", "exists"),
        CheckResult("control.locks", CheckStatus.SKIPPED, None, "north", "no control"),
    )
    drift = (DriftItem("unmanaged", "bucket", "x", "south", "extra"),)
    report = ReadinessReport("ready-test", 1000.0, 0.5, results, drift)
    drill = LastDrill("store", Mode.PLANNED, "r1", "rb", 400.0, 12.5, 0.0, 600.0, 60.0)
    collector = ReadinessCollector()
    assert generate_latest(registry_for(collector)) == b""  # nothing before the first run
    collector.update(Snapshot(topo, report, {("store", Mode.PLANNED): drill}, {"store": 0.999}))
    samples = _samples(generate_latest(registry_for(collector)).decode())
    assert {name for name, _ in samples} <= set(METRIC_NAMES)
    assert _value(samples, "georesil_readiness_status", check="storage.lag", service="store",
                  site="south") == CheckStatus.FAIL.gauge == 2
    assert _value(samples, "georesil_readiness_status", check="control.locks", service="",
                  site="north") == 4
    assert _value(samples, "georesil_replication_lag_seconds", service="store",
                  site="south") == pytest.approx(75.5)
    assert _value(samples, "georesil_readiness_ok") == 0
    assert _value(samples, "georesil_readiness_checks", status="fail") == 1
    assert _value(samples, "georesil_drift_items", kind="unmanaged") == 1
    assert _value(samples, "georesil_rpo_target_seconds", service="store") == 60
    assert _value(samples, "georesil_last_drill_age_seconds", service="store",
                  mode="planned") == pytest.approx(600.0)
    assert _value(samples, "georesil_last_drill_rto_seconds", service="store",
                  mode="planned") == pytest.approx(12.5)
    assert _value(samples, "georesil_predicted_availability",
                  service="store") == pytest.approx(0.999)


@pytest.mark.lab
@pytest.mark.slow
def test_serve_follows_faults_and_stops_on_sigterm(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "georesil", "--log-level", "error", "serve", "--metrics-port",
         "0", "--interval", "0.5s", "--trials", "2000"],
        cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)/metrics", line)
        assert port, line
        url = f"http://127.0.0.1:{port.group(1)}/metrics"
        health = {"check": "dns.health", "service": "store", "site": "south"}
        _wait(url, lambda s: _value(s, "georesil_readiness_ok") == 1)
        kill_site("south", workdir)
        try:
            s = _wait(url, lambda s: _value(s, "georesil_readiness_status", **health) == 2)
            assert _value(s, "georesil_readiness_ok") == 0
        finally:
            revive_site("south", workdir)
        _wait(url, lambda s: _value(s, "georesil_readiness_status", **health) == 0)
        subprocess.run([sys.executable, "-m", "georesil", "lab", "fault", "south", "--deny",
                        "1"], cwd=workdir, env=env, check=True, capture_output=True)
        try:
            _wait(url, lambda s: _value(s, "georesil_readiness_status", check="storage.bucket",
                                        service="store", site="south") == 2)
        finally:
            subprocess.run([sys.executable, "-m", "georesil", "lab", "fault", "south",
                            "--clear"], cwd=workdir, env=env, check=True, capture_output=True)
        _wait(url, lambda s: _value(s, "georesil_readiness_ok") == 1)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "readiness exporter stopped" in err and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _wait(url: str, ready: Callable[[Samples], bool], deadline_s: float = 90.0) -> Samples:
    """Scrape until ``ready`` holds (bounded: fails after ``deadline_s``)."""
    end = time.monotonic() + deadline_s
    samples: Samples = {}
    while time.monotonic() < end:
        with urllib.request.urlopen(url, timeout=5) as resp:
            samples = _samples(resp.read().decode())
        if ready(samples):
            return samples
        time.sleep(0.2)
    raise AssertionError(f"metrics never reached the expected state; last: {samples}")
