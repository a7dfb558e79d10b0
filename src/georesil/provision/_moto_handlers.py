"""Resource handlers of the moto-backed engine: one boto3 recipe per Pulumi resource type.

Each handler takes the provider's :class:`Target`, the resource's logical name and its inputs
(Pulumi wire names, secrets already unwrapped), creates the resource, and returns its id and the
outputs Pulumi would report (ARNs, zone ids, ...). Like the provider, a create fails when the
resource already exists (a re-provision goes through the engine's state: unchanged resources are
not created again), and Route 53 records are CREATEd, not UPSERTed.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HANDLERS", "Handler", "Target", "exists", "known_regions", "record_set"]


@dataclass(frozen=True)
class Target:
    """Where a provider sends requests: a moto server URL, or in-process moto (``None``)."""

    site: str | None
    region: str
    url: str | None
    access_key: str
    secret_key: str

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` here, cached and shared between threads."""
        return _client(self.url, self.region, service, self.access_key, self.secret_key)


Handler = Callable[[Target, str, dict[str, Any]], tuple[str, dict[str, Any]]]


#: boto3 clients by (endpoint URL, region, service, access key). Clients are thread-safe;
#: creating one is not cheap (~30 ms), so every engine shares them.
_CLIENTS: dict[tuple[str | None, str, str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def _client(url: str | None, region: str, service: str, key: str, secret: str) -> Any:
    cache_key = (url, region, service, key)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(cache_key)
        if client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                            region_name=region)
            client = session.client(
                service, endpoint_url=url,
                config=Config(retries={"max_attempts": 2, "mode": "standard"},
                              s3={"addressing_style": "path"}))
            _CLIENTS[cache_key] = client
    return client


@functools.cache
def known_regions() -> frozenset[str]:
    """Regions every service georesil uses exists in, as in-process moto knows them."""
    import boto3

    session = boto3.session.Session()
    services = ("s3", "kms", "dynamodb", "ssm")
    return frozenset.intersection(*(frozenset(session.get_available_regions(s))
                                    for s in services))


def _tags(tags: Mapping[str, str] | None, key: str = "Key",
          value: str = "Value") -> list[dict[str, Any]]:
    return [{key: k, value: v} for k, v in sorted((tags or {}).items())]


def exists(exc: Exception, *codes: str) -> bool:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in codes


# -- handlers, one per resource type ------------------------------------------------------
def _kms_key(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    kms = t.client("kms")
    meta = kms.create_key(Description=i.get("description", name), KeyUsage="ENCRYPT_DECRYPT",
                          Tags=_tags(i.get("tags"), "TagKey", "TagValue"))["KeyMetadata"]
    if i.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"arn": meta["Arn"], "keyId": meta["KeyId"]}


def _s3_bucket(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from botocore.exceptions import ClientError

    s3, bucket = t.client("s3"), i["bucket"]
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if t.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": t.region}
    if bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        # us-east-1 answers 200 to creating a bucket one already owns; the provider does not.
        raise ClientError({"Error": {"Code": "BucketAlreadyOwnedByYou", "Message":
                                     "Your previous request to create the named bucket "
                                     "succeeded and you already own it."}}, "CreateBucket")
    s3.create_bucket(**kwargs)
    if i.get("tags"):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags(i["tags"])})
    return bucket, {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket, "region": t.region,
                    "bucketDomainName": f"{bucket}.s3.amazonaws.com"}


def _s3_versioning(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    t.client("s3").put_bucket_versioning(
        Bucket=i["bucket"],
        VersioningConfiguration={"Status": i["versioningConfiguration"]["status"]})
    return i["bucket"], {}


def _s3_encryption(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rules = []
    for rule in i.get("rules", []):
        default = rule.get("applyServerSideEncryptionByDefault", {})
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        rules.append({"ApplyServerSideEncryptionByDefault": by_default,
                      "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled", False))})
    t.client("s3").put_bucket_encryption(
        Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})
    return i["bucket"], {}


def _s3_public_access_block(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    t.client("s3").put_public_access_block(
        Bucket=i["bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets"))})
    return i["bucket"], {}


def _s3_lifecycle(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rules = []
    for rule in i.get("rules", []):
        out: dict[str, Any] = {"ID": rule["id"], "Status": rule["status"],
                               "Filter": {"Prefix": rule.get("filter", {}).get("prefix", "")}}
        if "noncurrentVersionExpiration" in rule:
            out["NoncurrentVersionExpiration"] = {
                "NoncurrentDays": int(rule["noncurrentVersionExpiration"]["noncurrentDays"])}
        if "abortIncompleteMultipartUpload" in rule:
            out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(
                rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"])}
        rules.append(out)
    t.client("s3").put_bucket_lifecycle_configuration(
        Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules})
    return i["bucket"], {}


def _status(block: Mapping[str, Any] | None) -> dict[str, str]:
    return {"Status": (block or {}).get("status", "Disabled")}


def _s3_replication(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    rules = []
    for rule in i.get("rules", []):
        dest = rule["destination"]
        destination: dict[str, Any] = {"Bucket": dest["bucket"]}
        if dest.get("storageClass"):
            destination["StorageClass"] = dest["storageClass"]
        replica_key = dest.get("encryptionConfiguration", {}).get("replicaKmsKeyId")
        if replica_key:
            destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_key}
        rtc, metrics = dest.get("replicationTime"), dest.get("metrics")
        if rtc:
            destination["ReplicationTime"] = {
                "Status": rtc["status"], "Time": {"Minutes": int(rtc["time"]["minutes"])}}
        if metrics:
            destination["Metrics"] = {"Status": metrics["status"], **(
                {"EventThreshold": {"Minutes": int(metrics["eventThreshold"]["minutes"])}}
                if metrics.get("eventThreshold") else {})}
        criteria = rule.get("sourceSelectionCriteria", {})
        rules.append({
            "ID": rule["id"], "Priority": int(rule.get("priority", 0)), "Status": rule["status"],
            "Filter": {"Prefix": rule.get("filter", {}).get("prefix", "")},
            "DeleteMarkerReplication": _status(rule.get("deleteMarkerReplication")),
            "SourceSelectionCriteria": {
                "ReplicaModifications": _status(criteria.get("replicaModifications")),
                "SseKmsEncryptedObjects": _status(criteria.get("sseKmsEncryptedObjects"))},
            "Destination": destination,
        })
    t.client("s3").put_bucket_replication(
        Bucket=i["bucket"], ReplicationConfiguration={"Role": i["role"], "Rules": rules})
    return i["bucket"], {}


def _iam_role(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    iam, role = t.client("iam"), i["name"]
    meta = iam.create_role(RoleName=role, AssumeRolePolicyDocument=i["assumeRolePolicy"],
                           Tags=_tags(i.get("tags")))["Role"]
    return role, {"arn": meta["Arn"], "name": role, "uniqueId": meta["RoleId"]}


def _iam_role_policy(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    t.client("iam").put_role_policy(RoleName=i["role"], PolicyName=i["name"],
                                            PolicyDocument=i["policy"])
    return f"{i['role']}:{i['name']}", {}


def _route53_zone(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # Route 53 allows several zones of one name: like the provider, always create one.
    r53, zone = t.client("route53"), i["name"].rstrip(".")
    created = r53.create_hosted_zone(
        Name=zone, CallerReference=f"georesil-{zone}-{time.time_ns()}",
        HostedZoneConfig={"Comment": i.get("comment", ""), "PrivateZone": False})
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    servers = r53.get_hosted_zone(Id=zone_id).get("DelegationSet", {}).get("NameServers", [])
    return zone_id, {"zoneId": zone_id, "nameServers": servers,
                     "arn": f"arn:aws:route53:::hostedzone/{zone_id}"}


def _route53_health_check(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    config: dict[str, Any] = {"Type": i["type"], "Port": int(i.get("port", 443)),
                              "RequestInterval": int(i.get("requestInterval", 30)),
                              "FailureThreshold": int(i.get("failureThreshold", 3))}
    if i.get("resourcePath"):
        config["ResourcePath"] = i["resourcePath"]
    if i.get("ipAddress"):
        config["IPAddress"] = i["ipAddress"]
    if i.get("fqdn"):
        config["FullyQualifiedDomainName"] = i["fqdn"]
    check = t.client("route53").create_health_check(
        CallerReference=f"georesil-{name}-{time.time_ns()}", HealthCheckConfig=config)
    check_id = check["HealthCheck"]["Id"]
    return check_id, {"arn": f"arn:aws:route53:::healthcheck/{check_id}"}


def _route53_record(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    from botocore.exceptions import ClientError

    r53, wanted = t.client("route53"), record_set(i)
    fqdn = wanted["Name"].rstrip(".") + "."
    found = r53.list_resource_record_sets(HostedZoneId=i["zoneId"], StartRecordName=fqdn,
                                          StartRecordType=wanted["Type"])["ResourceRecordSets"]
    if any(r["Name"] == fqdn and r["Type"] == wanted["Type"]
           and r.get("SetIdentifier") == wanted.get("SetIdentifier") for r in found):
        # moto accepts a CREATE over a set with other values; Route 53 does not.
        ident = f"name='{fqdn}', type='{wanted['Type']}'" + (
            f", set-identifier='{wanted['SetIdentifier']}'" if "SetIdentifier" in wanted else "")
        raise ClientError({"Error": {"Code": "InvalidChangeBatch", "Message":
                                     f"[Tried to create resource record set [{ident}] but it "
                                     "already exists]"}}, "ChangeResourceRecordSets")
    r53.change_resource_record_sets(
        HostedZoneId=i["zoneId"],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record_set(i)}]})
    rid = "_".join([i["zoneId"], i["name"], i["type"], i.get("setIdentifier", "")])
    return rid, {"fqdn": i["name"]}


def record_set(i: Mapping[str, Any]) -> dict[str, Any]:
    """The Route 53 ``ResourceRecordSet`` for a ``route53.Record``'s inputs."""
    record: dict[str, Any] = {"Name": i["name"], "Type": i["type"]}
    aliases = i.get("aliases") or []
    if aliases:
        alias = aliases[0]
        record["AliasTarget"] = {"HostedZoneId": alias["zoneId"], "DNSName": alias["name"],
                                 "EvaluateTargetHealth": bool(alias["evaluateTargetHealth"])}
    else:
        record["TTL"] = int(i.get("ttl", 60))
        record["ResourceRecords"] = [{"Value": v} for v in i.get("records", [])]
    if i.get("setIdentifier"):
        record["SetIdentifier"] = i["setIdentifier"]
    policies = i.get("failoverRoutingPolicies") or []
    if policies:
        record["Failover"] = policies[0]["type"]
    if i.get("healthCheckId"):
        record["HealthCheckId"] = i["healthCheckId"]
    return record


def _dynamodb_table(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ddb, table = t.client("dynamodb"), i["name"]
    keys = [{"AttributeName": i["hashKey"], "KeyType": "HASH"}]
    if i.get("rangeKey"):
        keys.append({"AttributeName": i["rangeKey"], "KeyType": "RANGE"})
    kwargs: dict[str, Any] = {
        "TableName": table, "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]}
                                 for a in i.get("attributes", [])],
        "BillingMode": i.get("billingMode", "PAY_PER_REQUEST"), "Tags": _tags(i.get("tags"))}
    if i.get("streamEnabled"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True,
                                          "StreamViewType": i["streamViewType"]}
    if i.get("deletionProtectionEnabled"):
        kwargs["DeletionProtectionEnabled"] = True
    desc = ddb.create_table(**kwargs)["TableDescription"]
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return table, {"arn": desc["TableArn"], "name": table,
                   "streamArn": desc.get("LatestStreamArn", "")}


def _dynamodb_item(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    item = json.loads(i["item"])
    # As the provider: never overwrite an item that exists.
    t.client("dynamodb").put_item(
        TableName=i["tableName"], Item=item, ConditionExpression="attribute_not_exists(#k)",
        ExpressionAttributeNames={"#k": i["hashKey"]})
    key = next(iter(item[i["hashKey"]].values()))
    return f"{i['tableName']}|{key}", {}


def _ssm_parameter(t: Target, name: str, i: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ssm = t.client("ssm")
    ssm.put_parameter(Name=i["name"], Value=i["value"], Type=i.get("type", "String"),
                      Description=i.get("description", ""), Tags=_tags(i.get("tags")))
    meta = ssm.get_parameter(Name=i["name"])["Parameter"]
    return i["name"], {"arn": meta["ARN"], "version": meta["Version"]}


#: Resource type token -> handler. Anything else is an error naming the type.
HANDLERS: dict[str, Handler] = {
    "aws:kms/key:Key": _kms_key,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:s3/bucketVersioning:BucketVersioning": _s3_versioning,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        _s3_encryption,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _s3_public_access_block,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _s3_lifecycle,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": _s3_replication,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/rolePolicy:RolePolicy": _iam_role_policy,
    "aws:route53/zone:Zone": _route53_zone,
    "aws:route53/healthCheck:HealthCheck": _route53_health_check,
    "aws:route53/record:Record": _route53_record,
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:dynamodb/tableItem:TableItem": _dynamodb_item,
    "aws:ssm/parameter:Parameter": _ssm_parameter,
}
