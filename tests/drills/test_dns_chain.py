"""Failover chains (Route 53's one SECONDARY per name): reading them and moving the head."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from georesil.drills.actions import DnsArgs, dns_set_primary
from georesil.drills.context import DrillContext
from georesil.drills.environment import Environment
from georesil.drills.observe import failover_records
from georesil.drills.runbook import Mode


def _chain_of_three(env: Environment) -> DrillContext:
    """Rebuild the store's records as a chain north → south → east (east: a third replica)."""
    ctx = DrillContext(env, "t", ("store",), {"store": "north"}, "south", Mode.PLANNED,
                       Path("."))
    records = failover_records(ctx, "store")
    name = records.name.rstrip(".")
    first, _, zone = name.partition(".")
    link = f"{first}-failover-1.{zone}"
    north = next(r for r in records.raw if r["SetIdentifier"] == "store-north")
    south = next(r for r in records.raw if r["SetIdentifier"] == "store-south")
    east = {**south, "SetIdentifier": "store-east", "ResourceRecords": [{"Value": "east.x"}]}
    east.pop("HealthCheckId", None)
    changes = [{"Action": "DELETE", "ResourceRecordSet": south},
               {"Action": "CREATE", "ResourceRecordSet": {
                   "Name": name, "Type": north["Type"], "SetIdentifier": "store-south",
                   "Failover": "SECONDARY", "AliasTarget": {
                       "HostedZoneId": records.zone_id, "DNSName": link,
                       "EvaluateTargetHealth": True}}},
               {"Action": "CREATE", "ResourceRecordSet": {**south, "Name": link,
                                                          "Failover": "PRIMARY"}},
               {"Action": "CREATE", "ResourceRecordSet": {**east, "Name": link,
                                                          "Failover": "SECONDARY"}}]
    env.clients.call("north", "route53", "change_resource_record_sets",
                     HostedZoneId=records.zone_id, ChangeBatch={"Changes": changes})
    return ctx


def test_chain_is_read_in_failover_order(env: Environment, workdir: Path) -> None:
    """PRIMARY, then the SECONDARY alias followed to the next name's PRIMARY and SECONDARY."""
    ctx = _chain_of_three(env)
    records = failover_records(ctx, "store")
    assert records.chain == ("north", "south", "east") and len(records.names) == 2


@pytest.mark.parametrize("moves", list(itertools.permutations(["south", "east", "north"])))
def test_moving_the_head_keeps_the_rest_in_order(env: Environment, workdir: Path,
                                                 moves: tuple[str, ...]) -> None:
    """Each dns.set_primary puts the site first and the others in the topology's replica
    order (north, south; east is not in the mini topology: last), two names long."""
    ctx = _chain_of_three(env)
    for site in moves:
        dns_set_primary(ctx, DnsArgs(service="store", site=site))
        expected = [site, *(s for s in ("north", "south", "east") if s != site)]
        records = failover_records(ctx, "store")
        assert list(records.chain) == expected and len(records.names) == 2
