"""A small lab for readiness tests: two object-storage sites with failover DNS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from georesil.lab import LabState, lab_down, lab_up
from georesil.model import Topology, topology_from_dict
from tests.lab._topologies import lab_doc

#: The RPO of the store: small, so a test can put writes "past the RPO" by moving ``now``.
RPO_S = 60.0

#: The lab tests' two sites (tests/lab/_topologies.py) with one tier-1 store behind failover DNS.
READY_DOC: dict[str, Any] = lab_doc(name="ready-test", services=[
    {"id": "store", "kind": "object-storage", "tier": 1, "rto_s": 600, "rpo_s": RPO_S,
     "dns_name": "store.ready.example",
     "replicas": [{"site": "north", "role": "primary"},
                  {"site": "south", "role": "secondary", "replication": "async", "lag_s": 5}]},
])


def ready_topology() -> Topology:
    return topology_from_dict(READY_DOC)


@pytest.fixture(scope="module")
def ready_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabState, Path]]:
    """A provisioned readiness lab with its replicas in sync, shared by a module."""
    workdir = tmp_path_factory.mktemp("ready")
    state = lab_up(ready_topology(), seed_objects=0, workdir=workdir)
    yield state, workdir
    lab_down(workdir)
