"""Small topologies for lab and mirror tests."""

from __future__ import annotations

import copy
from typing import Any

from georesil.model import Topology, topology_from_dict

LAB_DOC: dict[str, Any] = {
    "version": 1,
    "name": "lab-test",
    "sites": [
        {"id": "north", "region": "north", "location": {"lat": 25.0, "lon": 121.5},
         "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}},
        {"id": "south", "region": "south", "location": {"lat": 23.0, "lon": 120.2},
         "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}},
    ],
    "links": [{"id": "l1", "a": "north", "b": "south"}],
    "services": [
        {"id": "store", "kind": "object-storage", "rto_s": 600, "rpo_s": 0,
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "async",
                       "lag_s": 5}]},
        {"id": "ledger", "kind": "database", "rto_s": 600, "rpo_s": 0,
         "replicas": [{"site": "north", "role": "primary"},
                      {"site": "south", "role": "secondary", "replication": "async",
                       "lag_s": 5}]},
    ],
}


def lab_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(LAB_DOC)
    doc.update(changes)
    return doc


def lab_topology(**changes: Any) -> Topology:
    return topology_from_dict(lab_doc(**changes))


def with_sites(*names: str) -> Topology:
    """The lab topology with more secondary sites for the service."""
    doc = lab_doc()
    for i, name in enumerate(names):
        doc["sites"].append({"id": name, "region": "south",
                             "location": {"lat": 22.5 + i / 10, "lon": 120.3},
                             "endpoint": {"url": "http://127.0.0.1:1", "region": "ap-east-2"}})
        doc["links"].append({"id": f"l-{name}", "a": "south", "b": name})
        doc["services"][0]["replicas"].append(
            {"site": name, "role": "secondary", "replication": "async", "lag_s": 5})
    return topology_from_dict(doc)
