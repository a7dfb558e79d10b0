"""``Database``: one DynamoDB table per replica site of a database service.

moto ignores global tables, so each site gets its own table; copying items between them is
georesil's job (the drills), not the provider's.
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
        for replica in args.replicas:
            self.tables[replica.site] = aws.dynamodb.Table(
                f"{name}-{replica.site}", name=replica.table_name,
                billing_mode="PAY_PER_REQUEST", hash_key="pk", range_key="sk",
                attributes=[aws.dynamodb.TableAttributeArgs(name="pk", type="S"),
                            aws.dynamodb.TableAttributeArgs(name="sk", type="S")],
                stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES",
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                deletion_protection_enabled=args.protect,
                tags={**args.tags, "georesil:service": args.service,
                      "georesil:site": replica.site, "georesil:role": replica.role},
                opts=pulumi.ResourceOptions(parent=self, provider=replica.provider,
                                            protect=args.protect,
                                            retain_on_delete=args.protect),
            )
        self.register_outputs({"tables": {s: t.name for s, t in self.tables.items()}})
