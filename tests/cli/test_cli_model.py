"""The CLI shell: validate, show, schema, exit codes, and a light start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BAD = Path(__file__).parent.parent / "fixtures" / "bad"
HEAVY = ("boto3", "botocore", "pulumi", "pulumi_aws", "numba", "matplotlib", "dask", "moto")


def georesil(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "georesil", *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )


def test_validate_bad_file_lists_problems_exit_2() -> None:
    """A malformed topology exits 2 with every problem and no traceback."""
    result = georesil("validate", str(BAD / "34-several-problems.yaml"))
    assert result.returncode == 2
    assert "5 problems in topology" in result.stderr
    assert "34-several-problems.yaml:7:23: links[0].b: unknown site 'c'" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_good_file_prints_summary(tmp_path: Path, base_doc: dict) -> None:
    """A valid topology exits 0 with a one-line summary."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps(base_doc))
    result = georesil("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "ok: two-sides: 3 sites, 4 links, 2 services, 2 zones, 1 SRLG, 1 scenario"
    )


def test_show_json_round_trips(tmp_path: Path, base_doc: dict) -> None:
    """show --json prints the normalised model, which validates to itself."""
    path = tmp_path / "t.yaml"
    path.write_text(json.dumps(base_doc))
    first = georesil("show", str(path), "--json")
    assert first.returncode == 0, first.stderr
    again = tmp_path / "again.json"
    again.write_text(first.stdout)
    second = georesil("show", str(again), "--json")
    assert json.loads(second.stdout) == json.loads(first.stdout)


def test_show_tables_name_every_site(tmp_path: Path, base_doc: dict) -> None:
    """The human view lists every site, link and service."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps(base_doc))
    result = georesil("show", str(path))
    assert result.returncode == 0, result.stderr
    for ident in ("north", "mid", "south", "w1", "east", "dns", "store", "grid-n"):
        assert ident in result.stdout


def test_schema_is_json_schema() -> None:
    """schema prints a JSON Schema naming the top-level sections."""
    result = georesil("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert {"version", "name", "sites", "links", "services", "zones"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_usage_error_exits_2() -> None:
    """An unknown option is a usage error with exit code 2."""
    result = georesil("validate", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr


def test_bad_log_level_exits_2() -> None:
    """A bad global option value is explained, exit 2."""
    result = georesil("--log-level", "loud", "validate", str(BAD / "02-duplicate-site-id.yaml"))
    assert result.returncode == 2
    assert "--log-level: got 'loud'" in result.stderr


def test_debug_shows_traceback() -> None:
    """--debug adds the traceback to an expected error."""
    result = georesil("--debug", "validate", str(BAD / "02-duplicate-site-id.yaml"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"]])
def test_start_up_imports_no_heavy_library(args: list[str]) -> None:
    """--help and validate never import boto3, pulumi, numba, matplotlib, dask or moto."""
    code = (
        "import sys\n"
        "from georesil.cli.main import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert "HEAVY []" in result.stderr, result.stderr


def test_validate_imports_no_heavy_library(tmp_path: Path, base_doc: dict) -> None:
    """Validating a topology stays clear of the heavy libraries too."""
    path = tmp_path / "t.json"
    path.write_text(json.dumps(base_doc))
    code = (
        "import sys\n"
        "from georesil.cli.main import main\n"
        "try:\n"
        f"    main(['validate', {str(path)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert "HEAVY []" in result.stderr, result.stderr
