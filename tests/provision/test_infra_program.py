"""The Pulumi project in infra/: a two-line program that builds the stack from its config."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from georesil.provision.moto_engine import MotoEngine, run_program
from tests.provision.conftest import mini_dict

INFRA = Path(__file__).resolve().parents[2] / "infra"


def test_main_is_two_lines() -> None:
    """infra/__main__.py is the import and the build_stack call, nothing else."""
    lines = [ln for ln in (INFRA / "__main__.py").read_text().splitlines() if ln.strip()]
    assert len(lines) == 2
    assert "build_stack(" in lines[1]


def test_main_builds_the_configured_topology(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Run under the engine's preview, the program builds the topology its config names."""
    topo = tmp_path / "mini.json"
    topo.write_text(json.dumps(mini_dict()))
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({
        "georesil:topology": str(topo),
        "georesil:endpoints": json.dumps({"tainan-ngcc": "http://127.0.0.1:9"}),
    }))
    engine = MotoEngine(preview=True)
    outputs = run_program(engine, lambda: runpy.run_path(str(INFRA / "__main__.py")),
                          stack="dev", preview=True)
    assert outputs["topology"] == "mini"
    assert outputs["stack"] == "dev"
    (south,) = [r for r in engine.records
                if r.type == "pulumi:providers:aws" and r.site == "tainan-ngcc"]
    assert "127.0.0.1:9" in str(south.inputs["endpoints"])


def test_stack_file_names_a_topology() -> None:
    """The example stack file names an existing topology file, relative to infra/."""
    import yaml

    config = yaml.safe_load((INFRA / "Pulumi.dev.yaml").read_text())["config"]
    assert (INFRA / config["georesil:topology"]).is_file()


def test_project_file_documents_every_config_key() -> None:
    """Every ``georesil:*`` key the program reads is documented in Pulumi.yaml."""
    import inspect
    import re

    from georesil.provision.stack import StackConfig, load_configured_topology

    source = inspect.getsource(StackConfig.from_pulumi) + inspect.getsource(
        load_configured_topology)
    read = set(re.findall(r'\.get(?:_object|_int|_bool)?\("(\w+)"\)', source))
    assert {"topology", "endpoints", "noncurrentDays", "forceDestroy", "protect"} <= read
    project = (INFRA / "Pulumi.yaml").read_text()
    assert all(f"georesil:{key}" in project for key in read), read
