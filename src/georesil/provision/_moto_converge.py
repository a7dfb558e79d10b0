"""What makes the moto engine at least as strict as AWS and the provider, and able to converge.

- :func:`validate` refuses what AWS or the provider would refuse: at plan time, as the provider's
  schema does, invalid bucket and table names, Route 53 request intervals other than 10 or 30 s
  and failure thresholds outside 1–10; when creating, as AWS does, (outside a lab) health checks
  on loopback, private or link-local addresses (a preview leaves those to the policy rule
  ``dns-target-public``).
- :data:`NOUNS` names resources the way the provider's errors do (``creating S3 Bucket (x): ...``).
- :data:`REPLACE_ON` lists the inputs whose change replaces a resource (create the new one, delete
  the old one at the end); :data:`UPDATERS` apply other changes in place; :data:`DELETERS` remove a
  resource that left the program.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from georesil.errors import ProvisionError
from georesil.provision._moto_handlers import HANDLERS, Target, _tags, record_set

__all__ = ["DELETERS", "DELETE_ORDER", "NOUNS", "REPLACE_ON", "UPDATERS", "describe", "validate"]

#: How the provider names each resource type in its messages.
NOUNS: dict[str, str] = {
    "aws:kms/key:Key": "KMS Key",
    "aws:s3/bucket:Bucket": "S3 Bucket",
    "aws:s3/bucketVersioning:BucketVersioning": "S3 Bucket Versioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        "S3 Bucket Server-side Encryption Configuration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "S3 Bucket Public Access Block",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
        "S3 Bucket Lifecycle Configuration",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "S3 Bucket Replication",
    "aws:iam/role:Role": "IAM Role",
    "aws:iam/rolePolicy:RolePolicy": "IAM Role Policy",
    "aws:route53/zone:Zone": "Route53 Hosted Zone",
    "aws:route53/healthCheck:HealthCheck": "Route53 Health Check",
    "aws:route53/record:Record": "Route53 Record",
    "aws:dynamodb/table:Table": "DynamoDB Table",
    "aws:dynamodb/tableItem:TableItem": "DynamoDB Table Item",
    "aws:ssm/parameter:Parameter": "SSM Parameter",
}

#: Inputs whose change means a new resource (as the provider marks them ForceNew).
REPLACE_ON: dict[str, tuple[str, ...]] = {
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:dynamodb/table:Table": ("name", "hashKey", "rangeKey"),
    "aws:route53/zone:Zone": ("name",),
    "aws:route53/healthCheck:HealthCheck": ("type", "requestInterval", "ipAddress", "fqdn"),
    "aws:iam/role:Role": ("name",),
    "aws:ssm/parameter:Parameter": ("name",),
    "aws:dynamodb/tableItem:TableItem": ("tableName", "hashKey"),
}

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_TABLE = re.compile(r"^[a-zA-Z0-9_.-]{3,255}$")


def describe(typ: str, ident: str) -> str:
    """``S3 Bucket (name)``: a resource as the provider's messages name it."""
    return f"{NOUNS.get(typ, typ)} ({ident})"


def _identity(typ: str, name: str, inputs: Mapping[str, Any]) -> str:
    for key in ("bucket", "name", "tableName"):
        if isinstance(inputs.get(key), str):
            return str(inputs[key])
    return name


def validate(typ: str, name: str, inputs: Mapping[str, Any], *, lab: bool,
             preview: bool = False) -> None:
    """Refuse what AWS or the provider would refuse (see the module docstring).

    The provider's schema checks run in a preview too; AWS's own checks (a health check's
    target) only when creating, as AWS makes them.

    Raises:
        ProvisionError: naming the resource, the offending value and what is allowed.
    """
    check = _VALIDATORS.get(typ)
    problem = check(inputs, lab or preview) if check is not None else None
    if problem:
        raise ProvisionError(f"{describe(typ, _identity(typ, name, inputs))}: {problem}",
                             type=typ, resource=name)


def _bucket_name(inputs: Mapping[str, Any], lab: bool) -> str | None:
    bucket = str(inputs.get("bucket", ""))
    if not _BUCKET.match(bucket) or ".." in bucket or _is_ip(bucket):
        return (f"invalid bucket name {bucket!r}: only lowercase alphanumeric characters, "
                "hyphens and periods, 3 to 63 characters, beginning and ending with a letter "
                "or digit, not an IP address")
    return None


def _table_name(inputs: Mapping[str, Any], lab: bool) -> str | None:
    table = str(inputs.get("name", ""))
    if not _TABLE.match(table):
        return (f"invalid value for name {table!r} (must only include alphanumeric, "
                "underscore, period, or hyphen characters, 3 to 255 of them)")
    return None


def _health_check(inputs: Mapping[str, Any], lab: bool) -> str | None:
    interval = int(inputs.get("requestInterval", 30))
    if interval not in (10, 30):
        return f"expected request_interval to be one of [10 30], got {interval}"
    threshold = int(inputs.get("failureThreshold", 3))
    if not 1 <= threshold <= 10:
        return f"expected failure_threshold to be in the range (1 - 10), got {threshold}"
    target = str(inputs.get("ipAddress") or inputs.get("fqdn") or "")
    if not lab and _non_public(target):
        return (f"InvalidInput: health check target {target!r} is not a public address; "
                "Route 53 health checkers probe from the internet")
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _non_public(target: str) -> bool:
    if target.rstrip(".").lower() in ("localhost",):
        return True
    try:
        ip = ipaddress.ip_address(target)
    except ValueError:
        return False
    return not ip.is_global


_VALIDATORS: dict[str, Callable[[Mapping[str, Any], bool], str | None]] = {
    "aws:s3/bucket:Bucket": _bucket_name,
    "aws:dynamodb/table:Table": _table_name,
    "aws:route53/healthCheck:HealthCheck": _health_check,
}


# -- updates in place --------------------------------------------------------------------
Updater = Callable[[Target, str, dict[str, Any], Mapping[str, Any]], tuple[str, dict[str, Any]]]


def _update_bucket(t: Target, name: str, i: dict[str, Any],
                   prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    s3 = t.client("s3")
    if i.get("tags"):
        s3.put_bucket_tagging(Bucket=i["bucket"], Tagging={"TagSet": _tags(i["tags"])})
    else:
        s3.delete_bucket_tagging(Bucket=i["bucket"])
    return i["bucket"], {}


def _update_key(t: Target, name: str, i: dict[str, Any],
                prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    key_id = str(prev["id"])
    t.client("kms").update_key_description(KeyId=key_id,
                                           Description=i.get("description", name))
    return key_id, {}


def _update_role(t: Target, name: str, i: dict[str, Any],
                 prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    t.client("iam").update_assume_role_policy(RoleName=i["name"],
                                              PolicyDocument=i["assumeRolePolicy"])
    return i["name"], {}


def _update_health_check(t: Target, name: str, i: dict[str, Any],
                         prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    kwargs: dict[str, Any] = {"HealthCheckId": str(prev["id"]), "Port": int(i.get("port", 443)),
                              "FailureThreshold": int(i.get("failureThreshold", 3))}
    if i.get("resourcePath"):
        kwargs["ResourcePath"] = i["resourcePath"]
    t.client("route53").update_health_check(**kwargs)
    return str(prev["id"]), {}


def _update_record(t: Target, name: str, i: dict[str, Any],
                   prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    old, new = record_set(prev["inputs"]), record_set(i)
    same = all(old.get(k) == new.get(k) for k in ("Name", "Type", "SetIdentifier"))
    changes = ([{"Action": "UPSERT", "ResourceRecordSet": new}] if same and
               prev["inputs"].get("zoneId") == i["zoneId"] else None)
    if changes is None:
        t.client("route53").change_resource_record_sets(
            HostedZoneId=prev["inputs"]["zoneId"],
            ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": old}]})
        changes = [{"Action": "CREATE", "ResourceRecordSet": new}]
    t.client("route53").change_resource_record_sets(HostedZoneId=i["zoneId"],
                                                    ChangeBatch={"Changes": changes})
    rid = "_".join([i["zoneId"], i["name"], i["type"], i.get("setIdentifier", "")])
    return rid, {"fqdn": i["name"]}


def _update_parameter(t: Target, name: str, i: dict[str, Any],
                      prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    ssm = t.client("ssm")
    ssm.put_parameter(Name=i["name"], Value=i["value"], Type=i.get("type", "String"),
                      Description=i.get("description", ""), Overwrite=True)
    meta = ssm.get_parameter(Name=i["name"])["Parameter"]
    return i["name"], {"arn": meta["ARN"], "version": meta["Version"]}


def _update_item(t: Target, name: str, i: dict[str, Any],
                 prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    item = json.loads(i["item"])
    t.client("dynamodb").put_item(TableName=i["tableName"], Item=item)
    key = next(iter(item[i["hashKey"]].values()))
    return f"{i['tableName']}|{key}", {}


def _no_change(t: Target, name: str, i: dict[str, Any],
               prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return str(prev["id"]), {}


def _put_again(typ: str) -> Updater:
    """Put-style resources (a configuration of a bucket, a role policy): write them again."""
    def update(t: Target, name: str, i: dict[str, Any],
               prev: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        return HANDLERS[typ](t, name, i)
    return update


UPDATERS: dict[str, Updater] = {
    "aws:kms/key:Key": _update_key,
    "aws:s3/bucket:Bucket": _update_bucket,
    "aws:iam/role:Role": _update_role,
    "aws:route53/zone:Zone": _no_change,
    "aws:route53/healthCheck:HealthCheck": _update_health_check,
    "aws:route53/record:Record": _update_record,
    "aws:dynamodb/table:Table": _no_change,
    "aws:dynamodb/tableItem:TableItem": _update_item,
    "aws:ssm/parameter:Parameter": _update_parameter,
    **{typ: _put_again(typ) for typ in (
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "aws:iam/rolePolicy:RolePolicy")},
}


# -- deletes -----------------------------------------------------------------------------
Deleter = Callable[[Target, Mapping[str, Any]], None]


def _delete_bucket(t: Target, r: Mapping[str, Any]) -> None:
    s3, bucket = t.client("s3"), r["inputs"]["bucket"]
    if r["inputs"].get("forceDestroy"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
    s3.delete_bucket(Bucket=bucket)


def _delete_zone(t: Target, r: Mapping[str, Any]) -> None:
    r53, zone_id = t.client("route53"), str(r["id"])
    if r["inputs"].get("forceDestroy"):
        sets = r53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
        doomed = [s for s in sets if s["Type"] not in ("NS", "SOA")]
        if doomed:
            r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
                {"Action": "DELETE", "ResourceRecordSet": s} for s in doomed]})
    r53.delete_hosted_zone(Id=zone_id)


def _delete_role(t: Target, r: Mapping[str, Any]) -> None:
    iam, role = t.client("iam"), r["inputs"]["name"]
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=policy)
    iam.delete_role(RoleName=role)


def _delete_item(t: Target, r: Mapping[str, Any]) -> None:
    item = json.loads(r["inputs"]["item"])
    key = r["inputs"]["hashKey"]
    t.client("dynamodb").delete_item(TableName=r["inputs"]["tableName"],
                                     Key={key: item[key]})


def _call(service: str, operation: str, **fixed: Any) -> Deleter:
    def delete(t: Target, r: Mapping[str, Any]) -> None:
        i = r["inputs"]
        params = {k: (i[v[1:]] if isinstance(v, str) and v.startswith("@") else
                      r["id"] if v == "#id" else v) for k, v in fixed.items()}
        getattr(t.client(service), operation)(**params)
    return delete


DELETERS: dict[str, Deleter] = {
    "aws:kms/key:Key": _call("kms", "schedule_key_deletion", KeyId="#id",
                             PendingWindowInDays=7),
    "aws:s3/bucket:Bucket": _delete_bucket,
    "aws:s3/bucketVersioning:BucketVersioning": lambda t, r: None,  # goes with the bucket
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        _call("s3", "delete_bucket_encryption", Bucket="@bucket"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        _call("s3", "delete_public_access_block", Bucket="@bucket"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
        _call("s3", "delete_bucket_lifecycle", Bucket="@bucket"),
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
        _call("s3", "delete_bucket_replication", Bucket="@bucket"),
    "aws:iam/role:Role": _delete_role,
    "aws:iam/rolePolicy:RolePolicy": _call("iam", "delete_role_policy", RoleName="@role",
                                           PolicyName="@name"),
    "aws:route53/zone:Zone": _delete_zone,
    "aws:route53/healthCheck:HealthCheck": _call("route53", "delete_health_check",
                                                 HealthCheckId="#id"),
    "aws:route53/record:Record": lambda t, r: t.client("route53").change_resource_record_sets(
        HostedZoneId=r["inputs"]["zoneId"], ChangeBatch={"Changes": [
            {"Action": "DELETE", "ResourceRecordSet": record_set(r["inputs"])}]}),
    "aws:dynamodb/table:Table": _call("dynamodb", "delete_table", TableName="@name"),
    "aws:dynamodb/tableItem:TableItem": _delete_item,
    "aws:ssm/parameter:Parameter": _call("ssm", "delete_parameter", Name="@name"),
}

#: Deletion order: dependents before what they depend on.
DELETE_ORDER: tuple[str, ...] = (
    "aws:route53/record:Record", "aws:route53/healthCheck:HealthCheck", "aws:route53/zone:Zone",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/role:Role",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucket:Bucket", "aws:kms/key:Key",
    "aws:dynamodb/tableItem:TableItem", "aws:ssm/parameter:Parameter",
    "aws:dynamodb/table:Table",
)
