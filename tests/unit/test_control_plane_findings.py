"""Analysis flags a control plane that shares a failure domain with a service's primary."""

from __future__ import annotations

import random
from typing import Any

import pytest

from georesil.analysis.analyze import analyze
from georesil.analysis.control_plane import control_plane_findings
from georesil.model import topology_from_dict


def _doc(control: dict[str, Any] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": 1, "name": "t",
        "zones": [{"id": "north-grid", "kind": "power"}, {"id": "quake", "kind": "seismic"}],
        "sites": [
            {"id": "a", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
             "zones": ["north-grid"], "endpoint": {"aws_region": "ap-east-2"}},
            {"id": "b", "region": "south", "location": {"lat": 23.1, "lon": 120.3},
             "zones": ["quake"], "endpoint": {"aws_region": "ap-east-2"}},
            {"id": "w", "region": "east", "location": {"lat": 24.0, "lon": 121.6},
             "endpoint": {"aws_region": "ap-northeast-1"}},
        ],
        "links": [{"id": "ab", "a": "a", "b": "b"}, {"id": "aw", "a": "a", "b": "w"}],
        "services": [
            {"id": "s", "rto_s": 60, "rpo_s": 60, "replicas": [
                {"site": "a", "role": "primary"},
                {"site": "b", "role": "secondary", "replication": "async", "lag_s": 5}]},
            {"id": "t", "rto_s": 60, "rpo_s": 60, "replicas": [
                {"site": "b", "role": "primary"},
                {"site": "a", "role": "secondary", "replication": "async", "lag_s": 5}]},
        ],
    }
    if control is not None:
        doc["control"] = control
    return doc


def test_undeclared_control_at_a_primary_is_flagged() -> None:
    """With no `control:`, the first able site (a) holds it: s's primary shares it."""
    found = control_plane_findings(topology_from_dict(_doc(None)))
    assert [(f.service, f.shared, f.declared) for f in found] == [
        ("s", ("site:a", "zone:north-grid"), False)]


def test_witness_outside_every_domain_is_clean() -> None:
    """A witness site sharing no zone with any primary gives no finding."""
    assert control_plane_findings(topology_from_dict(_doc({"site": "w"}))) == []


def test_external_control_sharing_a_zone_is_flagged() -> None:
    """An external endpoint that still sits in a modelled zone is flagged for that zone."""
    topo = topology_from_dict(_doc({"endpoint": {"aws_region": "ap-northeast-1"},
                                    "zones": ["quake"]}))
    found = control_plane_findings(topo)
    assert [(f.service, f.control, f.shared) for f in found] == [("t", "control",
                                                                  ("zone:quake",))]
    assert analyze(topo, max_order=1).to_json()["control_plane"] == [f.to_json() for f in found]


@pytest.mark.parametrize("seed", range(20))
def test_findings_match_a_plain_reference(seed: int) -> None:
    """Cross-check on random zone memberships against a direct pairwise comparison."""
    rng = random.Random(seed)
    doc = _doc(rng.choice([None, {"site": "w"}, {"site": "b"},
                           {"endpoint": {"aws_region": "x-1"}, "zones": ["north-grid"]}]))
    for site in doc["sites"]:
        site["zones"] = rng.sample(["north-grid", "quake"], rng.randint(0, 2))
    topo = topology_from_dict(doc)
    placement = topo.control
    assert placement is not None
    expected = []
    for svc in ("s", "t"):
        primary = topo.primary(svc).site
        shared = []
        if placement.site == primary:
            shared.append(f"site:{primary}")
        shared += [f"zone:{z}" for z in sorted(topo.site(primary).zones) if z in placement.zones]
        if shared:
            expected.append((svc, tuple(sorted(shared))))
    assert [(f.service, f.shared) for f in control_plane_findings(topo)] == expected
