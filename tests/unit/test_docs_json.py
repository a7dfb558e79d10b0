"""Every JSON example in docs/semantics.md and docs/risk.md is checked against a real run of
the command it documents (on the bundled topology): the same keys, the same kinds of values."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests._docs_json import examples, fits


def _run(*args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "georesil", *args, "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_fits_finds_missing_renamed_and_mistyped_keys() -> None:
    real = {"a": 1, "b": [{"c": "x"}], "svc": {"s1": {"p": 0.5}}}
    assert fits({"a": 2, "b": [{"c": "y"}], "svc": {"other": {"p": 1}}}, real) == []
    assert fits({"a": 1}, real) == ["$: the output also has ['b', 'svc']"]
    assert fits({"a": "1", "b": [], "svc": {}}, real) == [
        "$.a: str in the docs, int in the output"]
    assert fits({"a": 1, "b": [{"d": 1}], "svc": {}}, real)  # a renamed key


@pytest.mark.slow
def test_semantics_examples_fit_real_output() -> None:
    inject_doc, analyze_doc, network_doc = examples("semantics.md")
    assert fits(inject_doc, _run("inject", "--fail", "zone:taipower-north")) == []
    analysis = _run("analyze")
    assert fits(analyze_doc, analysis) == []
    network = _run("analyze", "--network")
    assert fits(network_doc, {"network": network["network"]}) == []


@pytest.mark.slow
def test_risk_examples_fit_real_output() -> None:
    snapshot_doc, annual_doc = examples("risk.md")
    assert fits(snapshot_doc, _run("simulate", "--trials", "20000")) == []
    assert fits(annual_doc, _run("simulate", "--years", "500")) == []
