"""Pulumi components, one per concern, each built from the topology by ``build_stack``."""

from __future__ import annotations

from georesil.provision.components.control_plane import ControlPlane, ControlPlaneArgs
from georesil.provision.components.database import Database, DatabaseArgs, TableReplica
from georesil.provision.components.failover_dns import (
    FailoverDns,
    FailoverDnsArgs,
    FailoverService,
    ReplicaTarget,
    chain_names,
)
from georesil.provision.components.mirrored_bucket import (
    BucketReplica,
    MirroredBucket,
    MirroredBucketArgs,
)

__all__ = [
    "BucketReplica",
    "ControlPlane",
    "ControlPlaneArgs",
    "Database",
    "DatabaseArgs",
    "FailoverDns",
    "FailoverDnsArgs",
    "FailoverService",
    "MirroredBucket",
    "MirroredBucketArgs",
    "ReplicaTarget",
    "TableReplica",
    "chain_names",
]
