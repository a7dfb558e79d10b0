"""The control-plane placement and endpoint kinds in the topology."""

from __future__ import annotations

from typing import Any

import pytest

from georesil import InvalidTopology
from georesil.model import topology_from_dict
from georesil.model.schema import EndpointKind


def _doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1, "name": "t",
        "zones": [{"id": "north-grid", "kind": "power"}],
        "sites": [
            {"id": "a", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
             "zones": ["north-grid"], "endpoint": {"aws_region": "ap-east-2"}},
            {"id": "b", "region": "south", "location": {"lat": 23.1, "lon": 120.3},
             "endpoint": {"url": "https://s3.b.example", "region": "tw-south-1"}},
        ],
        "services": [{"id": "s", "rto_s": 60, "rpo_s": 60, "replicas": [
            {"site": "a", "role": "primary"},
            {"site": "b", "role": "secondary", "replication": "async", "lag_s": 5}]}],
    }
    doc.update(extra)
    return doc


def _messages(doc: dict[str, Any]) -> str:
    with pytest.raises(InvalidTopology) as info:
        topology_from_dict(doc)
    return str(info.value)


def test_endpoint_kind_is_inferred_and_limits_apis() -> None:
    topo = topology_from_dict(_doc())
    a, b = topo.site("a").endpoint, topo.site("b").endpoint
    assert a is not None and b is not None
    assert a.effective_kind is EndpointKind.AWS and a.offers("dynamodb")
    assert b.effective_kind is EndpointKind.S3_COMPATIBLE
    assert b.offers("s3") and not b.offers("dynamodb") and not b.offers("kms")
    assert b.url_for("s3") == "https://s3.b.example"


def test_s3_compatible_store_may_list_other_apis() -> None:
    doc = _doc()
    doc["sites"][1]["endpoint"]["apis"] = {"sts": "https://sts.b.example"}
    ep = topology_from_dict(doc).site("b").endpoint
    assert ep is not None and ep.offers("sts") and ep.url_for("sts") == "https://sts.b.example"
    doc["sites"][1]["endpoint"]["apis"] = {"lambda": "https://l.b.example"}
    assert "apis names unknown API(s) 'lambda'" in _messages(doc)


def test_undeclared_control_falls_back_to_first_aws_site() -> None:
    control = topology_from_dict(_doc()).control
    assert control is not None and control.site == "a" and not control.declared
    assert control.zones == {"north-grid"}


def test_external_control_region() -> None:
    doc = _doc(control={"endpoint": {"aws_region": "ap-northeast-1"}})
    control = topology_from_dict(doc).control
    assert control is not None and control.declared and control.site is None
    assert control.name == "control" and control.endpoint.signing_region == "ap-northeast-1"
    assert control.zones == frozenset()


def test_witness_site_shares_its_zones() -> None:
    control = topology_from_dict(_doc(control={"site": "a"})).control
    assert control is not None and control.declared and control.zones == {"north-grid"}


def test_control_errors_are_located() -> None:
    assert "control.site: unknown site 'c'" in _messages(_doc(control={"site": "c"}))
    msg = _messages(_doc(control={"site": "b"}))
    assert "control.site: witness site 'b' cannot hold the control plane" in msg
    msg = _messages(_doc(control={"site": "a", "endpoint": {"aws_region": "x"}}))
    assert "exactly one of 'site'" in msg
    msg = _messages(_doc(control={"endpoint": {"url": "https://s3.x.example", "region": "r"}}))
    assert "must offer dynamodb, ssm; missing dynamodb, ssm" in msg
    assert "control.zones[0]: unknown zone 'nope'" in _messages(
        _doc(control={"site": "a", "zones": ["nope"]}))
