"""Fixtures for mirror tests: one three-site lab (north primary; south, east secondaries) and
fresh versioned buckets per test."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from georesil.cloud import SiteClients
from georesil.lab import LabState, lab_clients, lab_down, lab_up
from georesil.model import Topology
from tests.lab._topologies import with_sites

_names = itertools.count()


@pytest.fixture(scope="session")
def mirror_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """Bare lab servers for north, south and east (buckets are made per test)."""
    workdir = tmp_path_factory.mktemp("mirror-lab")
    state = lab_up(with_sites("east"), workdir=workdir, provision=False)
    yield state
    lab_down(workdir)


@pytest.fixture
def topology(mirror_lab: LabState) -> Topology:
    return mirror_lab.topology()


def fast_policy(attempts: int = 6) -> Any:
    from tenacity import wait_none

    from georesil.cloud import retry_policy

    return functools.partial(retry_policy, attempts=attempts, wait=wait_none())


@pytest.fixture(scope="session")
def clients(mirror_lab: LabState) -> SiteClients:
    """Clients for the lab, shared: building boto3 clients is the slow part of a small test."""
    return lab_clients(mirror_lab, policy=fast_policy())


@pytest.fixture
def buckets(clients: SiteClients, topology: Topology) -> dict[str, str]:
    """A fresh versioned bucket at every site of the service."""
    n = next(_names)
    made = {}
    for site in topology.sites:
        name = f"mirror-{n}-{site}"
        clients.call(site, "s3", "create_bucket", Bucket=name,
                     CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
        clients.call(site, "s3", "put_bucket_versioning", Bucket=name,
                     VersioningConfiguration={"Status": "Enabled"})
        made[site] = name
    return made


def put_many(clients: SiteClients, site: str, bucket: str,
             items: Iterable[tuple[str, bytes]], workers: int = 8) -> None:
    """Write objects concurrently."""
    def put(item: tuple[str, bytes]) -> None:
        clients.call(site, "s3", "put_object", Bucket=bucket, Key=item[0], Body=item[1])

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, items))


def put_multipart(clients: SiteClients, site: str, bucket: str, key: str, data: bytes,
                  part_size: int = 5 * 1024 * 1024) -> None:
    upload = clients.call(site, "s3", "create_multipart_upload", Bucket=bucket,
                          Key=key)["UploadId"]
    parts = []
    for number, start in enumerate(range(0, len(data), part_size), 1):
        etag = clients.call(site, "s3", "upload_part", Bucket=bucket, Key=key, UploadId=upload,
                            PartNumber=number, Body=data[start:start + part_size])["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    clients.call(site, "s3", "complete_multipart_upload", Bucket=bucket, Key=key,
                 UploadId=upload, MultipartUpload={"Parts": parts})


def history(clients: SiteClients, site: str, bucket: str) -> dict[str, list[tuple[Any, ...]]]:
    """``{key: [signature, ...]}`` oldest first."""
    from georesil.mirror import list_versions

    return {k: [v.signature for v in vs]
            for k, vs in list_versions(clients, site, bucket).items()}


def body(clients: SiteClients, site: str, bucket: str, key: str) -> bytes:
    return clients.call(site, "s3", "get_object", Bucket=bucket, Key=key)["Body"].read()
