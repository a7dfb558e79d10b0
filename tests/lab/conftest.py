"""Fixtures for lab tests: dummy credentials, a fast retry policy, a provisioned lab."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from georesil.lab import LabState, lab_down, lab_up
from tests.lab._topologies import lab_topology


@pytest.fixture
def fast_policy() -> Any:
    from tenacity import wait_none

    from georesil.cloud import retry_policy

    return functools.partial(retry_policy, wait=wait_none())


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabState]:
    """A provisioned two-site lab with 20 seeded objects, shared by a module."""
    workdir = tmp_path_factory.mktemp("lab")
    state = lab_up(lab_topology(), seed_objects=20, workdir=workdir)
    yield state
    lab_down(workdir)


@pytest.fixture
def bare_lab(tmp_path: Path) -> Iterator[LabState]:
    """An unprovisioned two-site lab of its own, for tests that break it."""
    state = lab_up(lab_topology(), workdir=tmp_path, provision=False)
    yield state
    lab_down(tmp_path)
