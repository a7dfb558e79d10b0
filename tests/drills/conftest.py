"""Fixtures for drill tests: dummy credentials; an in-process moto stack for unit tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from georesil.cloud import SiteClients
from georesil.drills.environment import Environment
from tests.drills._stack import fast_clients, mini_env, mini_topology

_TAGS = itertools.count()


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """The CLI configures structlog for the process; give every test the defaults back."""
    import structlog

    yield
    structlog.reset_defaults()


@pytest.fixture(scope="module")
def _moto_clients() -> Iterator[SiteClients]:
    """In-process moto for a module, with one set of clients (creating clients is slow)."""
    import os

    from moto import mock_aws

    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    with mock_aws():
        yield fast_clients(mini_topology())
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def env(_moto_clients: SiteClients) -> Environment:
    """A fresh hand-built stack (own table, buckets, zone) for the mini topology."""
    return mini_env(_moto_clients, f"t{next(_TAGS)}")


@pytest.fixture(scope="session")
def drill_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One lab of the reference topology for every lab test, in its own working directory."""
    from georesil.lab import lab_down, lab_up
    from georesil.model import load_topology

    workdir = tmp_path_factory.mktemp("drill-lab")
    lab_up(load_topology(), seed_objects=20, workdir=workdir)
    yield workdir
    lab_down(workdir)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
