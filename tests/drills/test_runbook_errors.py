"""Malformed runbooks: every problem at once, each with file:line:column, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from georesil.cli.main import main
from georesil.drills import load_runbook, parse_runbook
from georesil.errors import InvalidRunbook

FIXTURES = Path(__file__).parent.parent / "fixtures" / "runbooks"
ROOT = Path(__file__).parent.parent.parent

#: fixture -> the problems it must report, as "line:column: field: message start".
EXPECTED: dict[str, list[str]] = {
    "unknown-step.yaml": [
        "8:13: method[0].action: unknown action 'writes.frezee'; known steps: "
        "'control.active_site'",
    ],
    "bad-args.yaml": [
        "9:21: method[0].args.drain_s: input should be greater than or equal to 0; got -1",
        "11:12: method[1].args.second: unknown key 'second'; allowed keys: 'seconds' "
        "(did you mean 'seconds'?)",
        "13:11: method[2].args.seconds: step 'wait' needs argument 'seconds'",
    ],
    "unknown-sites-and-services.yaml": [
        "3:12: services[0]: unknown service 'model-stor'",
        "5:5: to: unknown site 'tainan-ngc'",
        "9:18: method[0].args.site: unknown site 'tainan'; use a site id, '$from', '$to' or "
        "'$active'",
        "11:21: method[1].args.service: service 'inference-api' is not one the runbook moves",
    ],
    "test-mode-mutates.yaml": [
        "9:5: method[1].action: mode 'test' changes nothing that serves clients; "
        "'control.set_active_site' does",
        "10:5: method[2].action: mode 'test' changes nothing that serves clients; "
        "'dns.set_primary' does",
    ],
    "steady-state-shape.yaml": [
        "8:5: steady_state[0]: a steady_state probe needs a 'tolerance'",
        "9:5: steady_state[1]: only probes have a 'tolerance'; this step is an action",
        "12:16: steady_state[2].tolerance: a tolerance needs at least one of 'equals'",
        "14:5: method[0]: a step names exactly one of 'probe' or 'action'",
    ],
    "wrong-kind.yaml": [
        "8:5: method[0].action: 's3.read_write' is a registered probe, not an action; "
        "write `probe: s3.read_write`",
        "9:5: method[1].probe: 'mirror.sync' is a registered action, not a probe",
        "13:9: method[3].id: duplicate step id 'twice' (also step 2 of method)",
    ],
    "header.yaml": [
        "1:1: from: required field 'from' is missing",
        "1:10: version: input should be 1; got 2",
        "2:7: name: ids are 1-63 characters",
        "3:11: services: needs at least 1 entry; got none",
        "5:7: mode: input should be 'test', 'planned' or 'unplanned'; got 'sometimes'",
        "6:1: colour: unknown key 'colour'; allowed keys: 'description', 'from'",
        "9:11: rollback.policy: input should be 'default', 'always', 'never' or "
        "'on-deviation'; got 'maybe'",
        "10:3: rollback.stepz: unknown key 'stepz'; allowed keys: 'policy', 'steps' "
        "(did you mean 'steps'?)",
    ],
    "not-yaml.yaml": ["4:7: not valid YAML: expected ',' or ']'"],
    "no-replica.yaml": [
        "3:12: services[0]: service 'monitoring' has no replica at the to-site "
        "'kaohsiung-dc'",
        "3:24: services[1]: service 'model-store' has no replica at the to-site "
        "'kaohsiung-dc'",
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_runbook_reports_every_problem_with_its_position(name: str) -> None:
    """Each fixture reports all its problems, each at its file:line:column."""
    with pytest.raises(InvalidRunbook) as caught:
        load_runbook(FIXTURES / name)
    rendered = [str(p).split(f"{name}:", 1)[1] for p in caught.value.problems]
    for expected in EXPECTED[name]:
        assert any(line.startswith(expected) for line in rendered), (expected, rendered)


def test_fixtures_are_all_checked() -> None:
    """Every fixture file has its expectations here (and there are at least six)."""
    assert sorted(p.name for p in FIXTURES.glob("*.yaml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 6


def test_cli_prints_every_problem_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`drill run` on a malformed runbook exits 2 listing the problems, and runs nothing."""
    path = FIXTURES / "wrong-kind.yaml"
    with pytest.raises(SystemExit) as caught:
        main(["drill", "run", str(path), "--yes"])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert "3 problems in runbook" in err and "wrong-kind.yaml:8:5" in err


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    """A runbook that does not exist is an InvalidRunbook naming it."""
    with pytest.raises(InvalidRunbook, match="no such file"):
        load_runbook(tmp_path / "nope.yaml")


def test_a_non_mapping_is_refused() -> None:
    """A YAML list is not a runbook."""
    with pytest.raises(InvalidRunbook, match="a runbook is a mapping"):
        parse_runbook("- a\n- b\n", "x.yaml")


@pytest.mark.parametrize("path", sorted((ROOT / "runbooks").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_shipped_runbooks_are_valid(path: Path) -> None:
    """Every runbook shipped in runbooks/ validates against the reference topology (the
    failback runbook with the parameters `drill failback` gives it)."""
    params = ({"services": "model-store", "from": "tainan-ngcc", "to": "taipei-neihu"}
              if path.stem == "failback" else {})
    assert load_runbook(path, parameters=params).method
