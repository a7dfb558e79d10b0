"""A hand-built stack in in-process moto: what provisioning makes, in a few calls.

Provisioning through the Pulumi engine takes ~20 s in-process; unit tests of drill logic need
only the control table, the serving-site parameters, the buckets and the failover records,
under the same output keys (:mod:`georesil.provision.outputs`).
"""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass, field
from typing import Any

from georesil.cloud import Credentials, SiteClients, retry_policy
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.drills.safety import acquire_lock, release_lock
from georesil.model import Topology, topology_from_dict
from georesil.provision import outputs as keys
from georesil.provision.outputs import StackOutputs

MINI: dict[str, Any] = {
    "version": 1,
    "name": "mini",
    "sites": [
        {"id": "north", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
         "endpoint": {"aws_region": "ap-northeast-1"}},
        {"id": "south", "region": "south", "location": {"lat": 23.0, "lon": 120.3},
         "endpoint": {"aws_region": "ap-southeast-1"}},
    ],
    "links": [{"id": "l1", "a": "north", "b": "south"}],
    "services": [
        {"id": "store", "kind": "object-storage", "tier": 1, "rto_s": 900, "rpo_s": 300,
         "failover_s": 600, "dns_name": "store.mini.tw",
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "async",
                       "lag_s": 60}]},
        {"id": "api", "kind": "compute", "tier": 1, "rto_s": 300, "rpo_s": 60,
         "failover_s": 120, "dns_name": "api.mini.tw",
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "async",
                       "lag_s": 0}]},
    ],
}


def mini_topology() -> Topology:
    return topology_from_dict(copy.deepcopy(MINI))


@dataclass
class FakeLab:
    """Records kills and revives (in-process moto cannot go dark)."""

    calls: list[tuple[str, str]] = field(default_factory=list)

    def kill(self, site: str) -> None:
        self.calls.append(("kill", site))

    def revive(self, site: str) -> None:
        self.calls.append(("revive", site))


def build_stack(clients: SiteClients, topology: Topology, tag: str) -> StackOutputs:
    """Create the control plane, buckets and failover records (names end in ``tag``)."""
    table = f"control-{tag}"
    out: dict[str, Any] = {keys.CONTROL_SITE: "north", keys.TABLE_NAME: table,
                           keys.STACK_NAME: "t", keys.TOPOLOGY_NAME: topology.name}
    ddb = clients.client("north", "dynamodb")
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ssm = clients.client("north", "ssm")
    r53 = clients.client("north", "route53")
    zone = r53.create_hosted_zone(Name="mini.tw", CallerReference=f"z-{tag}")
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    out[keys.zone_id_key("mini.tw")] = zone_id
    for svc in topology.services.values():
        primary = topology.primary(svc.id).site
        ddb.put_item(TableName=table, Item={"pk": {"S": f"active#{svc.id}"},
                                            "site": {"S": primary}, "epoch": {"N": "0"}})
        name = f"/t/{tag}/{svc.id}/serving-site"
        ssm.put_parameter(Name=name, Value=primary, Type="String")
        out[keys.parameter_name_key(svc.id)] = name
        _records(r53, out, zone_id, svc.id, svc.dns_name, primary,
                 topology.secondaries(svc.id)[0].site, tag)
        if svc.kind.value == "object-storage":
            for replica in svc.replicas:
                _bucket(clients, topology, out, svc.id, replica.site, tag)
            out[keys.bucket_sites_key(svc.id)] = [r.site for r in svc.replicas]
    return StackOutputs(out)


def _bucket(clients: SiteClients, topology: Topology, out: dict[str, Any], service: str,
            site: str, tag: str) -> None:
    name = f"{service}-{site}-{tag}"
    s3 = clients.client(site, "s3")
    region = topology.site(site).endpoint.signing_region
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    out[keys.bucket_name_key(service, site)] = name
    out[keys.bucket_arn_key(service, site)] = f"arn:aws:s3:::{name}"


def _records(r53: Any, out: dict[str, Any], zone: str, service: str, name: str, primary: str,
             secondary: str, tag: str) -> None:
    out[keys.record_name_key(service)] = name
    changes = []
    for site, role in ((primary, "PRIMARY"), (secondary, "SECONDARY")):
        hc = r53.create_health_check(CallerReference=f"{service}-{site}-{tag}",
                                     HealthCheckConfig={
            "IPAddress": "127.0.0.1", "Port": 80, "Type": "HTTP", "ResourcePath": "/"})
        out[keys.health_check_key(service, site)] = hc["HealthCheck"]["Id"]
        changes.append({"Action": "CREATE", "ResourceRecordSet": {
            "Name": name, "Type": "CNAME", "TTL": 60, "SetIdentifier": f"{service}-{site}",
            "Failover": role, "ResourceRecords": [{"Value": f"{site}.example"}],
            "HealthCheckId": hc["HealthCheck"]["Id"]}})
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})


def fast_clients(topology: Topology) -> SiteClients:
    from tenacity import wait_none

    return SiteClients(topology, credentials=Credentials("testing", "testing"),
                       policy=functools.partial(retry_policy, wait=wait_none()))


def mini_env(clients: SiteClients, tag: str) -> Environment:
    """A fresh stack for the mini topology, sharing ``clients`` (client creation is slow)."""
    return Environment(clients.topology, clients, build_stack(clients, clients.topology, tag),
                       FakeLab())


def promote(cp: ControlPlane, service: str, site: str, run_id: str,
            expect_epoch: int | None = None) -> None:
    """Move ``service`` the way a drill does: take its lock, write the register, release."""
    now = time.time()
    acquire_lock(cp, service, run_id, now=now)
    try:
        cp.set_active(service, site, run_id=run_id, now=now,
                      expect_epoch=cp.active(service).epoch if expect_epoch is None
                      else expect_epoch)
    finally:
        release_lock(cp, service, run_id)
