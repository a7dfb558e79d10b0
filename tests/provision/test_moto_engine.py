"""The mini topology provisioned through the moto-backed engine, verified with plain boto3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from georesil.provision.moto_engine import ProvisionResult

pytestmark = pytest.mark.slow

SITES = ("taipei-neihu", "tainan-ngcc", "taoyuan-dc")
REGION = {"taipei-neihu": "ap-northeast-1", "taoyuan-dc": "ap-northeast-1",
          "tainan-ngcc": "ap-southeast-1"}


@pytest.fixture(scope="module")
def provisioned(in_process_moto: None) -> ProvisionResult:
    from georesil.model import topology_from_dict
    from georesil.provision.moto_engine import provision_moto
    from tests.provision.conftest import mini_dict

    return provision_moto(topology_from_dict(mini_dict()), stack="t1")


def client(service: str, region: str = "us-east-1"):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(service, region_name=region)


def test_bucket_per_replica_site(provisioned: ProvisionResult) -> None:
    """Every replica site of the object store has its own bucket (primary first), and it exists."""
    out = provisioned.stack_outputs
    names = {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    assert list(out.buckets("objects")) == ["taipei-neihu", "tainan-ngcc", "taoyuan-dc"]
    assert {out.bucket("objects", s).name for s in SITES} <= names


def test_buckets_versioned(provisioned: ProvisionResult) -> None:
    """Every bucket has versioning enabled."""
    s3 = client("s3")
    for ref in provisioned.stack_outputs.buckets("objects").values():
        assert s3.get_bucket_versioning(Bucket=ref.name)["Status"] == "Enabled"


def test_buckets_encrypted_with_their_site_key(provisioned: ProvisionResult) -> None:
    """Every bucket uses SSE-KMS with the KMS key of its own site."""
    out, s3 = provisioned.stack_outputs, client("s3")
    for site, ref in out.buckets("objects").items():
        rule = s3.get_bucket_encryption(Bucket=ref.name)[
            "ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
        assert rule["SSEAlgorithm"] == "aws:kms"
        assert rule["KMSMasterKeyID"] == out.kms_key_arn(site)
        assert f":{REGION[site]}:" in out.kms_key_arn(site)


def test_site_keys_exist_in_their_region(provisioned: ProvisionResult) -> None:
    """Each site's KMS key exists in that site's region with rotation on."""
    out = provisioned.stack_outputs
    for site in SITES:
        kms = client("kms", REGION[site])
        key_id = out.kms_key_arn(site).rsplit("/", 1)[1]
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"]
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    assert len({out.kms_key_arn(s) for s in SITES}) == 3


def test_public_access_fully_blocked(provisioned: ProvisionResult) -> None:
    """All four public-access-block flags are set on every bucket."""
    s3 = client("s3")
    for ref in provisioned.stack_outputs.buckets("objects").values():
        block = s3.get_public_access_block(Bucket=ref.name)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                         "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


def test_lifecycle_expires_noncurrent_versions(provisioned: ProvisionResult) -> None:
    """Every bucket expires noncurrent versions after 30 days."""
    s3 = client("s3")
    for ref in provisioned.stack_outputs.buckets("objects").values():
        rules = s3.get_bucket_lifecycle_configuration(Bucket=ref.name)["Rules"]
        assert rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
        assert rules[0]["Status"] == "Enabled"


def test_replication_from_primary_to_each_secondary(provisioned: ProvisionResult) -> None:
    """The primary replicates to both secondaries through the service's role."""
    out = provisioned.stack_outputs
    conf = client("s3").get_bucket_replication(
        Bucket=out.bucket("objects", "taipei-neihu").name)["ReplicationConfiguration"]
    assert conf["Role"] == out.replication_role_arn("objects")
    dests = {r["Destination"]["Bucket"] for r in conf["Rules"]}
    assert dests == {out.bucket("objects", s).arn for s in ("tainan-ngcc", "taoyuan-dc")}
    for rule in conf["Rules"]:
        site = rule["ID"].removeprefix("to-")
        assert rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"] == \
            out.kms_key_arn(site)


def test_replication_program_asks_for_delete_markers_and_replica_sync(
        provisioned: ProvisionResult) -> None:
    """The replication rules request delete-marker replication and replica modification sync.

    moto stores these but always reports DeleteMarkerReplication 'Disabled', so the check
    reads what the program sent.
    """
    (config,) = provisioned.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    for rule in config.inputs["rules"]:
        assert rule["deleteMarkerReplication"]["status"] == "Enabled"
        assert rule["sourceSelectionCriteria"]["replicaModifications"]["status"] == "Enabled"


def test_secondaries_do_not_replicate(provisioned: ProvisionResult) -> None:
    """Only the primary bucket has a replication configuration."""
    from botocore.exceptions import ClientError

    s3 = client("s3")
    with pytest.raises(ClientError, match="ReplicationConfigurationNotFound"):
        s3.get_bucket_replication(
            Bucket=provisioned.stack_outputs.bucket("objects", "tainan-ngcc").name)


def test_role_policy_names_exactly_the_buckets_and_keys(provisioned: ProvisionResult) -> None:
    """The replication role's policy lists the source, the destinations and their keys only."""
    out, iam = provisioned.stack_outputs, client("iam")
    role = out.replication_role_arn("objects").rsplit("/", 1)[1]
    (policy_name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    resources = {r for st in doc["Statement"] for r in st["Resource"]}
    src = out.bucket("objects", "taipei-neihu").arn
    dests = [out.bucket("objects", s).arn for s in ("tainan-ngcc", "taoyuan-dc")]
    assert resources == {src, f"{src}/*", *(f"{d}/*" for d in dests),
                         *(out.kms_key_arn(s) for s in SITES)}
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert "s3:ReplicateObject" in actions and not any("*" in a for a in actions)
    assert "*" not in resources


def test_role_trusts_only_s3(provisioned: ProvisionResult) -> None:
    """The replication role can be assumed by the S3 service only."""
    role = provisioned.stack_outputs.replication_role_arn("objects").rsplit("/", 1)[1]
    trust = client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}


def test_hosted_zone_exists(provisioned: ProvisionResult) -> None:
    """The service's DNS zone exists under the exported id."""
    zone_id = provisioned.stack_outputs.zone_id("georesil.example")
    zone = client("route53").get_hosted_zone(Id=zone_id)["HostedZone"]
    assert zone["Name"].rstrip(".") == "georesil.example"


def test_health_check_per_replica_site(provisioned: ProvisionResult) -> None:
    """Each replica has a health check probing its own hostname (not the region's S3 API, which
    two sites in one region would share)."""
    out, r53 = provisioned.stack_outputs, client("route53")
    host = {"taipei-neihu": "taipei", "taoyuan-dc": "taoyuan", "tainan-ngcc": "tainan"}
    for site in SITES:
        check = r53.get_health_check(HealthCheckId=out.health_check_id("objects", site))
        conf = check["HealthCheck"]["HealthCheckConfig"]
        assert conf["FullyQualifiedDomainName"] == f"objects.{host[site]}.georesil.example"
        assert (conf["Type"], conf["Port"], conf["ResourcePath"]) == ("HTTPS", 443, "/")


def test_failover_chain_orders_every_replica(provisioned: ProvisionResult) -> None:
    """Three replicas, one SECONDARY per name: the service's name holds PRIMARY (the primary)
    and a SECONDARY alias to a second name holding the two secondaries in topology order;
    each target record has its replica's own health check."""
    out, r53 = provisioned.stack_outputs, client("route53")
    records = r53.list_resource_record_sets(
        HostedZoneId=out.zone_id("georesil.example"))["ResourceRecordSets"]
    chain = out.record_chain("objects")
    assert chain == ["objects.georesil.example", "objects-failover-1.georesil.example"]
    by_name = {(r["Name"].rstrip("."), r["Failover"]): r for r in records if r.get("Failover")}
    assert set(by_name) == {(n, role) for n in chain for role in ("PRIMARY", "SECONDARY")}
    top_primary = by_name[(chain[0], "PRIMARY")]
    assert top_primary["SetIdentifier"] == "objects-taipei-neihu"
    assert top_primary["HealthCheckId"] == out.health_check_id("objects", "taipei-neihu")
    alias = by_name[(chain[0], "SECONDARY")]
    assert alias["AliasTarget"]["DNSName"].rstrip(".") == chain[1]
    assert alias["AliasTarget"]["EvaluateTargetHealth"] is True
    for role, site in (("PRIMARY", "tainan-ngcc"), ("SECONDARY", "taoyuan-dc")):
        record = by_name[(chain[1], role)]
        assert record["SetIdentifier"] == f"objects-1-{site}"
        assert record["HealthCheckId"] == out.health_check_id("objects", site)
    ids = {out.health_check_id("objects", s) for s in SITES}
    assert len(ids) == 3


def test_control_table_and_register(provisioned: ProvisionResult) -> None:
    """The control table exists at the control site and registers each service's primary."""
    out = provisioned.stack_outputs
    ddb = client("dynamodb", out.control_region)
    table = ddb.describe_table(TableName=out.table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    item = ddb.get_item(TableName=out.table_name, Key={"pk": {"S": "active#catalog"}})["Item"]
    assert item["site"] == {"S": "taoyuan-dc"}


def test_register_supports_conditional_lock(provisioned: ProvisionResult) -> None:
    """A second conditional write of the same lock is refused (the table is usable as a lock)."""
    from botocore.exceptions import ClientError

    out = provisioned.stack_outputs
    ddb = client("dynamodb", out.control_region)
    put = {"TableName": out.table_name, "Item": {"pk": {"S": "lock#drill"}},
           "ConditionExpression": "attribute_not_exists(pk)"}
    ddb.put_item(**put)
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.put_item(**put)


def test_serving_site_parameters(provisioned: ProvisionResult) -> None:
    """An SSM parameter per service holds its primary site."""
    out = provisioned.stack_outputs
    ssm = client("ssm", out.control_region)
    assert ssm.get_parameter(Name=out.parameter_name("objects"))["Parameter"]["Value"] == \
        "taipei-neihu"
    assert ssm.get_parameter(Name=out.parameter_name("catalog"))["Parameter"]["Value"] == \
        "taoyuan-dc"


def test_database_table_per_replica_site(provisioned: ProvisionResult) -> None:
    """The database service has a table in each replica site's region."""
    out = provisioned.stack_outputs
    for site in ("taoyuan-dc", "tainan-ngcc"):
        name = out.database_table("catalog", site)
        table = client("dynamodb", REGION[site]).describe_table(TableName=name)["Table"]
        assert table["TableStatus"] == "ACTIVE"


def test_outputs_are_real_ids(provisioned: ProvisionResult) -> None:
    """Outputs carry the ids moto assigned, not placeholders."""
    out = provisioned.stack_outputs
    assert not any("preview" in str(v) for v in out.as_dict().values())
    assert out.replication_role_arn("objects").startswith("arn:aws:iam::123456789012:role/")


def test_reprovision_keeps_register(provisioned: ProvisionResult, tmp_path: Path) -> None:
    """Provisioning again (from the first run's state) succeeds and leaves a moved active-site
    register alone."""
    from georesil.model import topology_from_dict
    from georesil.provision.moto_engine import provision_moto, save_state
    from tests.provision.conftest import mini_dict

    out = provisioned.stack_outputs
    ddb = client("dynamodb", out.control_region)
    key = {"pk": {"S": "active#objects"}}
    ddb.put_item(TableName=out.table_name, Item={**key, "site": {"S": "tainan-ngcc"}})
    state = tmp_path / "state.json"
    save_state(state, provisioned.resources)
    again = provision_moto(topology_from_dict(mini_dict()), stack="t1", state_file=state)
    assert again.deleted == ()
    assert again.stack_outputs.table_name == out.table_name
    assert ddb.get_item(TableName=out.table_name, Key=key)["Item"]["site"] == {"S": "tainan-ngcc"}


def test_database_is_a_global_table_across_aws_regions(provisioned: ProvisionResult) -> None:
    """Every catalog replica site is an AWS region: one global table, created at the primary
    with a replica in the other region, the same name at every site."""
    out = provisioned.stack_outputs
    tables = [r for r in provisioned.of_type("aws:dynamodb/table:Table") if r.name == "catalog"]
    assert len(tables) == 1
    assert tables[0].inputs["replicas"] == [{"regionName": "ap-southeast-1"}]
    assert out.database_table("catalog", "taoyuan-dc") == out.database_table("catalog",
                                                                              "tainan-ngcc")
    assert out.replication_mechanism("catalog", "tainan-ngcc") == "dynamodb-global-table"
