"""Each policy rule is caught by a deliberately broken topology or component."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from georesil.errors import PolicyViolation
from georesil.provision.moto_engine import ProvisionResult, ResourceRecord, provision_moto
from georesil.provision.policy import RULES, check_policy, find_violations

Records = tuple[ResourceRecord, ...]


@pytest.fixture(scope="module")
def plan(module_env: None) -> ProvisionResult:
    """A preview of the mini topology: the resources, created nowhere."""
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    return provision_moto(topology_from_dict(mini_dict()), stack="pol", preview=True)


def _mini():  # type: ignore[no-untyped-def]
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    return topology_from_dict(mini_dict())


def _without(records: Records, type_suffix: str, name_part: str) -> Records:
    return tuple(r for r in records if not (r.type.endswith(type_suffix) and name_part in r.name))


def _edit(records: Records, type_suffix: str, name_part: str,
          change: Callable[[dict], dict]) -> Records:
    return tuple(replace(r, inputs=change(dict(r.inputs)))
                 if r.type.endswith(type_suffix) and name_part in r.name else r
                 for r in records)


def _rules(records: Records) -> set[tuple[str, str]]:
    return {(v.rule, v.resource) for v in find_violations(_mini(), records)}


def test_intact_plan_passes(plan: ProvisionResult) -> None:
    """The program as written breaks no rule."""
    assert find_violations(_mini(), plan.resources) == []
    assert plan.policy_rules == tuple(RULES)


def test_unversioned_bucket(plan: ProvisionResult) -> None:
    """A bucket without versioning breaks bucket-versioned (and its replication destination)."""
    broken = _without(plan.resources, "BucketVersioning", "objects-tainan-ngcc")
    found = _rules(broken)
    assert ("bucket-versioned", "objects-tainan-ngcc") in found
    assert ("replication-destination-versioned", "objects-replication") in found


def test_suspended_versioning(plan: ProvisionResult) -> None:
    """Versioning 'Suspended' counts as not versioned."""
    broken = _edit(plan.resources, "BucketVersioning", "objects-taipei-neihu",
                   lambda i: {**i, "versioningConfiguration": {"status": "Suspended"}})
    assert ("bucket-versioned", "objects-taipei-neihu") in _rules(broken)


def test_unencrypted_bucket(plan: ProvisionResult) -> None:
    """A bucket with no SSE-KMS default breaks bucket-encrypted."""
    broken = _edit(plan.resources, "ServerSideEncryptionConfiguration", "objects-taoyuan-dc",
                   lambda i: {**i, "rules": [{"applyServerSideEncryptionByDefault":
                                              {"sseAlgorithm": "AES256"}}]})
    assert _rules(broken) == {("bucket-encrypted", "objects-taoyuan-dc")}


def test_public_access_not_blocked(plan: ProvisionResult) -> None:
    """One public-access flag left off breaks bucket-public-access-blocked, naming the flag."""
    broken = _edit(plan.resources, "BucketPublicAccessBlock", "objects-taipei-neihu",
                   lambda i: {**i, "restrictPublicBuckets": False})
    (violation,) = find_violations(_mini(), broken)
    assert violation.rule == "bucket-public-access-blocked"
    assert "restrictPublicBuckets" in violation.message


def test_replication_to_foreign_bucket(plan: ProvisionResult) -> None:
    """Replicating into a bucket the stack does not version breaks the destination rule."""
    def retarget(inputs: dict) -> dict:
        rules = [dict(r, destination={**r["destination"], "bucket": "arn:aws:s3:::elsewhere"})
                 for r in inputs["rules"]]
        return {**inputs, "rules": rules}

    broken = _edit(plan.resources, "BucketReplicationConfig", "objects", retarget)
    assert ("replication-destination-versioned", "objects-replication") in _rules(broken)


def test_primary_record_without_health_check(plan: ProvisionResult) -> None:
    """A PRIMARY failover record with no health check breaks primary-record-health-checked."""
    broken = _edit(plan.resources, "route53/record:Record", "objects-0-primary",
                   lambda i: {k: v for k, v in i.items() if k != "healthCheckId"})
    assert _rules(broken) == {("primary-record-health-checked",
                               "dns-georesil-example-objects-0-primary")}


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"},
    {"Effect": "Allow", "Action": "*", "Resource": ["arn:aws:s3:::b"]},
    {"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": ["arn:aws:s3:::b"]},
])
def test_wildcard_policy(plan: ProvisionResult, statement: dict) -> None:
    """A role policy with a wildcard action or resource breaks iam-no-wildcard."""
    broken = _edit(plan.resources, "iam/rolePolicy:RolePolicy", "objects",
                   lambda i: {**i, "policy": json.dumps({"Version": "2012-10-17",
                                                         "Statement": [statement]})})
    assert _rules(broken) == {("iam-no-wildcard", "objects-replication-policy")}


def test_object_arn_wildcard_is_allowed(plan: ProvisionResult) -> None:
    """'arn:aws:s3:::bucket/*' (every object of one named bucket) is not a wildcard grant."""
    (policy,) = [r for r in plan.resources if r.type.endswith("rolePolicy:RolePolicy")]
    assert any(res.endswith("/*") for st in json.loads(policy.inputs["policy"])["Statement"]
               for res in st["Resource"])
    assert find_violations(_mini(), plan.resources) == []


def test_same_region_replicas_fail_provision() -> None:
    """Object storage replicated only inside its own region fails before anything is made."""
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    data = mini_dict()
    data["services"][0]["replicas"] = [data["services"][0]["replicas"][0],
                                       data["services"][0]["replicas"][2]]  # both north
    with pytest.raises(PolicyViolation, match=r"storage-cross-region.*'objects'") as info:
        provision_moto(topology_from_dict(data), stack="bad")  # no moto: must stop at the plan
    assert info.value.rule == "storage-cross-region"
    assert info.value.resource == "service:objects"


def test_unreplicated_storage(plan: ProvisionResult) -> None:
    """Object storage with no replica bucket outside the primary's region breaks
    storage-cross-region."""
    broken = _without(plan.resources, "s3/bucket:Bucket", "objects-tainan")
    assert ("storage-cross-region", "service:objects") in _rules(broken)


def test_every_violation_is_reported(plan: ProvisionResult) -> None:
    """check_policy lists every violation at once, each naming rule and resource."""
    broken = _without(_without(plan.resources, "BucketVersioning", "taoyuan"),
                      "BucketPublicAccessBlock", "tainan")
    with pytest.raises(PolicyViolation) as info:
        check_policy(_mini(), broken)
    text = str(info.value)
    assert "3 policy violations" in text
    assert "[bucket-versioned] objects-taoyuan-dc" in text
    assert "[replication-destination-versioned] objects-replication" in text
    assert "[bucket-public-access-blocked] objects-tainan-ngcc" in text
    assert len(info.value.violations) == 3
