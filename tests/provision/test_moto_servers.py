"""The mini topology provisioned into two moto servers on loopback, one per side of Taiwan.

Each server runs in its own process so that each is a separate backend (moto servers started
as threads in one process share one backend and could not show where a resource went).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from georesil.provision.moto_engine import ProvisionResult

pytestmark = [pytest.mark.slow, pytest.mark.lab]

NORTH = ("taipei-neihu", "taoyuan-dc")
SOUTH = "tainan-ngcc"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto server on port {port} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"moto server on port {port} did not start within 30 s")


@pytest.fixture(scope="module")
def servers(module_env: None) -> Iterator[dict[str, str]]:
    """Three moto server processes on 127.0.0.1: north, south and the control region."""
    procs = {}
    try:
        for side in ("north", "south", "control"):
            port = _free_port()
            procs[side] = (port, subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port, proc in procs.values():
            _wait_until_listening(port, proc)
        yield {side: f"http://127.0.0.1:{port}" for side, (port, _) in procs.items()}
    finally:
        for _, proc in procs.values():
            proc.terminate()
        for _, proc in procs.values():
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def provisioned(servers: dict[str, str]) -> ProvisionResult:
    from georesil.model import topology_from_dict
    from georesil.provision.moto_engine import provision_moto
    from tests.provision.conftest import mini_dict

    endpoints = {site: servers["north"] for site in NORTH} | {SOUTH: servers["south"],
                                                               "control": servers["control"]}
    return provision_moto(topology_from_dict(mini_dict()), endpoints, stack="srv")


def at(url: str, service: str, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_buckets_live_on_their_sites_server(provisioned: ProvisionResult,
                                            servers: dict[str, str]) -> None:
    """Northern buckets are on the north server only, the Tainan bucket on the south one."""
    out = provisioned.stack_outputs
    north = {b["Name"] for b in at(servers["north"], "s3").list_buckets()["Buckets"]}
    south = {b["Name"] for b in at(servers["south"], "s3").list_buckets()["Buckets"]}
    assert north == {out.bucket("objects", s).name for s in NORTH}
    assert south == {out.bucket("objects", SOUTH).name}
    assert not provisioned.in_process


def test_server_buckets_versioned_encrypted_blocked(provisioned: ProvisionResult,
                                                   servers: dict[str, str]) -> None:
    """The Tainan bucket on the south server is versioned, SSE-KMS encrypted and private."""
    out, s3 = provisioned.stack_outputs, at(servers["south"], "s3")
    name = out.bucket("objects", SOUTH).name
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == out.kms_key_arn(SOUTH)
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]


def test_site_key_on_its_own_server(provisioned: ProvisionResult,
                                    servers: dict[str, str]) -> None:
    """The Tainan KMS key exists on the south server and not on the north one."""
    key_id = provisioned.stack_outputs.kms_key_arn(SOUTH).rsplit("/", 1)[1]
    assert at(servers["south"], "kms", "ap-southeast-1").describe_key(KeyId=key_id)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="NotFound"):
        at(servers["north"], "kms", "ap-southeast-1").describe_key(KeyId=key_id)


def test_replication_points_across_servers(provisioned: ProvisionResult,
                                           servers: dict[str, str]) -> None:
    """The primary (north) replicates to the Tainan bucket with RTC; the role (IAM is global)
    lives with the control plane."""
    out = provisioned.stack_outputs
    conf = at(servers["north"], "s3").get_bucket_replication(
        Bucket=out.bucket("objects", "taipei-neihu").name)["ReplicationConfiguration"]
    rules = {r["Destination"]["Bucket"]: r for r in conf["Rules"]}
    dest = rules[out.bucket("objects", SOUTH).arn]["Destination"]
    assert dest["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert dest["Metrics"]["Status"] == "Enabled"
    role = conf["Role"].rsplit("/", 1)[1]
    assert at(servers["control"], "iam").get_role(RoleName=role)["Role"]["Arn"] == conf["Role"]


def test_control_plane_and_dns_on_control_server(provisioned: ProvisionResult,
                                                 servers: dict[str, str]) -> None:
    """Zone, health checks, records, control table and parameters are on the control server
    (the topology declares no ``control:``, so the lab's own control region)."""
    out = provisioned.stack_outputs
    assert (out.control_site, out.control_region) == ("control", "us-east-1")
    url = servers["control"]
    assert out.table_name not in at(servers["north"], "dynamodb",
                                    "ap-northeast-1").list_tables()["TableNames"]
    records = at(url, "route53").list_resource_record_sets(
        HostedZoneId=out.zone_id("georesil.example"))["ResourceRecordSets"]
    assert {r.get("Failover") for r in records} >= {"PRIMARY", "SECONDARY"}
    ddb = at(url, "dynamodb", "us-east-1")
    assert out.table_name in ddb.list_tables()["TableNames"]
    ssm = at(url, "ssm", "us-east-1")
    assert ssm.get_parameter(Name=out.parameter_name("objects"))["Parameter"]["Value"] == \
        "taipei-neihu"
    health = at(url, "route53").get_health_check(
        HealthCheckId=out.health_check_id("objects", SOUTH))["HealthCheck"]["HealthCheckConfig"]
    assert health["IPAddress"] == "127.0.0.1"
    assert health["Port"] == int(servers["south"].rsplit(":", 1)[1])


def test_database_tables_on_their_servers(provisioned: ProvisionResult,
                                          servers: dict[str, str]) -> None:
    """The database's Tainan table is on the south server, its primary on the north one."""
    out = provisioned.stack_outputs
    south = at(servers["south"], "dynamodb", "ap-southeast-1").list_tables()["TableNames"]
    north = at(servers["north"], "dynamodb", "ap-northeast-1").list_tables()["TableNames"]
    assert out.database_table("catalog", SOUTH) in south
    assert out.database_table("catalog", "taoyuan-dc") in north
