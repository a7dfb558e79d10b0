"""The bundled Taiwan reference topology provisioned through the moto engine."""

from __future__ import annotations

import pytest

from georesil.model.schema import ServiceKind
from georesil.provision.moto_engine import ProvisionResult

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    from georesil.model import load_topology

    return load_topology()


@pytest.fixture(scope="module")
def provisioned(in_process_moto: None, reference) -> ProvisionResult:  # type: ignore[no-untyped-def]
    from georesil.provision.moto_engine import provision_moto

    return provision_moto(reference, stack="ref", in_process=True)


def test_every_object_store_replica_has_a_bucket(provisioned: ProvisionResult,
                                                 reference) -> None:  # type: ignore[no-untyped-def]
    """Each object-storage replica of the reference topology has a versioned bucket."""
    import boto3

    s3, out = boto3.client("s3"), provisioned.stack_outputs
    stores = [s for s in reference.services.values() if s.kind is ServiceKind.OBJECT_STORAGE]
    assert stores
    for svc in stores:
        assert set(out.buckets(svc.id)) == {r.site for r in svc.replicas}
        for ref in out.buckets(svc.id).values():
            assert s3.get_bucket_versioning(Bucket=ref.name)["Status"] == "Enabled"


def test_stores_replicate_to_tainan(provisioned: ProvisionResult,
                                    reference) -> None:  # type: ignore[no-untyped-def]
    """Every reference object store replicates north to the Tainan computing centre."""
    import boto3

    s3, out = boto3.client("s3"), provisioned.stack_outputs
    for svc in reference.services.values():
        if svc.kind is not ServiceKind.OBJECT_STORAGE:
            continue
        primary = reference.primary(svc.id).site
        conf = s3.get_bucket_replication(Bucket=out.bucket(svc.id, primary).name)
        dests = {r["Destination"]["Bucket"] for r in conf["ReplicationConfiguration"]["Rules"]}
        assert out.bucket(svc.id, "tainan-ngcc").arn in dests


def test_every_dns_name_has_failover_records(provisioned: ProvisionResult,
                                             reference) -> None:  # type: ignore[no-untyped-def]
    """Every service with a DNS name has a health-checked PRIMARY record."""
    import boto3

    r53, out = boto3.client("route53"), provisioned.stack_outputs
    named = [s for s in reference.services.values() if s.dns_name]
    zone = out.zone_id("georesil.tw")
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    primaries = {r["Name"].rstrip("."): r for r in sets if r.get("Failover") == "PRIMARY"}
    assert set(primaries) == {s.dns_name.rstrip(".") for s in named}
    assert all(r.get("HealthCheckId") for r in primaries.values())


def test_parameter_per_service(provisioned: ProvisionResult,
                               reference) -> None:  # type: ignore[no-untyped-def]
    """Every reference service has a serving-site parameter naming its primary."""
    import boto3

    out = provisioned.stack_outputs
    ssm = boto3.client("ssm", region_name="ap-east-2")
    for svc in reference.services:
        value = ssm.get_parameter(Name=out.parameter_name(svc))["Parameter"]["Value"]
        assert value == reference.primary(svc).site


def test_reference_policy_passes(provisioned: ProvisionResult) -> None:
    """The reference stack passes every policy rule (checked on plan and on creation)."""
    from georesil.model import load_topology
    from georesil.provision.policy import find_violations

    assert find_violations(load_topology(), provisioned.resources) == []
