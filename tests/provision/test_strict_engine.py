"""The moto engine is at least as strict as AWS and the provider, and re-provisioning converges.

Each rule is driven through a small Pulumi program (or the mini topology) in in-process moto
and checked against its exact message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from georesil.errors import ProvisionError
from georesil.provision.moto_engine import MotoEngine, provision_moto, run_program

pytestmark = pytest.mark.slow


@pytest.fixture
def moto() -> Iterator[None]:
    from moto import mock_aws

    with mock_aws():
        yield


def _provider():  # type: ignore[no-untyped-def]
    import pulumi
    import pulumi_aws as aws

    return aws.Provider("site-x", region="us-east-1", access_key="testing",
                        secret_key=pulumi.Output.secret("testing"))


def _run(program: Callable[[Any], None], *, lab: bool = True, preview: bool = False) -> None:
    run_program(MotoEngine(lab=lab, preview=preview), lambda: program(_provider()), stack="s",
                preview=preview)


def _opts(provider: Any, **kw: Any) -> Any:
    import pulumi

    return pulumi.ResourceOptions(provider=provider, **kw)


def test_existing_bucket_fails_like_the_provider(moto: None) -> None:
    """Creating a bucket that exists fails with the provider's message, not a silent reuse."""
    import boto3
    import pulumi_aws as aws

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="taken-bucket-x1")
    with pytest.raises(ProvisionError) as info:
        _run(lambda p: aws.s3.Bucket("b", bucket="taken-bucket-x1", opts=_opts(p)))
    assert str(info.value).startswith(
        "creating S3 Bucket (taken-bucket-x1): BucketAlreadyOwnedByYou: Your previous request "
        "to create the named bucket succeeded and you already own it.")


@pytest.mark.parametrize(("make", "expected"), [
    (lambda aws, p: aws.iam.Role("r", name="taken-role", assume_role_policy="{}",
                                 opts=_opts(p)),
     "creating IAM Role (taken-role): EntityAlreadyExists:"),
    (lambda aws, p: aws.ssm.Parameter("p", name="/taken", type="String", value="x",
                                      opts=_opts(p)),
     "creating SSM Parameter (/taken): ParameterAlreadyExists:"),
    (lambda aws, p: aws.dynamodb.Table(
        "t", name="taken-table", hash_key="pk", billing_mode="PAY_PER_REQUEST",
        attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")], opts=_opts(p)),
     "creating DynamoDB Table (taken-table): ResourceInUseException:"),
])
def test_existing_resources_fail(moto: None, make: Any, expected: str) -> None:
    """A role, parameter or table that already exists is an error naming it."""
    import boto3
    import pulumi_aws as aws

    boto3.client("iam").create_role(RoleName="taken-role", AssumeRolePolicyDocument="{}")
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/taken", Value="y",
                                                               Type="String")
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="taken-table", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    with pytest.raises(ProvisionError) as info:
        _run(lambda p: make(aws, p))
    assert str(info.value).startswith(expected)


def test_record_is_created_not_upserted(moto: None) -> None:
    """A Route 53 record that exists is not overwritten: CREATE fails as the provider's does."""
    import boto3
    import pulumi_aws as aws

    r53 = boto3.client("route53")
    zone = r53.create_hosted_zone(Name="ex.tw", CallerReference="z")["HostedZone"]["Id"]
    zone_id = zone.rsplit("/", 1)[-1]
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "api.ex.tw", "Type": "CNAME", "TTL": 60,
            "ResourceRecords": [{"Value": "old.example"}]}}]})
    with pytest.raises(ProvisionError) as info:
        _run(lambda p: aws.route53.Record("r", zone_id=zone_id, name="api.ex.tw", type="CNAME",
                                          ttl=60, records=["new.example"], opts=_opts(p)))
    assert str(info.value).startswith("creating Route53 Record (api.ex.tw): "
                                      "InvalidChangeBatch:")
    sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    assert [s["ResourceRecords"] for s in sets if s["Type"] == "CNAME"] == [
        [{"Value": "old.example"}]]


@pytest.mark.parametrize(("make", "expected"), [
    (lambda aws, p: aws.s3.Bucket("b", bucket="Bad_Name", opts=_opts(p)),
     "S3 Bucket (Bad_Name): invalid bucket name 'Bad_Name': only lowercase alphanumeric "
     "characters, hyphens and periods, 3 to 63 characters, beginning and ending with a "
     "letter or digit, not an IP address"),
    (lambda aws, p: aws.dynamodb.Table(
        "t", name="bad/name", hash_key="pk", billing_mode="PAY_PER_REQUEST",
        attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S")], opts=_opts(p)),
     "DynamoDB Table (bad/name): invalid value for name 'bad/name' (must only include "
     "alphanumeric, underscore, period, or hyphen characters, 3 to 255 of them)"),
    (lambda aws, p: aws.route53.HealthCheck("h", type="HTTPS", fqdn="api.example.com",
                                            port=443, request_interval=17,
                                            failure_threshold=3, opts=_opts(p)),
     "Route53 Health Check (h): expected request_interval to be one of [10 30], got 17"),
    (lambda aws, p: aws.route53.HealthCheck("h", type="HTTPS", fqdn="api.example.com",
                                            port=443, request_interval=30,
                                            failure_threshold=11, opts=_opts(p)),
     "Route53 Health Check (h): expected failure_threshold to be in the range (1 - 10), "
     "got 11"),
])
def test_invalid_inputs_are_refused_even_in_a_preview(make: Any, expected: str) -> None:
    """Names and intervals the provider's schema refuses are refused at plan time."""
    import pulumi_aws as aws

    with pytest.raises(ProvisionError) as info:
        _run(lambda p: make(aws, p), preview=True)
    assert str(info.value) == expected


@pytest.mark.parametrize("target", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "localhost"])
def test_health_check_on_a_non_public_target_outside_the_lab(moto: None, target: str) -> None:
    """Outside a lab, Route 53 refuses to create a health check on a loopback, private or
    link-local target; a lab's loopback endpoints are allowed."""
    import pulumi_aws as aws

    def make(p: Any) -> None:
        is_ip = target != "localhost"
        aws.route53.HealthCheck("h", type="HTTP", port=80, request_interval=30,
                                failure_threshold=3, ip_address=target if is_ip else None,
                                fqdn=None if is_ip else target, opts=_opts(p))

    with pytest.raises(ProvisionError) as info:
        _run(make, lab=False)
    assert str(info.value) == (f"Route53 Health Check (h): InvalidInput: health check target "
                               f"{target!r} is not a public address; Route 53 health checkers "
                               "probe from the internet")
    _run(make, lab=True)


def test_replication_prerequisites(moto: None) -> None:
    """Replication from an unversioned bucket to a missing one is refused with S3's reasons."""
    import pulumi_aws as aws

    def program(p: Any) -> None:
        source = aws.s3.Bucket("src", bucket="repl-src-x1", opts=_opts(p))
        aws.s3.BucketReplicationConfig(
            "repl", bucket=source.id, role="arn:aws:iam::123456789012:role/missing",
            rules=[aws.s3.BucketReplicationConfigRuleArgs(
                id="r", status="Enabled", filter=aws.s3.BucketReplicationConfigRuleFilterArgs(
                    prefix=""),
                delete_marker_replication=aws.s3.
                BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket="arn:aws:s3:::nowhere-x1"))],
            opts=_opts(p, depends_on=[source]))

    with pytest.raises(ProvisionError) as info:
        _run(program)
    assert str(info.value) == (
        "creating S3 Bucket Replication (repl-src-x1): InvalidRequest: Versioning must be "
        "'Enabled' on the bucket to apply a replication configuration; InvalidRequest: "
        "Destination bucket 'arn:aws:s3:::nowhere-x1' must exist; InvalidArgument: role "
        "'arn:aws:iam::123456789012:role/missing' does not exist")


# -- convergence ----------------------------------------------------------------------------
def _mini(**changes: Any):  # type: ignore[no-untyped-def]
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    doc = mini_dict()
    doc.update(changes)
    return topology_from_dict(doc)


def _without_taoyuan():  # type: ignore[no-untyped-def]
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    doc = mini_dict()
    doc["services"][0]["replicas"] = doc["services"][0]["replicas"][:2]
    return topology_from_dict(doc)


def test_removing_a_replica_removes_its_bucket_and_records(moto: None, tmp_path: Path) -> None:
    """Re-provisioning after a replica leaves the model deletes its bucket (and its
    configuration), its health check and its failover records; the rest is left alone."""
    import boto3

    state = tmp_path / "state.json"
    first = provision_moto(_mini(), stack="cv", state_file=state)
    gone = first.stack_outputs.bucket("objects", "taoyuan-dc").name
    kept = first.stack_outputs.bucket("objects", "tainan-ngcc").name
    check = first.stack_outputs.health_check_id("objects", "taoyuan-dc")
    second = provision_moto(_without_taoyuan(), stack="cv", state_file=state)
    names = {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}
    assert gone not in names and kept in names
    deleted = {(r.type.rsplit(":", 1)[-1], r.name) for r in second.deleted}
    assert ("Bucket", "objects-taoyuan-dc") in deleted
    assert ("HealthCheck", "dns-georesil-example-objects-taoyuan-dc-health") in deleted
    r53 = boto3.client("route53")
    assert check not in {h["Id"] for h in r53.list_health_checks()["HealthChecks"]}
    zone = second.stack_outputs.zone_id("georesil.example")
    sets = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    assert {s.get("SetIdentifier") for s in sets if s.get("Failover")} == {
        "objects-taipei-neihu", "objects-tainan-ngcc"}
    assert second.stack_outputs.record_chain("objects") == ["objects.georesil.example"]


def test_unchanged_reprovision_changes_nothing(moto: None, tmp_path: Path) -> None:
    """Provisioning the same model twice creates, updates and deletes nothing the second time:
    every id is the same."""
    state = tmp_path / "state.json"
    first = provision_moto(_mini(), stack="nc", state_file=state)
    second = provision_moto(_mini(), stack="nc", state_file=state)
    assert second.deleted == ()
    assert {r.ref: r.id for r in first.resources} == {r.ref: r.id for r in second.resources}


def test_protected_resources_refuse_to_go(moto: None, tmp_path: Path) -> None:
    """With protection on, a replica leaving the model is refused, naming what is protected and
    how to proceed; nothing is deleted."""
    import boto3

    from georesil.provision.stack import StackConfig

    cfg = StackConfig(force_destroy=False, protect=True, default_region="us-east-1", lab=True)
    state = tmp_path / "state.json"
    first = provision_moto(_mini(), stack="pr", state_file=state, config=cfg)
    bucket = first.stack_outputs.bucket("objects", "taoyuan-dc").name
    with pytest.raises(ProvisionError) as info:
        provision_moto(_without_taoyuan(), stack="pr", state_file=state, config=cfg)
    message = str(info.value)
    assert message.startswith("unable to delete KMS Key (")
    assert f", S3 Bucket ({bucket}): protected (it left the program, but protection keeps " \
        "it); set georesil:protect to false" in message
    assert bucket in {b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]}


def test_failover_survives_reprovisioning(moto: None, tmp_path: Path) -> None:
    """provision -> fail over (register and parameter move to Tainan) -> provision again, even
    with a changed model: the failover is intact (the register is under ignore_changes)."""
    from georesil.cloud import Credentials, SiteClients
    from georesil.drills.control import ControlPlane

    state = tmp_path / "state.json"
    first = provision_moto(_mini(), stack="fo", state_file=state)
    out = first.stack_outputs
    clients = SiteClients(_mini(), credentials=Credentials("testing", "testing"))
    control = ControlPlane(clients, out)
    before = control.active("objects")
    now = time.time()
    assert control.try_lock("objects", "t", owner="test", now=now, expires_at=now + 60,
                            journal=None)
    control.set_active("objects", "tainan-ngcc", expect_epoch=before.epoch, run_id="t",
                       now=now)
    clients.call(out.control_site, "ssm", "put_parameter", Name=out.parameter_name("objects"),
                 Value="tainan-ngcc", Type="String", Overwrite=True)
    doc_changed = _mini(description="the model moved on")
    provision_moto(doc_changed, stack="fo", state_file=state)
    after = ControlPlane(clients, out).active("objects")
    assert (after.site, after.epoch) == ("tainan-ngcc", before.epoch + 1)
    param = clients.call(out.control_site, "ssm", "get_parameter",
                         Name=out.parameter_name("objects"))["Parameter"]["Value"]
    assert param == "tainan-ngcc"
