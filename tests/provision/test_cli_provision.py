"""``georesil deploy`` and ``georesil provision`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from georesil.provision.policy import RULES
from tests.provision.conftest import DUMMY_ENV, mini_dict


def georesil(*args: str, path: str | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **DUMMY_ENV}
    env.pop("AWS_PROFILE", None)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "georesil", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=180)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process; return (exit code, stdout, stderr)."""
    from georesil.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.fixture
def mini_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(mini_dict()))
    return path


def test_deploy_without_pulumi_cli_exits_2(tmp_path: Path) -> None:
    """Without the Pulumi CLI, deploy says what is missing and how to install it, exit 2."""
    empty = tmp_path / "bin"
    empty.mkdir()
    result = georesil("deploy", "up", "--stack", "dev", path=str(empty), cwd=tmp_path)
    assert result.returncode == 2
    assert "Pulumi CLI ('pulumi') is not installed" in result.stderr
    assert "https://www.pulumi.com/docs/install/" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".georesil").exists()


@pytest.mark.parametrize("operation", ["preview", "destroy"])
def test_every_deploy_operation_needs_the_cli(operation: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """preview and destroy stop at the missing CLI too, before reading the topology."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run_cli(capsys, "deploy", operation, "-t", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert "Pulumi CLI ('pulumi') is not installed" in err


def test_provision_engine_pulumi_is_deploy_up(mini_file: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """--engine pulumi runs 'deploy up', so it too stops at the missing CLI with exit 2."""
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run_cli(capsys, "provision", str(mini_file), "--engine", "pulumi")
    assert code == 2
    assert "Pulumi CLI" in err


def test_require_pulumi_cli_raises_tool_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """require_pulumi_cli raises ToolMissing (exit code 2) when 'pulumi' is not on PATH."""
    from georesil.errors import ToolMissing
    from georesil.provision.automation import require_pulumi_cli

    monkeypatch.setenv("PATH", "")
    with pytest.raises(ToolMissing) as info:
        require_pulumi_cli()
    assert info.value.exit_code == 2
    assert info.value.tool == "pulumi"


@pytest.mark.slow
def test_provision_moto_json_dry_demonstration(
        mini_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without endpoints the moto engine provisions in-process and reports every resource."""
    code, out, err = run_cli(capsys, "provision", str(mini_file), "--engine", "moto", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["in_process"] is True
    types = {r["type"] for r in data["resources"]}
    assert "aws:s3/bucketReplicationConfig:BucketReplicationConfig" in types
    assert data["policy"]["violations"] == []
    assert data["outputs"]["control_table"].startswith("mini-dev-control-")


@pytest.mark.slow
def test_provision_table_summary(mini_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The table output lists resource types and the policy result."""
    code, out, err = run_cli(capsys, "provision", str(mini_file), "--preview")
    assert code == 0, err
    assert "s3.BucketReplicationConfig" in out
    assert "MirroredBucket (component)" in out
    assert f"policy: {len(RULES)} rules passed" in out


@pytest.mark.parametrize("bad", ["taipei-neihu", "taipei-neihu=ftp://x", "=http://x"])
def test_bad_endpoint_exits_2(mini_file: Path, bad: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --endpoint is bad input: exit 2 and the expected form."""
    code, _, err = run_cli(capsys, "provision", str(mini_file), "--endpoint", bad, "--preview")
    assert code == 2
    assert "expected SITE=URL" in err


def test_unknown_endpoint_site_exits_2(mini_file: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An --endpoint for a site the topology lacks is bad input naming the known sites."""
    code, _, err = run_cli(capsys, "provision", str(mini_file), "--endpoint",
                           "nowhere=http://127.0.0.1:9", "--preview")
    assert code == 2
    assert "unknown site(s) 'nowhere'" in err


def test_unknown_engine_exits_2(mini_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--engine must be moto or pulumi."""
    code, _, err = run_cli(capsys, "provision", str(mini_file), "--engine", "terraform")
    assert code == 2
    assert "allowed: moto, pulumi" in err


@pytest.mark.slow
def test_no_endpoint_never_uses_topology_urls(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Without --endpoint, sites whose topology names a URL still go to in-process moto."""
    data = mini_dict()
    for site in data["sites"]:
        site["endpoint"] = {"url": "https://s3.unreachable.invalid", "region": "tw-north-1"}
    path = tmp_path / "urls.json"
    path.write_text(json.dumps(data))
    code, out, err = run_cli(capsys, "provision", str(path), "--json")
    assert code == 0, err
    assert json.loads(out)["in_process"] is True


def test_deploy_rejects_unknown_operation(mini) -> None:  # type: ignore[no-untyped-def]
    """deploy() names the allowed operations for an unknown one."""
    from georesil.errors import InvalidInput
    from georesil.provision.automation import deploy

    with pytest.raises(InvalidInput, match="allowed: preview, up, destroy, refresh, diff"):
        deploy(mini, "import")


def test_plan_states_the_mechanism_of_every_pair(capsys: pytest.CaptureFixture[str]) -> None:
    """``provision --plan --json`` on the reference topology: the control plane in Tokyo, each
    pair's mechanism (Tainan is an S3-compatible store: georesil's mirror at the replica's
    interval) and the failover chains; nothing is created."""
    from georesil.model import load_topology
    from georesil.model.replication import replication_plan

    code, out, _ = run_cli(capsys, "provision", "--plan", "--engine", "pulumi", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["control"] == {"name": "control", "site": None, "region": "ap-northeast-1",
                               "declared": True, "zones": []}
    pairs = {(p["service"], p["to"]): p for p in plan["replication"]}
    assert len(pairs) == len(replication_plan(load_topology()))
    assert pairs[("model-store", "tainan-ngcc")]["mechanism"] == "georesil-mirror"
    assert pairs[("model-store", "tainan-ngcc")]["rpo_bound_s"] == 60
    assert pairs[("metadata-db", "taoyuan-dc")]["mechanism"] == "external"
    chains = {d["service"]: d for d in plan["dns"]}
    assert chains["inference-api"]["names"] == ["inference.georesil.tw",
                                                "inference-failover-1.georesil.tw"]
    assert chains["inference-api"]["sites"] == ["hsinchu-hq", "taoyuan-dc", "tainan-ngcc"]
    kinds = {s["name"]: s["kind"] for s in plan["sites"]}
    assert kinds["tainan-ngcc"] == "s3-compatible" and kinds["taipei-neihu"] == "aws"


def test_plan_table_names_every_mechanism(capsys: pytest.CaptureFixture[str]) -> None:
    """The table form prints the control placement and one row per replica pair."""
    code, out, _ = run_cli(capsys, "provision", "--plan")
    assert code == 0
    assert "control plane: control — region ap-northeast-1" in out
    assert "georesil-mirror" in out and "external" in out
