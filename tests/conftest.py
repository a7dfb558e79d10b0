"""Shared fixtures: small topologies built in Python."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "version": 1,
    "name": "two-sides",
    "zones": [
        {"id": "grid-n", "kind": "power", "annual_rate": 0.2, "mean_duration_h": 5},
        {"id": "quake-s", "kind": "seismic"},
    ],
    "sites": [
        {"id": "north", "region": "north", "location": {"lat": 25.08, "lon": 121.55},
         "zones": ["grid-n"], "capacity": {"power_mw": 5, "gpus": 100}, "backup_power_h": 24},
        {"id": "mid", "region": "central", "location": {"lat": 24.15, "lon": 120.67}},
        {"id": "south", "region": "south", "location": {"lat": 23.10, "lon": 120.28},
         "zones": ["quake-s"], "capacity": {"power_mw": 15, "gpus": 1904}},
    ],
    "links": [
        {"id": "w1", "a": "north", "b": "mid", "srlg": ["west"], "length_km": 150},
        {"id": "w2", "a": "north", "b": "mid", "srlg": ["west"], "zones": ["quake-s"]},
        {"id": "s1", "a": "mid", "b": "south"},
        {"id": "east", "a": "north", "b": "south", "kind": "submarine"},
    ],
    "services": [
        {"id": "dns", "kind": "dns", "tier": 1, "rto_s": 60, "rpo_s": 0,
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "sync"}]},
        {"id": "store", "kind": "object-storage", "tier": 1, "rto_s": 900, "rpo_s": 300,
         "failover_s": 600, "depends_on": ["dns"], "clients": ["north", "mid"],
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "async",
                       "lag_s": 60}]},
    ],
    "scenarios": [{"id": "cut", "fail": ["srlg:west"]}],
}


@pytest.fixture(autouse=True)
def _dummy_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs with fake AWS credentials and no profile: nothing can reach real AWS."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def base_doc() -> dict[str, Any]:
    """A fresh copy of a small valid topology document."""
    return copy.deepcopy(BASE)
