"""``MirroredBucket``: one bucket per replica site, replicated from the primary to each secondary.

Every bucket is versioned, encrypted (with its site's KMS key where the site has KMS, else the
store's own SSE-S3 keys) and expires noncurrent versions; AWS buckets are also closed to the
public (S3-compatible stores differ in what they support). The primary replicates to each
secondary in an AWS region through S3 replication — with Replication Time Control and
replication metrics, delete markers and replica modifications included — through an IAM role
whose policy names exactly those buckets, keys and actions. Secondaries in an S3-compatible
store are kept in step by georesil's mirror instead (S3 replication reaches only AWS buckets):
see :mod:`georesil.model.replication`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

__all__ = ["BucketReplica", "MirroredBucket", "MirroredBucketArgs", "replication_policy"]

TYPE_TOKEN = "georesil:provision:MirroredBucket"
#: The only threshold S3 Replication Time Control accepts (minutes).
RTC_MINUTES = 15


@dataclass(frozen=True)
class BucketReplica:
    """Where one copy of the bucket lives."""

    site: str
    bucket_name: pulumi.Input[str]
    provider: aws.Provider
    kms_key_arn: pulumi.Input[str] | None
    aws_region: bool = True


@dataclass(frozen=True)
class MirroredBucketArgs:
    """Inputs of a :class:`MirroredBucket`.

    Attributes:
        service: The object-storage service id.
        primary: The replica that takes writes.
        secondaries: Every other replica, in topology order.
        replicated_by_s3: Sites among ``secondaries`` that S3 replication reaches (AWS to
            AWS); the others are mirrored by georesil.
        iam_provider: Provider for the (global) IAM role.
        role_name: Physical name of the replication role.
        noncurrent_days: Days after which a noncurrent version expires.
        force_destroy: Allow destroying non-empty buckets (labs only).
        protect: Protect the buckets (``destroy`` refuses them) and retain them when they
            leave the program.
        tags: Tags put on every bucket.
    """

    service: str
    primary: BucketReplica
    secondaries: Sequence[BucketReplica]
    replicated_by_s3: Sequence[str]
    iam_provider: aws.Provider
    role_name: str
    noncurrent_days: int = 30
    force_destroy: bool = False
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class MirroredBucket(pulumi.ComponentResource):
    """The buckets of one object-storage service and the replication between them."""

    buckets: dict[str, aws.s3.Bucket]
    role: aws.iam.Role | None

    def __init__(
        self, name: str, args: MirroredBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.buckets = {}
        versioning: dict[str, aws.s3.BucketVersioning] = {}
        for replica in (args.primary, *args.secondaries):
            bucket, versioned = self._replica(name, args, replica)
            self.buckets[replica.site] = bucket
            versioning[replica.site] = versioned
        self.role = None
        if args.replicated_by_s3:
            self.role = self._replication(name, args, versioning)
        self.register_outputs({
            "buckets": {site: b.bucket for site, b in self.buckets.items()},
            "role_arn": self.role.arn if self.role else None,
        })

    def _replica(
        self, name: str, args: MirroredBucketArgs, replica: BucketReplica
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        opts = pulumi.ResourceOptions(parent=self, provider=replica.provider)
        prefix = f"{name}-{replica.site}"
        bucket = aws.s3.Bucket(
            prefix, bucket=replica.bucket_name, force_destroy=args.force_destroy,
            tags={**args.tags, "georesil:service": args.service, "georesil:site": replica.site},
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
                protect=args.protect, retain_on_delete=args.protect)),
        )
        versioned = aws.s3.BucketVersioning(
            f"{prefix}-versioning", bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                status="Enabled"),
            opts=opts,
        )
        by_default = aws.s3.\
            BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=replica.kms_key_arn) \
            if replica.kms_key_arn is not None else aws.s3.\
            BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256")
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{prefix}-encryption", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=by_default,
                bucket_key_enabled=True if replica.kms_key_arn is not None else None,
            )],
            opts=opts,
        )
        if replica.aws_region:
            aws.s3.BucketPublicAccessBlock(
                f"{prefix}-public-access-block", bucket=bucket.id, block_public_acls=True,
                block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                opts=opts,
            )
        aws.s3.BucketLifecycleConfiguration(
            f"{prefix}-lifecycle", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.
                BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=args.noncurrent_days),
                abort_incomplete_multipart_upload=aws.s3.
                BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7),
            )],
            opts=pulumi.ResourceOptions(parent=self, provider=replica.provider,
                                        depends_on=[versioned]),
        )
        return bucket, versioned

    def _replication(
        self, name: str, args: MirroredBucketArgs,
        versioning: Mapping[str, aws.s3.BucketVersioning],
    ) -> aws.iam.Role:
        iam_opts = pulumi.ResourceOptions(parent=self, provider=args.iam_provider)
        role = aws.iam.Role(
            f"{name}-replication-role", name=args.role_name,
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "s3.amazonaws.com"}}],
            }),
            tags={**args.tags, "georesil:service": args.service},
            opts=iam_opts,
        )
        source = self.buckets[args.primary.site]
        # S3 replication runs between AWS regions only, and every AWS site has a KMS key.
        targets = [r for r in args.secondaries if r.site in args.replicated_by_s3
                   and r.kms_key_arn is not None]
        dests = [self.buckets[r.site] for r in targets]
        policy = pulumi.Output.all(
            source.arn, [b.arn for b in dests], args.primary.kms_key_arn,
            [r.kms_key_arn for r in targets],
        ).apply(lambda v: json.dumps(replication_policy(v[0], v[1], v[2], v[3])))
        role_policy = aws.iam.RolePolicy(
            f"{name}-replication-policy", role=role.id, name=f"{args.role_name}-policy",
            policy=policy, opts=iam_opts,
        )
        rules = [
            aws.s3.BucketReplicationConfigRuleArgs(
                id=f"to-{replica.site}", priority=i, status="Enabled",
                filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                delete_marker_replication=aws.s3.
                BucketReplicationConfigRuleDeleteMarkerReplicationArgs(status="Enabled"),
                source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                    replica_modifications=aws.s3.
                    BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs(
                        status="Enabled"),
                    sse_kms_encrypted_objects=aws.s3.
                    BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                        status="Enabled"),
                ),
                destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                    bucket=self.buckets[replica.site].arn, storage_class="STANDARD",
                    encryption_configuration=aws.s3.
                    BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                        replica_kms_key_id=replica.kms_key_arn or ""),
                    # Replication Time Control: AWS's 15-minute SLA; metrics are required
                    # with it and give the replication latency per rule.
                    replication_time=aws.s3.
                    BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                        status="Enabled",
                        time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                            minutes=RTC_MINUTES)),
                    metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                        status="Enabled",
                        event_threshold=aws.s3.
                        BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                            minutes=RTC_MINUTES)),
                ),
            )
            for i, replica in enumerate(targets, start=1)
        ]
        aws.s3.BucketReplicationConfig(
            f"{name}-replication", bucket=source.id, role=role.arn, rules=rules,
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.primary.provider,
                depends_on=[*versioning.values(), role_policy]),
        )
        return role


def replication_policy(
    source_arn: str, dest_arns: Sequence[str], source_key: str | None,
    dest_keys: Sequence[str | None],
) -> dict[str, Any]:
    """The replication role's policy: exactly these buckets, keys and actions.

    Object ARNs end in ``/*`` (every key of one named bucket); no action or resource is ``*``.
    """
    statements: list[dict[str, Any]] = [
        {"Sid": "ReadSourceConfiguration", "Effect": "Allow",
         "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
         "Resource": [source_arn]},
        {"Sid": "ReadSourceVersions", "Effect": "Allow",
         "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging"],
         "Resource": [f"{source_arn}/*"]},
        {"Sid": "WriteReplicas", "Effect": "Allow",
         "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [f"{arn}/*" for arn in dest_arns]},
    ]
    if source_key is not None:
        statements.append({"Sid": "DecryptSource", "Effect": "Allow", "Action": ["kms:Decrypt"],
                           "Resource": [source_key]})
    keys = sorted({k for k in dest_keys if k is not None})
    if keys:
        statements.append({"Sid": "EncryptReplicas", "Effect": "Allow",
                           "Action": ["kms:Encrypt"], "Resource": keys})
    return {"Version": "2012-10-17", "Statement": statements}
