"""Per-site clients: endpoints, caching, configuration, and mapped, retried calls."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from structlog.testing import capture_logs

from georesil.cloud import Credentials, SiteClients
from georesil.errors import InvalidInput, NotFound, Unavailable
from georesil.model import Topology


def test_override_url_replaces_the_endpoint_and_keeps_the_signing_region(
        topology: Topology) -> None:
    """An override URL is used as the endpoint; the region is the topology's."""
    client = SiteClients(topology, {"north": "http://127.0.0.1:4566"}).client("north", "s3")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.region_name == "ap-east-2"


def test_aws_region_endpoint_uses_the_regional_aws_endpoint(topology: Topology) -> None:
    """A site given as an AWS region talks to that region (no custom URL)."""
    clients = SiteClients(topology, credentials=Credentials("AKIDEXAMPLE", "x"))
    client = clients.client("south", "s3")
    assert client.meta.region_name == "ap-northeast-1"
    assert "amazonaws.com" in client.meta.endpoint_url


def test_clients_are_cached_per_site_and_service(topology: Topology) -> None:
    """The same (site, service) gives the same client; another service gives another."""
    clients = SiteClients(topology)
    assert clients.client("north", "s3") is clients.client("north", "s3")
    assert clients.client("north", "s3") is not clients.client("north", "dynamodb")


def test_concurrent_first_use_builds_one_client(topology: Topology) -> None:
    """Threads asking at once for a new client all get the same one."""
    clients = SiteClients(topology)
    got: list[Any] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait()
        got.append(clients.client("north", "sts"))

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in got}) == 1


def test_botocore_retries_are_off_and_timeouts_explicit(topology: Topology) -> None:
    """botocore makes one attempt (tenacity owns retries) with the configured timeouts."""
    clients = SiteClients(topology, connect_timeout_s=2, read_timeout_s=7)
    config = clients.client("north", "s3").meta.config
    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (2, 7)


def test_site_without_endpoint_is_invalid_input(topology: Topology) -> None:
    """A site with no endpoint and no override is bad input that says what to add."""
    with pytest.raises(InvalidInput, match="site 'bare' has no 'endpoint'.*lab up"):
        SiteClients(topology).client("bare", "s3")


def test_unknown_override_site_is_invalid_input(topology: Topology) -> None:
    """Overrides naming a site the topology lacks are rejected, listing the known sites."""
    with pytest.raises(InvalidInput, match=r"unknown sites \['nowhere'\]"):
        SiteClients(topology, {"nowhere": "http://127.0.0.1:1"})


def test_missing_profile_is_invalid_input(topology: Topology) -> None:
    """A named profile that is not configured is reported with the site and profile."""
    with pytest.raises(InvalidInput, match="profile 'georesil-no-such-profile'"):
        SiteClients(topology).client("south", "s3")


def test_call_maps_errors_from_a_real_endpoint(topology: Topology, moto_url: str,
                                               fast_policy: Any) -> None:
    """A call to a missing bucket raises NotFound with the site and operation."""
    clients = SiteClients(topology, {"north": moto_url}, policy=fast_policy)
    with pytest.raises(NotFound) as info:
        clients.call("north", "s3", "list_objects_v2", Bucket="no-such-bucket-here")
    assert info.value.site == "north" and info.value.operation == "list_objects_v2"


def test_call_succeeds_against_a_real_endpoint(topology: Topology, moto_url: str) -> None:
    """A call returns botocore's parsed response."""
    clients = SiteClients(topology, {"north": moto_url})
    clients.call("north", "s3", "create_bucket", Bucket="sessions-ok",
                 CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
    names = [b["Name"] for b in clients.call("north", "s3", "list_buckets")["Buckets"]]
    assert "sessions-ok" in names


def test_refused_connection_is_retried_then_unavailable(topology: Topology,
                                                        fast_policy: Any) -> None:
    """A dead endpoint is retried up to the budget, then raises Unavailable(sent=False)."""
    clients = SiteClients(topology, {"north": "http://127.0.0.1:9"}, policy=fast_policy)
    with capture_logs() as logs, pytest.raises(Unavailable) as info:
        clients.call("north", "s3", "list_buckets")
    assert info.value.sent is False
    assert sum(e["event"] == "retry.scheduled" for e in logs) == 5
