"""Fixtures for provisioning tests: a small three-site topology, dummy AWS credentials, moto."""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

#: Two northern sites and one in Tainan; an object store, a database and a DNS name.
MINI: dict[str, Any] = {
    "version": 1,
    "name": "mini",
    "sites": [
        {"id": "taipei-neihu", "region": "north", "location": {"lat": 25.08, "lon": 121.57},
         "endpoint": {"aws_region": "ap-northeast-1"}},
        {"id": "taoyuan-dc", "region": "north", "location": {"lat": 25.0, "lon": 121.3},
         "endpoint": {"aws_region": "ap-northeast-1"}},
        {"id": "tainan-ngcc", "region": "south", "location": {"lat": 22.99, "lon": 120.22},
         "endpoint": {"aws_region": "ap-southeast-1"}},
    ],
    "services": [
        {"id": "objects", "kind": "object-storage", "rto_s": 60, "rpo_s": 900,
         "dns_name": "objects.georesil.example",
         "replicas": [{"site": "taipei-neihu", "role": "primary",
                       "hostname": "objects.taipei.georesil.example"},
                      {"site": "tainan-ngcc", "role": "secondary", "replication": "async",
                       "lag_s": 30, "hostname": "objects.tainan.georesil.example"},
                      {"site": "taoyuan-dc", "role": "secondary", "replication": "async",
                       "lag_s": 30, "hostname": "objects.taoyuan.georesil.example"}]},
        {"id": "catalog", "kind": "database", "rto_s": 60, "rpo_s": 60,
         "replicas": [{"site": "taoyuan-dc", "role": "primary"},
                      {"site": "tainan-ngcc", "role": "secondary", "replication": "async",
                       "lag_s": 5}]},
    ],
}


def mini_dict() -> dict[str, Any]:
    """A fresh, mutable copy of the mini topology."""
    return copy.deepcopy(MINI)


@pytest.fixture
def mini():  # type: ignore[no-untyped-def]
    from georesil.model import topology_from_dict

    return topology_from_dict(mini_dict())


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials, no profile: boto3 can never sign for a real account."""
    for key, value in DUMMY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    """Warnings only while a test runs; the previous configuration comes back afterwards."""
    import structlog

    before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.configure(**before)


@pytest.fixture(scope="module")
def module_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in DUMMY_ENV.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="module")
def in_process_moto(module_env: None) -> Iterator[None]:
    """In-process moto for the whole module (one provision, many checks)."""
    from moto import mock_aws

    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"
    with mock_aws():
        yield
