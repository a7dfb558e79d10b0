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


def test_stores_mirror_to_tainan(provisioned: ProvisionResult,
                                 reference) -> None:  # type: ignore[no-untyped-def]
    """Tainan is an S3-compatible store: every object store reaches it by georesil's mirror,
    not by S3 replication (which reaches only AWS buckets)."""
    import boto3
    from botocore.exceptions import ClientError

    s3, out = boto3.client("s3"), provisioned.stack_outputs
    for svc in reference.services.values():
        if svc.kind is not ServiceKind.OBJECT_STORAGE:
            continue
        assert out.replication_mechanism(svc.id, "tainan-ngcc") == "georesil-mirror"
        primary = reference.primary(svc.id).site
        with pytest.raises(ClientError, match="ReplicationConfigurationNotFound"):
            s3.get_bucket_replication(Bucket=out.bucket(svc.id, primary).name)


def test_every_dns_name_has_failover_records(provisioned: ProvisionResult,
                                             reference) -> None:  # type: ignore[no-untyped-def]
    """Every service with a DNS name has a health-checked PRIMARY record on every name of its
    failover chain, pointing at the replica's own hostname."""
    import boto3

    r53, out = boto3.client("route53"), provisioned.stack_outputs
    named = [s for s in reference.services.values() if s.dns_name]
    zone = out.zone_id("georesil.tw")
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    primaries = {r["Name"].rstrip("."): r for r in sets if r.get("Failover") == "PRIMARY"}
    chains = {name for s in named for name in out.record_chain(s.id)}
    assert set(primaries) == chains
    assert {s.dns_name.rstrip(".") for s in named} <= chains
    assert all(r.get("HealthCheckId") for r in primaries.values())
    models = primaries["models.georesil.tw"]
    assert models["ResourceRecords"] == [{"Value": "models.taipei.georesil.example"}]
    assert out.name_servers("georesil.tw")


def test_parameter_per_service(provisioned: ProvisionResult,
                               reference) -> None:  # type: ignore[no-untyped-def]
    """Every reference service has a serving-site parameter naming its primary."""
    import boto3

    out = provisioned.stack_outputs
    ssm = boto3.client("ssm", region_name=out.control_region)
    for svc in reference.services:
        value = ssm.get_parameter(Name=out.parameter_name(svc))["Parameter"]["Value"]
        assert value == reference.primary(svc).site


def test_reference_policy_passes(provisioned: ProvisionResult) -> None:
    """The reference stack passes every policy rule (checked on plan and on creation)."""
    from georesil.model import load_topology
    from georesil.provision.policy import find_violations

    assert find_violations(load_topology(), provisioned.resources) == []
