"""The real-engine path, run against a stand-in ``pulumi`` that records what it is asked.

The Pulumi CLI cannot be installed here (and georesil never downloads it): a small script named
``pulumi`` on ``PATH`` answers like a successful CLI and appends each call — arguments, the
``PULUMI_*`` environment and the backend of the project it runs in — to a log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "examples" / "small.yaml"

STAND_IN = r'''#!{python}
import json, os, sys
args = sys.argv[1:]
backend = None
if os.path.exists("Pulumi.yaml"):
    for line in open("Pulumi.yaml"):
        if "url:" in line:
            backend = line.split("url:", 1)[1].strip()
with open({log!r}, "a") as fh:
    fh.write(json.dumps({{"args": args, "backend": backend,
                         "env": {{k: v for k, v in os.environ.items()
                                 if k.startswith("PULUMI_CONFIG")}}}}) + "\n")
def opt(name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
    return None
if args[:1] == ["version"]:
    print("v3.200.0"); sys.exit(0)
if opt("--event-log"):
    with open(opt("--event-log"), "a") as fh:
        fh.write(json.dumps({{"sequence": 1, "timestamp": 1, "summaryEvent": {{
            "maybeCorrupt": False, "durationSeconds": 1,
            "resourceChanges": {{"create": 3}}, "policyPacks": {{}}}}}}) + "\n")
if "history" in args:
    print(json.dumps([{{"version": 1, "kind": "update", "startTime": "2026-01-01T00:00:00.000Z",
                       "message": "", "environment": {{}}, "config": {{}}, "result": "succeeded",
                       "endTime": "2026-01-01T00:00:01.000Z",
                       "resourceChanges": {{"create": 3}}}}]))
elif "output" in args:
    print(json.dumps({{"control_site": "control"}}))
'''


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, Any]:
    """A project directory, a stand-in ``pulumi`` on PATH and its call log."""
    bin_dir, project = tmp_path / "bin", tmp_path / "project"
    bin_dir.mkdir()
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    log = tmp_path / "calls.jsonl"
    script = bin_dir / "pulumi"
    script.write_text(STAND_IN.format(python=sys.executable, log=str(log)))
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PULUMI_") and k not in ("PATH",)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{os.path.dirname(sys.executable)}"
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    return {"project": project, "log": log, "env": env}


def run(stand_in: dict[str, Any], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args], cwd=stand_in["project"],
                          env={**stand_in["env"], **env}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def calls(stand_in: dict[str, Any]) -> list[dict[str, Any]]:
    log: Path = stand_in["log"]
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def verbs(stand_in: dict[str, Any]) -> list[str]:
    """The engine operations asked for (preview, up, destroy, refresh), in order."""
    ops = ("preview", "up", "destroy", "refresh")
    return [next(a for a in c["args"] if a in ops) for c in calls(stand_in)
            if any(a in ops for a in c["args"])]


def test_missing_cli_exits_2_and_downloads_nothing(tmp_path: Path) -> None:
    """Without ``pulumi`` on PATH every deploy operation stops with exit 2 and says how to
    install it; nothing is downloaded (no Pulumi home directory appears)."""
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env.update(PATH=os.path.dirname(sys.executable), HOME=str(tmp_path))
    for args in (["deploy", "up", "--yes"], ["deploy", "preview"],
                 ["provision", str(SMALL), "--engine", "pulumi", "--preview"]):
        done = subprocess.run([sys.executable, "-m", "georesil", *args], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        assert "the Pulumi CLI ('pulumi') is not installed" in done.stderr
        assert "never downloads it" in done.stderr
    assert not (tmp_path / ".pulumi").exists()


def test_provision_preview_only_previews(stand_in: dict[str, Any]) -> None:
    """``provision --engine pulumi --preview`` runs ``pulumi preview`` and never ``up``."""
    done = run(stand_in, "provision", str(SMALL), "--engine", "pulumi", "--preview",
               PULUMI_CONFIG_PASSPHRASE="s3cret")
    assert done.returncode == 0, done.stderr
    assert verbs(stand_in) == ["preview"]


def test_up_without_a_terminal_needs_yes(stand_in: dict[str, Any]) -> None:
    """``deploy up`` and ``deploy destroy`` refuse without a terminal unless --yes, before any
    engine call."""
    for op in ("up", "destroy"):
        done = run(stand_in, "deploy", op, "--topology", str(SMALL),
                   PULUMI_CONFIG_PASSPHRASE="s3cret")
        assert done.returncode == 2
        assert f"deploy {op}: no terminal to confirm on" in done.stderr
        assert "--yes" in done.stderr
    assert verbs(stand_in) == []


def test_up_previews_then_applies_with_the_default_backend(stand_in: dict[str, Any]) -> None:
    """``deploy up --yes`` previews, then updates, on the project's absolute file backend
    (printed), stack ``dev``."""
    done = run(stand_in, "deploy", "up", "--topology", str(SMALL), "--yes", "--json",
               PULUMI_CONFIG_PASSPHRASE="s3cret")
    assert done.returncode == 0, done.stderr
    assert verbs(stand_in) == ["preview", "up"]
    expected = f"file://{stand_in['project'].resolve() / '.georesil' / 'pulumi'}"
    assert f"backend: {expected}" in done.stderr
    assert {c["backend"] for c in calls(stand_in) if c["backend"]} == {expected}
    result = json.loads(done.stdout)
    assert (result["operation"], result["stack"], result["applied"]) == ("up", "dev", True)
    assert "dns-target-public" in result["policy"]["passed"]
    assert all("--stack" in c["args"] and "dev" in c["args"] for c in calls(stand_in)
               if c["args"][:1] != ["version"])


def test_backend_from_environment_and_flag(stand_in: dict[str, Any]) -> None:
    """``PULUMI_BACKEND_URL`` is used when set; ``--backend`` wins over it."""
    run(stand_in, "deploy", "preview", "--topology", str(SMALL),
        PULUMI_CONFIG_PASSPHRASE="x", PULUMI_BACKEND_URL="s3://from-env")
    run(stand_in, "deploy", "preview", "--topology", str(SMALL), "--backend", "s3://from-flag",
        PULUMI_CONFIG_PASSPHRASE="x", PULUMI_BACKEND_URL="s3://from-env")
    backends = [c["backend"] for c in calls(stand_in) if "preview" in c["args"]]
    assert backends == ["s3://from-env", "s3://from-flag"]


def test_passphrase_is_never_forced(stand_in: dict[str, Any], tmp_path: Path) -> None:
    """A passphrase file is left to the CLI (no PULUMI_CONFIG_PASSPHRASE added); no passphrase
    at all is refused for a file backend; --allow-empty-passphrase sets an empty one."""
    secret = tmp_path / "passphrase"
    secret.write_text("s3cret\n")
    done = run(stand_in, "deploy", "preview", "--topology", str(SMALL),
               PULUMI_CONFIG_PASSPHRASE_FILE=str(secret))
    assert done.returncode == 0, done.stderr
    envs = [c["env"] for c in calls(stand_in) if c["args"][:1] != ["version"]]
    assert envs and all(e == {"PULUMI_CONFIG_PASSPHRASE_FILE": str(secret)} for e in envs)

    refused = run(stand_in, "deploy", "preview", "--topology", str(SMALL))
    assert refused.returncode == 2
    assert "set PULUMI_CONFIG_PASSPHRASE_FILE" in refused.stderr
    assert "--allow-empty-passphrase" in refused.stderr

    stand_in["log"].unlink()
    allowed = run(stand_in, "deploy", "preview", "--topology", str(SMALL),
                  "--allow-empty-passphrase")
    assert allowed.returncode == 0, allowed.stderr
    assert all(c["env"] == {"PULUMI_CONFIG_PASSPHRASE": ""} for c in calls(stand_in)
               if c["args"][:1] != ["version"])


def test_policy_violation_stops_up_before_the_engine(stand_in: dict[str, Any],
                                                     tmp_path: Path) -> None:
    """A replica whose health check would probe a private address breaks dns-target-public:
    ``up`` stops with exit 3, naming rule, resource and fix, and never calls the engine."""
    text = SMALL.read_text().replace("hostname: models.tainan.example.tw",
                                     "hostname: 10.0.0.7")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    done = run(stand_in, "deploy", "up", "--topology", str(bad), "--yes",
               PULUMI_CONFIG_PASSPHRASE="x")
    assert done.returncode == 3, done.stderr
    assert "[dns-target-public] dns-example-tw-model-store-tainan-ngcc-health" in done.stderr
    assert "'10.0.0.7' is a private address" in done.stderr
    assert verbs(stand_in) == []


def test_declined_confirmation_changes_nothing(stand_in: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """When the confirmation says no, ``destroy`` previews and stops: no destroy call."""
    from georesil.model import load_topology
    from georesil.provision.automation import deploy

    for key, value in stand_in["env"].items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
    monkeypatch.chdir(stand_in["project"])
    asked: list[tuple[str, dict[str, int]]] = []
    result = deploy(load_topology(SMALL), "destroy",
                    confirm=lambda op, planned: asked.append((op, dict(planned))) or False)
    assert not result.applied and asked == [("destroy", {"create": 3})]
    assert verbs(stand_in) == ["destroy"]  # the preview of the destroy only
    assert any("--preview-only" in c["args"] or "preview" in c["args"]
               for c in calls(stand_in) if "destroy" in c["args"])


def test_refresh_and_drift(stand_in: dict[str, Any]) -> None:
    """``deploy refresh`` refreshes the state; ``deploy diff`` only previews a refresh."""
    assert run(stand_in, "deploy", "refresh", "--topology", str(SMALL),
               PULUMI_CONFIG_PASSPHRASE="x").returncode == 0
    assert run(stand_in, "deploy", "diff", "--topology", str(SMALL),
               PULUMI_CONFIG_PASSPHRASE="x").returncode == 0
    refreshes = [c["args"] for c in calls(stand_in) if "refresh" in c["args"]]
    assert len(refreshes) == 2
    assert "--preview-only" not in refreshes[0] and "--preview-only" in refreshes[1]
