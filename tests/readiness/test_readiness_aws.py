"""Readiness against AWS-kind sites (in-process moto): S3 replication and Route 53 health
checks are AWS's own here, so their defects are seeded through the AWS APIs."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from georesil.cloud import SiteClients
from georesil.drills.environment import Environment
from georesil.model import Topology, topology_from_dict
from georesil.provision import provision_moto
from georesil.provision.outputs import StackOutputs
from georesil.readiness import CheckStatus, ReadinessReport, run_readiness
from georesil.readiness.context import READINESS_CLIENTS, ReadinessContext

AWS_DOC: dict[str, Any] = {
    "version": 1,
    "name": "aws-ready",
    "sites": [
        {"id": "tokyo", "region": "north", "location": {"lat": 35.7, "lon": 139.7},
         "endpoint": {"aws_region": "ap-northeast-1"}},
        {"id": "singapore", "region": "south", "location": {"lat": 1.35, "lon": 103.8},
         "endpoint": {"aws_region": "ap-southeast-1"}},
    ],
    "services": [
        {"id": "objects", "kind": "object-storage", "rto_s": 600, "rpo_s": 900,
         "dns_name": "objects.ready.example",
         "replicas": [{"site": "tokyo", "role": "primary"},
                      {"site": "singapore", "role": "secondary", "replication": "async",
                       "lag_s": 60}]},
    ],
}

BAD = {CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.UNREACHABLE}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Topology]:
    from moto import mock_aws

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield topology_from_dict(copy.deepcopy(AWS_DOC))


def _provision(topology: Topology, state: Path) -> StackOutputs:
    """Provision, or re-provision converging from the recorded state (as `pulumi up` would)."""
    return provision_moto(topology, stack="ready", in_process=True,
                          state_file=state / "stack-state.json").stack_outputs


def _forget(state: Path, resource_type: str, resource_id: str | None = None) -> None:
    """What `pulumi refresh` does after a resource was deleted behind Pulumi's back: it drops
    the resource from the stack's state, so the next update creates it again."""
    path = state / "stack-state.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["resources"] = [r for r in data["resources"] if not (
        r["type"] == resource_type and resource_id in (None, r["id"]))]
    path.write_text(json.dumps(data), encoding="utf-8")


def _run(topology: Topology, outputs: StackOutputs, tmp_path: Path) -> ReadinessReport:
    env = Environment(topology, SiteClients(topology, **READINESS_CLIENTS), outputs)
    return run_readiness(ReadinessContext(env, tmp_path, time.time(), deployed_at=time.time()))


def _red(report: ReadinessReport) -> dict[str, set[CheckStatus]]:
    out: dict[str, set[CheckStatus]] = {}
    for r in report.results:
        if r.status in BAD:
            out.setdefault(r.check, set()).add(r.status)
    return out


def test_replication_rule_deleted_and_restored(aws: Topology, tmp_path: Path) -> None:
    outputs = _provision(aws, tmp_path)
    assert _red(_run(aws, outputs, tmp_path)) == {}
    clients = SiteClients(aws)
    source = outputs.bucket("objects", "tokyo").name
    clients.call("tokyo", "s3", "delete_bucket_replication", Bucket=source)
    report = _run(aws, outputs, tmp_path)
    assert _red(report) == {"storage.replication": {CheckStatus.FAIL}}
    (row,) = report.failing()
    assert row.site == "singapore" and "no replication rule" in row.evidence
    assert row.fix is not None and "georesil" in row.fix
    _forget(tmp_path, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    outputs = _provision(aws, tmp_path)  # refresh + update restores the rule
    assert _red(_run(aws, outputs, tmp_path)) == {}


def test_health_check_deleted_and_restored(aws: Topology, tmp_path: Path) -> None:
    outputs = _provision(aws, tmp_path)
    clients = SiteClients(aws)
    check_id = outputs.health_check_id("objects", "singapore")
    clients.call(outputs.control_site, "route53", "delete_health_check", HealthCheckId=check_id)
    report = _run(aws, outputs, tmp_path)
    assert _red(report) == {"dns.health": {CheckStatus.FAIL}}
    (row,) = report.failing()
    assert row.site == "singapore" and "does not exist" in row.evidence
    _forget(tmp_path, "aws:route53/healthCheck:HealthCheck", check_id)
    outputs = _provision(aws, tmp_path)
    assert _red(_run(aws, outputs, tmp_path)) == {}
