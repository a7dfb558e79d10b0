"""The moto-backed engine: run the Pulumi program under mocks that create every resource for real.

``MotoEngine`` is a :class:`pulumi.runtime.Mocks` whose ``new_resource`` calls boto3 against moto —
a moto server per site (the provider's endpoint URL) or in-process ``moto.mock_aws()`` (a provider
without one) — and returns the real ids and ARNs, so the same program that ``pulumi up`` would
run provisions a local lab. Pulumi calls mocks from a thread pool: clients are cached per
(endpoint, region, service, key) under a lock and every shared table is guarded.

:func:`provision_moto` previews first (creating nothing), runs the policy checks on the planned
resources, then provisions for real and checks again with the real ids.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import structlog

from georesil.errors import GeoresilError, ProvisionError
from georesil.provision.outputs import StackOutputs
from georesil.provision.stack import StackConfig, build_stack, resolve_endpoints

if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs

    from georesil.model import Topology

__all__ = ["PROJECT", "MotoEngine", "ProvisionResult", "ResourceRecord", "provision_moto"]

log = structlog.get_logger(__name__)

#: The Pulumi project name used for URNs.
PROJECT = "georesil"
#: Credentials every moto client signs with; moto accepts any.
LAB_CREDENTIALS = ("testing", "testing")
_PROVIDER_TYPE = "pulumi:providers:aws"
_RUN_LOCK = threading.Lock()
#: Threads the Pulumi runtime may use to call the mocks concurrently.
_WORKERS = 8


@dataclass(frozen=True)
class ResourceRecord:
    """One resource the program registered, with its unwrapped inputs and its outputs.

    ``ref`` is ``type::name``: unique in a stack because georesil names are unique per type.
    """

    ref: str
    type: str
    name: str
    id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    site: str | None = None

    @property
    def custom(self) -> bool:
        return not self.type.startswith("georesil:")


@dataclass(frozen=True)
class ProvisionResult:
    """What a provision did: the stack outputs and every registered resource."""

    stack: str
    preview: bool
    outputs: dict[str, Any]
    resources: tuple[ResourceRecord, ...]
    duration_s: float
    in_process: bool
    policy_rules: tuple[str, ...] = ()

    @property
    def stack_outputs(self) -> StackOutputs:
        return StackOutputs(self.outputs)

    def of_type(self, type_: str) -> list[ResourceRecord]:
        """Registered resources of one type token, by name."""
        return [r for r in self.resources if r.type == type_]

    def counts(self) -> dict[str, int]:
        """Number of resources per type token (providers and components included)."""
        out: dict[str, int] = {}
        for r in self.resources:
            out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))


@dataclass(frozen=True)
class _Target:
    """Where a provider sends requests."""

    site: str | None
    region: str
    url: str | None
    access_key: str
    secret_key: str


_Handler = Callable[["MotoEngine", _Target, str, dict[str, Any]], tuple[str, dict[str, Any]]]


def _unwrap(value: Any) -> Any:
    """Replace Pulumi secret envelopes with their plain values, recursively."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _in_process_moto_active() -> bool:
    try:
        from moto.core.models import MockAWS
    except ImportError:  # pragma: no cover - moto is a dependency
        return False
    return bool(getattr(MockAWS, "_mocks_active", False))


@functools.cache
def _known_regions() -> frozenset[str]:
    """Regions every service georesil uses exists in, as in-process moto knows them."""
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session()
    services = ("s3", "kms", "dynamodb", "ssm")
    return frozenset.intersection(*(frozenset(session.get_available_regions(s))
                                    for s in services))


def _tags(tags: Mapping[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict]:
    return [{key: k, value: v} for k, v in sorted((tags or {}).items())]


def _base_mocks() -> type:
    import pulumi

    return pulumi.runtime.Mocks


class MotoEngine(_base_mocks()):  # type: ignore[misc]
    """Pulumi mocks that create each resource in moto through boto3.

    Args:
        preview: When true nothing is created: ids and ARNs are deterministic placeholders.
    """

    def __init__(self, *, preview: bool = False) -> None:
        self.preview = preview
        self._lock = threading.Lock()
        self._targets: dict[str, _Target] = {}
        self.records: list[ResourceRecord] = []
        self.errors: list[BaseException] = []

    # -- the Mocks interface -----------------------------------------------------------
    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        error = ProvisionError(
            f"the moto engine implements no provider function {args.token!r}; georesil "
            "programs declare resources only", token=args.token)
        self._fail(error)
        raise error

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        try:
            return self._new_resource(args)
        except BaseException as exc:
            self._fail(exc)
            raise

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)

    def _new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        inputs = _unwrap(dict(args.inputs))
        if args.typ == _PROVIDER_TYPE:
            return self._provider(args.name, inputs)
        target = None
        outputs: dict[str, Any]
        if not args.custom:  # a component: nothing to create
            rid, outputs = args.name, {}
        else:
            target = self._target(args.typ, args.name, args.provider)
            handler = HANDLERS.get(args.typ)
            if handler is None:
                raise ProvisionError(
                    f"the moto engine has no handler for resource type {args.typ!r} (resource "
                    f"{args.name!r}); handled types: {', '.join(sorted(HANDLERS))}",
                    type=args.typ, resource=args.name)
            if self.preview:
                rid, outputs = _preview_state(args.typ, args.name, inputs, target)
            else:
                rid, outputs = self._create(handler, target, args.typ, args.name, inputs)
        state = {**inputs, **outputs}
        self._record(args, rid, inputs, state, target)
        return rid, state

    def _create(self, handler: _Handler, target: _Target, typ: str, name: str,
                inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        started = time.perf_counter()
        try:
            rid, outputs = handler(self, target, name, inputs)
        except (ClientError, BotoCoreError) as exc:
            hint = ""
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get(
                "HTTPStatusCode")
            if status == 500 and target.url is not None and target.region not in _known_regions():
                hint = (f"; the site signs for region {target.region!r}, which a moto server "
                        "only accepts when started with MOTO_ALLOW_NONEXISTENT_REGION=true")
            raise ProvisionError(
                f"creating {typ} {name!r} at site {target.site!r} "
                f"({target.url or 'in-process moto'}) failed: {exc}{hint}",
                type=typ, resource=name, site=target.site, region=target.region) from exc
        log.debug("resource.created", type=typ, resource=name, site=target.site, id=rid,
                  duration_s=round(time.perf_counter() - started, 4))
        return rid, outputs

    def _record(self, args: MockResourceArgs, rid: str, inputs: dict, state: dict,
                target: _Target | None) -> None:
        record = ResourceRecord(
            ref=f"{args.typ}::{args.name}", type=args.typ, name=args.name, id=rid,
            inputs=inputs, outputs=state, site=target.site if target else None)
        with self._lock:
            self.records.append(record)

    # -- providers and clients -----------------------------------------------------------
    def _provider(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict]:
        endpoints = inputs.get("endpoints") or []
        if isinstance(endpoints, str):
            endpoints = json.loads(endpoints)
        url = next((e.get("s3") for e in endpoints if isinstance(e, dict) and e.get("s3")), None)
        key, secret = inputs.get("accessKey"), inputs.get("secretKey")
        region = str(inputs.get("region") or "us-east-1")
        if url is None and region not in _known_regions():
            # In-process moto only knows AWS's regions; a private region label (tw-south-1)
            # falls back to one it knows. Names are unique per site, so nothing collides.
            region = "us-east-1"
        target = _Target(
            site=name.removeprefix("site-"), region=region,
            url=url, access_key=str(key or LAB_CREDENTIALS[0]),
            secret_key=str(secret or LAB_CREDENTIALS[1]))
        rid = f"{name}-provider"
        with self._lock:
            self._targets[rid] = target
        public = {k: v for k, v in inputs.items() if k not in ("accessKey", "secretKey")}
        record = ResourceRecord(f"{_PROVIDER_TYPE}::{name}", _PROVIDER_TYPE, name, rid, public,
                                public, target.site)
        with self._lock:
            self.records.append(record)
        return rid, public

    def _target(self, typ: str, name: str, provider_ref: str | None) -> _Target:
        rid = (provider_ref or "").rsplit("::", 1)[-1]
        with self._lock:
            target = self._targets.get(rid)
        if target is None:
            raise ProvisionError(
                f"{typ} {name!r} has no explicit aws.Provider (got {provider_ref!r}); every "
                "georesil resource must name its site's provider", type=typ, resource=name)
        if target.url is None and not self.preview and not _in_process_moto_active():
            raise ProvisionError(
                f"{typ} {name!r}: site {target.site!r} has no endpoint URL and in-process moto "
                "is not active; refusing to call real AWS from the moto engine",
                type=typ, resource=name, site=target.site)
        return target

    def client(self, target: _Target, service: str) -> Any:
        """A boto3 client for ``service`` at ``target``, cached and shared between threads."""
        return _client(target.url, target.region, service, target.access_key, target.secret_key)


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


def _preview_state(typ: str, name: str, inputs: dict[str, Any],
                   target: _Target) -> tuple[str, dict[str, Any]]:
    """Deterministic placeholder ids and ARNs for a preview: nothing is created."""
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs["bucket"]
        return bucket, {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket}
    rid = f"preview-{name}"
    return rid, {"arn": f"arn:aws:preview:{target.region}::{typ}/{name}", "zoneId": rid,
                 "name": inputs.get("name", rid)}


def _exists(exc: Exception, *codes: str) -> bool:
    from botocore.exceptions import ClientError  # type: ignore[import-untyped]

    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in codes


# -- handlers, one per resource type ------------------------------------------------------
def _kms_key(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    kms = engine.client(t, "kms")
    meta = kms.create_key(Description=i.get("description", name), KeyUsage="ENCRYPT_DECRYPT",
                          Tags=_tags(i.get("tags"), "TagKey", "TagValue"))["KeyMetadata"]
    if i.get("enableKeyRotation"):
        kms.enable_key_rotation(KeyId=meta["KeyId"])
    return meta["KeyId"], {"arn": meta["Arn"], "keyId": meta["KeyId"]}


def _s3_bucket(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    s3, bucket = engine.client(t, "s3"), i["bucket"]
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if t.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": t.region}
    try:
        s3.create_bucket(**kwargs)
    except Exception as exc:
        if not _exists(exc, "BucketAlreadyOwnedByYou"):
            raise
    if i.get("tags"):
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags(i["tags"])})
    return bucket, {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket, "region": t.region,
                    "bucketDomainName": f"{bucket}.s3.amazonaws.com"}


def _s3_versioning(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    engine.client(t, "s3").put_bucket_versioning(
        Bucket=i["bucket"],
        VersioningConfiguration={"Status": i["versioningConfiguration"]["status"]})
    return i["bucket"], {}


def _s3_encryption(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    rules = []
    for rule in i.get("rules", []):
        default = rule.get("applyServerSideEncryptionByDefault", {})
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        rules.append({"ApplyServerSideEncryptionByDefault": by_default,
                      "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled", False))})
    engine.client(t, "s3").put_bucket_encryption(
        Bucket=i["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})
    return i["bucket"], {}


def _s3_public_access_block(engine: MotoEngine, t: _Target, name: str,
                            i: dict) -> tuple[str, dict]:
    engine.client(t, "s3").put_public_access_block(
        Bucket=i["bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets"))})
    return i["bucket"], {}


def _s3_lifecycle(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
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
    engine.client(t, "s3").put_bucket_lifecycle_configuration(
        Bucket=i["bucket"], LifecycleConfiguration={"Rules": rules})
    return i["bucket"], {}


def _status(block: Mapping[str, Any] | None) -> dict[str, str]:
    return {"Status": (block or {}).get("status", "Disabled")}


def _s3_replication(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    rules = []
    for rule in i.get("rules", []):
        dest = rule["destination"]
        destination: dict[str, Any] = {"Bucket": dest["bucket"]}
        if dest.get("storageClass"):
            destination["StorageClass"] = dest["storageClass"]
        replica_key = dest.get("encryptionConfiguration", {}).get("replicaKmsKeyId")
        if replica_key:
            destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": replica_key}
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
    engine.client(t, "s3").put_bucket_replication(
        Bucket=i["bucket"], ReplicationConfiguration={"Role": i["role"], "Rules": rules})
    return i["bucket"], {}


def _iam_role(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    iam, role = engine.client(t, "iam"), i["name"]
    try:
        meta = iam.create_role(RoleName=role, AssumeRolePolicyDocument=i["assumeRolePolicy"],
                               Tags=_tags(i.get("tags")))["Role"]
    except Exception as exc:
        if not _exists(exc, "EntityAlreadyExists"):
            raise
        meta = iam.get_role(RoleName=role)["Role"]
    return role, {"arn": meta["Arn"], "name": role, "uniqueId": meta["RoleId"]}


def _iam_role_policy(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    engine.client(t, "iam").put_role_policy(RoleName=i["role"], PolicyName=i["name"],
                                            PolicyDocument=i["policy"])
    return f"{i['role']}:{i['name']}", {}


def _route53_zone(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    r53, zone = engine.client(t, "route53"), i["name"].rstrip(".")
    found = r53.list_hosted_zones_by_name(DNSName=zone, MaxItems="1")["HostedZones"]
    if found and found[0]["Name"].rstrip(".") == zone:
        zone_id = found[0]["Id"].rsplit("/", 1)[-1]
    else:
        created = r53.create_hosted_zone(
            Name=zone, CallerReference=f"georesil-{zone}-{time.time_ns()}",
            HostedZoneConfig={"Comment": i.get("comment", ""), "PrivateZone": False})
        zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    servers = r53.get_hosted_zone(Id=zone_id).get("DelegationSet", {}).get("NameServers", [])
    return zone_id, {"zoneId": zone_id, "nameServers": servers,
                     "arn": f"arn:aws:route53:::hostedzone/{zone_id}"}


def _route53_health_check(engine: MotoEngine, t: _Target, name: str,
                          i: dict) -> tuple[str, dict]:
    config: dict[str, Any] = {"Type": i["type"], "Port": int(i.get("port", 443)),
                              "ResourcePath": i.get("resourcePath", "/"),
                              "RequestInterval": int(i.get("requestInterval", 30)),
                              "FailureThreshold": int(i.get("failureThreshold", 3))}
    if i.get("ipAddress"):
        config["IPAddress"] = i["ipAddress"]
    if i.get("fqdn"):
        config["FullyQualifiedDomainName"] = i["fqdn"]
    check = engine.client(t, "route53").create_health_check(
        CallerReference=f"georesil-{name}-{time.time_ns()}", HealthCheckConfig=config)
    check_id = check["HealthCheck"]["Id"]
    return check_id, {"arn": f"arn:aws:route53:::healthcheck/{check_id}"}


def _route53_record(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    record: dict[str, Any] = {"Name": i["name"], "Type": i["type"], "TTL": int(i.get("ttl", 60)),
                              "ResourceRecords": [{"Value": v} for v in i.get("records", [])]}
    if i.get("setIdentifier"):
        record["SetIdentifier"] = i["setIdentifier"]
    policies = i.get("failoverRoutingPolicies") or []
    if policies:
        record["Failover"] = policies[0]["type"]
    if i.get("healthCheckId"):
        record["HealthCheckId"] = i["healthCheckId"]
    engine.client(t, "route53").change_resource_record_sets(
        HostedZoneId=i["zoneId"],
        ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})
    rid = "_".join([i["zoneId"], i["name"], i["type"], i.get("setIdentifier", "")])
    return rid, {"fqdn": i["name"]}


def _dynamodb_table(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    ddb, table = engine.client(t, "dynamodb"), i["name"]
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
    try:
        desc = ddb.create_table(**kwargs)["TableDescription"]
    except Exception as exc:
        if not _exists(exc, "ResourceInUseException"):
            raise
        desc = ddb.describe_table(TableName=table)["Table"]
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return table, {"arn": desc["TableArn"], "name": table,
                   "streamArn": desc.get("LatestStreamArn", "")}


def _dynamodb_item(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    item = json.loads(i["item"])
    try:
        # Never overwrite: a failover may have moved the register since the first provision.
        engine.client(t, "dynamodb").put_item(
            TableName=i["tableName"], Item=item, ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": i["hashKey"]})
    except Exception as exc:
        if not _exists(exc, "ConditionalCheckFailedException"):
            raise
    key = next(iter(item[i["hashKey"]].values()))
    return f"{i['tableName']}|{key}", {}


def _ssm_parameter(engine: MotoEngine, t: _Target, name: str, i: dict) -> tuple[str, dict]:
    ssm = engine.client(t, "ssm")
    try:
        ssm.put_parameter(Name=i["name"], Value=i["value"], Type=i.get("type", "String"),
                          Description=i.get("description", ""), Tags=_tags(i.get("tags")))
    except Exception as exc:
        if not _exists(exc, "ParameterAlreadyExists"):
            raise
    meta = ssm.get_parameter(Name=i["name"])["Parameter"]
    return i["name"], {"arn": meta["ARN"], "version": meta["Version"]}


#: Resource type token -> handler. Anything else is an error naming the type.
HANDLERS: dict[str, _Handler] = {
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


# -- running a program under the engine ---------------------------------------------------
def run_program(engine: MotoEngine, program: Callable[[], None], *, stack: str,
                preview: bool) -> dict[str, Any]:
    """Run ``program`` under ``engine`` in a fresh thread; return the resolved stack outputs.

    Pulumi keeps its settings in context variables and needs an event loop: a new thread
    starts with an empty context, so consecutive runs cannot see each other's stacks.

    Raises:
        The first error a resource handler raised, else the program's own error.
    """
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["outputs"] = _run_in_thread(engine, program, stack, preview)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            box["error"] = exc

    worker = threading.Thread(target=main, name="georesil-pulumi", daemon=True)
    with _RUN_LOCK:  # the Pulumi runtime keeps some process-wide state: one program at a time
        worker.start()
        worker.join()
    if engine.errors:
        raise engine.errors[0]
    error = box.get("error")
    if isinstance(error, GeoresilError):
        raise error
    if error is not None:
        raise ProvisionError(f"the Pulumi program failed: {type(error).__name__}: {error}",
                             stack=stack) from error
    return dict(box["outputs"])


def _run_in_thread(engine: MotoEngine, program: Callable[[], None], stack: str,
                   preview: bool) -> dict[str, Any]:
    import pulumi
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The mock monitor gives every executor thread an event loop of its own and never closes
    # it; owning the executor lets us close those loops (and their sockets) afterwards.
    worker_loops: list[asyncio.AbstractEventLoop] = []
    lock = threading.Lock()

    def init_worker() -> None:
        worker_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(worker_loop)
        with lock:
            worker_loops.append(worker_loop)

    executor = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="georesil-mock",
                                  initializer=init_worker)
    loop.set_default_executor(executor)
    captured: dict[str, Any] = {}
    try:
        pulumi.runtime.set_mocks(engine, project=PROJECT, stack=stack, preview=preview)
        # set_mocks leaves the pending-outputs set at its shared default, where a failed run
        # can leave tasks of its (now closed) loop; give this run a set of its own.
        SETTINGS.outputs = set()

        async def body() -> None:
            program()
            root = pulumi.runtime.get_root_resource()
            outputs = getattr(root, "outputs", {})
            captured.update(await pulumi.Output.from_input(dict(outputs)).future() or {})

        loop.run_until_complete(run_pulumi_func(body))
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        for worker_loop in worker_loops:
            worker_loop.close()
    return captured


def provision_moto(
    topology: Topology,
    endpoints: Mapping[str, str] | None = None,
    *,
    stack: str = "lab",
    preview: bool = False,
    in_process: bool = False,
    config: StackConfig | None = None,
) -> ProvisionResult:
    """Provision ``topology`` into moto and check the policy rules.

    Args:
        topology: The topology to provision.
        endpoints: Site id -> moto server URL; sites not named use the topology's endpoint
            URL, and sites with no URL at all go to in-process moto (``mock_aws``: started
            here if the caller has not, and then discarded when this returns).
        stack: Stack name, part of every physical name.
        preview: Plan only: run the program and the policy checks, create nothing.
        in_process: Ignore the topology's endpoint URLs: every site not in ``endpoints``
            goes to in-process moto.
        config: Further stack settings; ``stack`` and ``endpoints`` override its fields.

    Returns:
        The stack outputs (read them through ``result.stack_outputs``) and every resource.

    Raises:
        PolicyViolation: the planned resources break a rule; nothing was created.
        ProvisionError: a resource could not be created (the message names it).
        InvalidInput: an endpoint names an unknown site, or a replica site has no endpoint.
    """
    from georesil.provision.policy import RULES, check_policy

    base = config or StackConfig(force_destroy=True, default_region="us-east-1")
    cfg = replace(base, stack=stack, endpoints=dict(endpoints or {}),
                  credentials=base.credentials or LAB_CREDENTIALS,
                  topology_urls=base.topology_urls and not in_process)
    resolved = resolve_endpoints(topology, cfg)
    in_process = any(ep.url is None and ep.region for ep in resolved.values())
    started = time.perf_counter()
    guard: AbstractContextManager[Any] = nullcontext()
    if in_process and not preview:
        from moto import mock_aws

        guard = mock_aws()
    with guard:
        plan = _run(topology, cfg, preview=True)
        check_policy(topology, plan[1])
        if preview:
            result = plan
        else:
            result = _run(topology, cfg, preview=False)
            check_policy(topology, result[1])
    duration = time.perf_counter() - started
    log.info("provision.finished", stack=stack, preview=preview, resources=len(result[1]),
             in_process=in_process, duration_s=round(duration, 3))
    return ProvisionResult(stack, preview, result[0], result[1], duration, in_process,
                           tuple(RULES))


def _run(topology: Topology, cfg: StackConfig, *,
         preview: bool) -> tuple[dict[str, Any], tuple[ResourceRecord, ...]]:
    engine = MotoEngine(preview=preview)
    outputs = run_program(engine, lambda: build_stack(topology, cfg), stack=cfg.stack,
                          preview=preview)
    return outputs, tuple(sorted(engine.records, key=lambda r: (r.type, r.name)))
