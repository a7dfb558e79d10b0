"""Where resources go: the control placement, and only what each site's endpoint can host."""

from __future__ import annotations

import json
from typing import Any

import pytest

from georesil.errors import InvalidInput
from georesil.provision.moto_engine import ProvisionResult

BUCKET = "aws:s3/bucket:Bucket"


def _topology(**changes: Any):  # type: ignore[no-untyped-def]
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    doc = mini_dict()
    doc.update(changes)
    return topology_from_dict(doc)


def _s3_compatible_south(doc: dict[str, Any]) -> dict[str, Any]:
    doc["sites"][2]["endpoint"] = {"kind": "s3-compatible", "url": "https://s3.tainan.example",
                                   "region": "tw-south-1"}
    return doc


def _preview(topology, **config: Any) -> ProvisionResult:  # type: ignore[no-untyped-def]
    from georesil.provision.moto_engine import provision_moto
    from georesil.provision.stack import StackConfig

    cfg = StackConfig(**{"lab": False, "force_destroy": False, **config})
    return provision_moto(topology, stack="plc", preview=True, config=cfg)


def test_lab_control_server_for_each_kind_of_placement() -> None:
    """The lab runs its own control server: the declared region, the lab default, or none for a
    witness site (which has its own server already)."""
    from georesil.lab.lifecycle import lab_control

    assert lab_control(_topology()) == ("control", "us-east-1")
    declared = _topology(control={"endpoint": {"aws_region": "ap-northeast-2"}})
    assert lab_control(declared) == ("control", "ap-northeast-2")
    assert lab_control(_topology(control={"site": "taoyuan-dc"})) is None


def test_declared_control_region_holds_the_control_plane() -> None:
    """Control table, parameters, IAM role and zone are all at the declared control region."""
    topology = _topology(control={"endpoint": {"aws_region": "ap-northeast-2"}})
    result = _preview(topology)
    out = result.stack_outputs
    assert (out.control_site, out.control_region) == ("control", "ap-northeast-2")
    global_types = ("aws:dynamodb/table:Table", "aws:ssm/parameter:Parameter",
                    "aws:iam/role:Role", "aws:route53/zone:Zone",
                    "aws:route53/healthCheck:HealthCheck", "aws:route53/record:Record")
    placed = {(r.type, r.site) for r in result.resources if r.type in global_types
              and "catalog" not in r.name}
    assert placed and {site for _, site in placed} == {"control"}


def test_witness_site_holds_the_control_plane() -> None:
    """A witness site named by ``control.site`` is the control placement."""
    result = _preview(_topology(control={"site": "taoyuan-dc"}))
    assert result.stack_outputs.control_site == "taoyuan-dc"
    table = next(r for r in result.resources if r.name == "control-table")
    assert table.site == "taoyuan-dc"


def test_undeclared_control_outside_the_lab_is_the_first_capable_site() -> None:
    """Outside a lab a topology without ``control:`` keeps the first site that can hold it,
    and the outputs say it was not declared."""
    out = _preview(_topology()).stack_outputs
    assert out.control_site == "taipei-neihu"
    assert out.get("control_declared") is False


def test_no_place_for_the_control_plane_is_refused() -> None:
    """With only S3-compatible sites and no ``control:``, a real deploy has nowhere to put the
    control table: a clear error naming the fix."""
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    doc = mini_dict()
    for site in doc["sites"]:
        site["endpoint"] = {"url": "https://s3.example", "region": "tw-1"}
    with pytest.raises(InvalidInput, match=r"add `control: \{endpoint: \{aws_region"):
        _preview(topology_from_dict(doc))


def test_s3_compatible_site_gets_only_s3() -> None:
    """An S3-compatible store gets its buckets (SSE-S3, versioned) and nothing else: no KMS
    key, no DynamoDB table, no public-access block; its provider sends only S3 there."""
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    topology = topology_from_dict(_s3_compatible_south(mini_dict()))
    result = _preview(topology, stack="plc")
    at_south = {r.type.split(":")[-1] for r in result.resources if r.site == "tainan-ngcc"}
    assert at_south == {"aws", "Bucket", "BucketVersioning",
                        "BucketServerSideEncryptionConfiguration",
                        "BucketLifecycleConfiguration"}
    sse = next(r for r in result.resources if r.name == "objects-tainan-ngcc-encryption")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"}
    provider = next(r for r in result.resources if r.name == "site-tainan-ngcc")
    assert json.loads(provider.inputs["endpoints"]) == [{"s3": "https://s3.tainan.example"}]


def test_s3_compatible_apis_get_their_own_urls() -> None:
    """A store listing other APIs under ``apis`` gets them at their own URLs, and can then
    host what they allow (a DynamoDB-compatible table)."""
    from georesil.model import topology_from_dict
    from tests.provision.conftest import mini_dict

    doc = _s3_compatible_south(mini_dict())
    doc["sites"][2]["endpoint"]["apis"] = {"dynamodb": "https://ddb.tainan.example"}
    result = _preview(topology_from_dict(doc))
    tables = {r.site for r in result.resources if r.type == "aws:dynamodb/table:Table"
              and "catalog" in r.name}
    assert "tainan-ngcc" in tables
    provider = next(r for r in result.resources if r.name == "site-tainan-ngcc")
    assert "https://ddb.tainan.example" in str(provider.inputs["endpoints"])


def test_every_provider_has_default_tags() -> None:
    """Every provider tags everything it creates with the stack and the topology."""
    result = _preview(_topology(control={"endpoint": {"aws_region": "ap-northeast-2"}}))
    providers = [r for r in result.resources if r.type == "pulumi:providers:aws"]
    assert len(providers) == 4
    for p in providers:
        tags = p.inputs["defaultTags"]
        tags = tags if isinstance(tags, dict) else json.loads(tags)
        assert tags["tags"] == {"georesil:stack": "plc", "georesil:topology": "mini"}
