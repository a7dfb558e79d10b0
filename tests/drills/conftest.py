"""Fixtures for drill tests: dummy credentials; an in-process moto stack for unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from georesil.drills.context import Environment
from tests.drills._stack import mini_env


@pytest.fixture(autouse=True)
def _dummy_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """The CLI configures structlog for the process; give every test the defaults back."""
    import structlog

    yield
    structlog.reset_defaults()


@pytest.fixture
def env() -> Iterator[Environment]:
    """A fresh hand-built stack for the mini topology in in-process moto."""
    from moto import mock_aws

    with mock_aws():
        yield mini_env()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
