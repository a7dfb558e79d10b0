"""`georesil import` and the never-fail warning, through the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from georesil.model import load_topology

INVENTORY = Path(__file__).parent.parent / "fixtures" / "inventory"


def georesil(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "georesil", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def test_import_writes_a_loadable_topology(tmp_path: Path) -> None:
    """import -o writes a topology that loads; the summary goes to stderr."""
    out = tmp_path / "zoo.yaml"
    result = georesil("import", str(INVENTORY / "zoo.gml"), "--region-by", "lat", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert f"wrote {out}: 7 sites, 7 links" in result.stderr
    assert "still to fill in:" in result.stderr and "self-loop" in result.stderr
    topo = load_topology(out)
    assert {s.region for s in topo.sites.values()} == {"north", "south", "unassigned"}


def test_import_to_stdout(tmp_path: Path) -> None:
    """Without -o the topology goes to stdout, starting with the header comment."""
    result = georesil("import", str(INVENTORY / "net.graphml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Imported from")
    path = tmp_path / "net.yaml"
    path.write_text(result.stdout)
    assert len(load_topology(path).sites) == 4


def test_import_bad_region_rule_exit_2() -> None:
    """An unknown --region-by is bad input: exit 2, no traceback."""
    result = georesil("import", str(INVENTORY / "zoo.gml"), "--region-by", "country")
    assert result.returncode == 2
    assert "--region-by: got 'country'; allowed: lat, lon, cluster:N" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_csv_unknown_site_exit_2(tmp_path: Path) -> None:
    """A links.csv row naming an unknown site fails with file and line."""
    (tmp_path / "sites.csv").write_text("id,lat,lon\nA,1,2\n")
    (tmp_path / "links.csv").write_text("a,b\nA,B\n")
    result = georesil("import", str(tmp_path))
    assert result.returncode == 2
    assert f"{tmp_path / 'links.csv'}:2: b: unknown site 'B'" in result.stderr


def test_import_unknown_suffix_exit_2(tmp_path: Path) -> None:
    """A file whose format cannot be told asks for --format."""
    path = tmp_path / "net.txt"
    path.write_text("x")
    result = georesil("import", str(path))
    assert result.returncode == 2
    assert "give --format gml, graphml or csv" in result.stderr


def test_validate_warns_about_elements_that_never_fail(tmp_path: Path) -> None:
    """validate names how many elements have no failure data (exit 0)."""
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\nname: t\nsites:\n  - id: a\n  - id: b\n"
                    "    unavailability: 0.001\nlinks:\n  - {id: l, a: a, b: b}\n")
    result = georesil("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "warning: 2 of 3 elements can never fail (no failure data): site:a, link:l" \
        in result.stderr
