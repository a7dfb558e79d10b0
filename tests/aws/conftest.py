"""Fixtures for the cloud boundary: dummy credentials, a small topology, one moto server."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from georesil.model import Topology, topology_from_dict

SITES_DOC: dict[str, Any] = {
    "version": 1,
    "name": "cloud-test",
    "sites": [
        {"id": "north", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
         "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}},
        {"id": "south", "region": "south", "location": {"lat": 23.0, "lon": 120.2},
         "endpoint": {"aws_region": "ap-northeast-1", "profile": "georesil-no-such-profile"}},
        {"id": "bare", "region": "south", "location": {"lat": 23.1, "lon": 120.3}},
    ],
    "links": [{"id": "l1", "a": "north", "b": "south"}, {"id": "l2", "a": "south", "b": "bare"}],
}


@pytest.fixture
def topology() -> Topology:
    return topology_from_dict(SITES_DOC)


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """One in-process moto server on 127.0.0.1 for this module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def fast_policy() -> Any:
    """The shared retry policy without waiting."""
    from tenacity import wait_none

    from georesil.cloud import retry_policy

    return functools.partial(retry_policy, wait=wait_none())
