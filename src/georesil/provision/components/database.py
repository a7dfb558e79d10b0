"""``Database``: a database service's DynamoDB tables.

When every replica site is an AWS region (``global_regions``) the service gets one **global
table**: created at the primary with a replica in each other region (sites sharing a region
share its table). Otherwise each site that can host DynamoDB gets its own table and the
database replicates itself (see :mod:`georesil.model.replication`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

__all__ = ["Database", "DatabaseArgs", "TableReplica"]

TYPE_TOKEN = "georesil:provision:Database"


@dataclass(frozen=True)
class TableReplica:
    """Where one replica table lives."""

    site: str
    table_name: str
    provider: aws.Provider
    role: str


@dataclass(frozen=True)
class DatabaseArgs:
    """Inputs of a :class:`Database`: the service and its replica tables, primary first."""

    service: str
    replicas: Sequence[TableReplica]
    global_regions: Sequence[str] = ()
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class Database(pulumi.ComponentResource):
    """A database service's replica tables."""

    tables: dict[str, aws.dynamodb.Table]

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.tables = {}
        if args.global_regions:
            primary = args.replicas[0]
            table = self._table(name, args, primary, [
                aws.dynamodb.TableReplicaArgs(region_name=region)
                for region in args.global_regions])
            self.tables = {r.site: table for r in args.replicas}
        else:
            for replica in args.replicas:
                self.tables[replica.site] = self._table(f"{name}-{replica.site}", args,
                                                        replica, None)
        self.register_outputs({"tables": {s: t.name for s, t in self.tables.items()}})

    def _table(self, name: str, args: DatabaseArgs, replica: TableReplica,
               regions: list[aws.dynamodb.TableReplicaArgs] | None) -> aws.dynamodb.Table:
        return aws.dynamodb.Table(
            name, name=replica.table_name,
            billing_mode="PAY_PER_REQUEST", hash_key="pk", range_key="sk",
            attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S"),
                        aws.dynamodb.TableAttributeArgs(name="sk", type="S")],
            stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES",
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            deletion_protection_enabled=args.protect, replicas=regions,
            tags={**args.tags, "georesil:service": args.service,
                  "georesil:site": replica.site, "georesil:role": replica.role},
            opts=pulumi.ResourceOptions(parent=self, provider=replica.provider,
                                        protect=args.protect, retain_on_delete=args.protect),
        )
