"""``ControlPlane``: the state a drill needs.

A DynamoDB table holds drill locks and the active-site register (items written with conditional
expressions, so two drills cannot both take a lock). An SSM parameter per service names its
serving site. The register and the parameters are written once, at creation: they are declared
with ``ignore_changes`` on their value, so no later ``pulumi up`` (with or without
``--refresh``) writes the primary back over a failover.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from georesil.provision.outputs import CONTROL_HASH_KEY as HASH_KEY
from georesil.provision.outputs import register_key

__all__ = ["HASH_KEY", "ControlPlane", "ControlPlaneArgs", "register_key"]

TYPE_TOKEN = "georesil:provision:ControlPlane"

@dataclass(frozen=True)
class ControlPlaneArgs:
    """Inputs of a :class:`ControlPlane`.

    Attributes:
        table_name: Physical name of the control table.
        serving_sites: Service id -> the site serving it now (the primary at provision time).
        parameter_names: Service id -> SSM parameter name.
        provider: Provider of the control site.
    """

    table_name: str
    serving_sites: Mapping[str, str]
    parameter_names: Mapping[str, str]
    provider: aws.Provider
    protect: bool = True
    tags: Mapping[str, str] = field(default_factory=dict)


class ControlPlane(pulumi.ComponentResource):
    """The control table, the initial active-site register and the serving-site parameters."""

    table: aws.dynamodb.Table
    parameters: dict[str, aws.ssm.Parameter]

    def __init__(
        self, name: str, args: ControlPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.table = aws.dynamodb.Table(
            f"{name}-table", name=args.table_name, billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY, attributes=[aws.dynamodb.TableAttributeArgs(name=HASH_KEY,
                                                                           type="S")],
            deletion_protection_enabled=args.protect,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            tags=dict(args.tags), opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                protect=args.protect, retain_on_delete=args.protect)),
        )
        # Written once: a failover moves these, and no update may move them back.
        register = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            ignore_changes=["item"]))
        parameter = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
            ignore_changes=["value"]))
        self.parameters = {}
        for service, site in args.serving_sites.items():
            aws.dynamodb.TableItem(
                f"{name}-{service}-active-site", table_name=self.table.name, hash_key=HASH_KEY,
                item=json.dumps({HASH_KEY: {"S": register_key(service)}, "site": {"S": site},
                                 "epoch": {"N": "0"}}),
                opts=register,
            )
            self.parameters[service] = aws.ssm.Parameter(
                f"{name}-{service}-serving-site", name=args.parameter_names[service],
                type="String", value=site, description=f"site serving {service}",
                tags=dict(args.tags), opts=parameter,
            )
        self.register_outputs({
            "table_name": self.table.name,
            "parameters": {s: p.name for s, p in self.parameters.items()},
        })
