"""``georesil inject`` and ``georesil analyze``: JSON, tables, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from georesil.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def topo_file(tmp_path: Path, base_doc: dict[str, Any]) -> str:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(base_doc))
    return str(path)


def test_inject_json_matches_the_documented_format(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """inject --json prints failed, per-service outcomes and overflows in the documented shape."""
    code, out, _ = run(capsys, "inject", topo_file, "--fail", "site:north", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["failed"] == ["site:north"]
    assert data["services"]["store"] == {
        "status": "failover", "serving_site": "south", "data_loss_s": 60, "recovery_s": 600,
        "split_brain_risk": False, "clients_served": 1.0,
        "reason": "primary site north down; failed over to south"}
    assert data["capacity_overflow"] == []


def test_inject_scenario_expands_its_references(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """--scenario fails what the scenario lists, expanded to base elements."""
    code, out, _ = run(capsys, "inject", topo_file, "--scenario", "cut", "--json")
    assert (code, json.loads(out)["failed"]) == (0, ["link:w1", "link:w2"])


def test_inject_scenario_applies_its_quake(capsys, tmp_path, base_doc) -> None:  # type: ignore[no-untyped-def]
    """A scenario with a quake fails what the quake breaks too, and reports the shaking."""
    base_doc["sites"][2]["fragility"] = {"median_g": 0.05, "beta": 0.3}  # a fragile south site
    base_doc["scenarios"].append({"id": "quake-south", "fail": ["link:s1"],
                                  "quake": {"lat": 23.10, "lon": 120.28, "magnitude": 6.5,
                                            "depth_km": 10}})
    path = tmp_path / "t.json"
    path.write_text(json.dumps(base_doc))
    code, out, _ = run(capsys, "inject", str(path), "--scenario", "quake-south", "--json")
    data = json.loads(out)
    assert code == 0 and data["quake"]["magnitude"] == 6.5
    assert data["failed"] == ["link:s1", "site:south"]  # the scenario's list + the quake's
    code, out, _ = run(capsys, "analyze", str(path), "--json")
    assert data["services"] == json.loads(out)["scenarios"]["quake-south"]["services"]


def test_inject_unknown_reference_exits_2(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """An unknown --fail reference exits 2 naming it and the known ids, without a traceback."""
    code, _, err = run(capsys, "inject", topo_file, "--fail", "link:w9")
    assert code == 2
    assert "unknown link 'w9'; known links: 'east', 's1', 'w1', 'w2'" in err
    assert "Traceback" not in err


def test_inject_malformed_reference_exits_2(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """A malformed reference exits 2 listing the allowed forms."""
    code, _, err = run(capsys, "inject", topo_file, "--fail", "north")
    assert code == 2
    assert "malformed failure reference 'north'; allowed: site:ID" in err


def test_inject_table_shows_status_and_reason(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """The human output names the failure, each status and the summary."""
    code, out, _ = run(capsys, "inject", topo_file, "--fail", "site:north")
    assert code == 0
    assert "Failed: site:north" in out
    assert "failover" in out and "2 failover" in out


def test_analyze_json_has_every_section(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """analyze --json prints every documented section."""
    code, out, _ = run(capsys, "analyze", topo_file, "--json")
    data = json.loads(out)
    assert code == 0
    assert list(data) == ["exact", "spofs", "cut_sets", "shared_risks", "region_cuts", "nk",
                          "scenarios", "network", "control_plane"]
    assert data["cut_sets"]["dns"] == [["site:north", "site:south"]]
    assert {"element": "srlg:west", "down": [], "breach": []} not in data["shared_risks"]


def test_analyze_explains_findings_in_words(capsys, tmp_path, base_doc) -> None:  # type: ignore[no-untyped-def]
    """The human output explains each single point of failure in a sentence."""
    base_doc["services"][0]["replicas"] = [{"site": "north", "role": "primary"}]
    path = tmp_path / "spof.json"
    path.write_text(json.dumps(base_doc))
    code, out, _ = run(capsys, "analyze", str(path))
    assert code == 0
    assert ("site:north is a single point of failure for dns (its only replica) and store "
            "(depends on dns, which goes down too)") in out


def test_analyze_max_order_above_3_exits_2(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """--max-order 4 exits 2 saying what is allowed and why."""
    code, _, err = run(capsys, "analyze", topo_file, "--max-order", "4")
    assert code == 2
    assert "--max-order: got 4; allowed: 1 to 3" in err
    assert "georesil simulate" in err


def test_analyze_without_services_reports_the_network(capsys, tmp_path, base_doc) -> None:  # type: ignore[no-untyped-def]
    """Without services, analyze reports articulation sites, bridges and region cuts."""
    base_doc["services"] = []
    path = tmp_path / "bare.json"
    path.write_text(json.dumps(base_doc))
    code, out, _ = run(capsys, "analyze", str(path), "--json")
    assert code == 0
    network = json.loads(out)["network"]
    assert set(network) >= {"articulation_sites", "bridges", "partitioning_groups", "nk",
                            "exact", "site_pairs"}
    code, out, _ = run(capsys, "analyze", str(path))
    assert code == 0
    assert "Network" in out and "Region cuts" in out


def test_analyze_over_max_sets_exits_2_naming_the_flag(capsys, topo_file) -> None:  # type: ignore[no-untyped-def]
    """A sweep larger than --max-sets is bad input that says how to lift the limit."""
    code, _, err = run(capsys, "analyze", topo_file, "--max-sets", "3")
    assert code == 2
    assert "raise --max-sets" in err


def test_small_analysis_never_starts_numba(topo_file) -> None:  # type: ignore[no-untyped-def]
    """inject and a small analyze run without importing numba (its start-up costs a second)."""
    code = (
        "import sys\n"
        "from georesil.cli.main import main\n"
        f"for argv in (['inject', {topo_file!r}, '--fail', 'site:north'],\n"
        f"             ['analyze', {topo_file!r}, '--json']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('NUMBA', 'numba' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert "NUMBA False" in result.stderr, result.stderr
