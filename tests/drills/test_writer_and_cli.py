"""The demo writer honours the freeze and follows the active site; CLI guards."""

from __future__ import annotations

from pathlib import Path

import pytest

from georesil.cli.main import main
from georesil.drills.control import ControlPlane
from georesil.drills.environment import Environment
from georesil.drills.writer import Writer
from tests.drills._stack import promote

RUNBOOKS = Path(__file__).parent.parent.parent / "runbooks"


def test_writer_writes_nothing_while_frozen(env: Environment, workdir: Path) -> None:
    """A frozen service gets no writes; unfrozen, the writer writes again."""
    writer = Writer(env.clients, env.outputs, "store", workdir=workdir)
    cp = ControlPlane(env.clients, env.outputs)
    cp.set_frozen("store", True, "t")
    assert writer.write_once() is None and writer.stats.frozen_waits == 1
    cp.set_frozen("store", False, "t")
    assert writer.write_once()["status"] == "acked"


def test_writer_follows_the_active_site(env: Environment, workdir: Path) -> None:
    """After a switch in the control plane the writer writes to the new site's bucket."""
    writer = Writer(env.clients, env.outputs, "store", workdir=workdir)
    assert writer.write_once()["site"] == "north"
    promote(ControlPlane(env.clients, env.outputs), "store", "south", "t")
    entry = writer.write_once()
    assert (entry["site"], entry["bucket"]) == ("south", env.outputs.bucket("store", "south").name)


def test_plan_calls_no_cloud_api(monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`drill plan` lists the steps and the prediction without a single API call."""
    from botocore.client import BaseClient

    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("drill plan made an API call")

    monkeypatch.setattr(BaseClient, "_make_api_call", forbidden)
    with pytest.raises(SystemExit) as caught:
        main(["drill", "plan", str(RUNBOOKS / "storage-failover-planned.yaml"), "--json"])
    import json

    plan = json.loads(capsys.readouterr().out)
    assert caught.value.code == 0
    assert [s["step"] for s in plan["steps"] if s["phase"] == "method"][:2] == [
        "freeze-writes", "sync-mirror"]
    # Planned: writes are frozen and the mirror synced before cutover, so no loss is predicted.
    assert (plan["predicted_rto_s"], plan["predicted_rpo_s"]) == (600, 0)


@pytest.mark.parametrize(
    ("runbook", "expected"),
    [
        ("storage-failback.yaml", (600, 0)),  # starts from Tainan as primary, not the model's
        ("storage-failover-unplanned.yaml", (600, 900)),  # model-store: the async lag is lost
    ],
)
def test_plan_predicts_from_where_the_drill_starts(
    runbook: str, expected: tuple[float, float], capsys: pytest.CaptureFixture[str]
) -> None:
    """A failback is predicted from the failed-over state; an unplanned drill loses the lag."""
    import json

    with pytest.raises(SystemExit):
        main(["drill", "plan", str(RUNBOOKS / runbook), "--json"])
    plan = json.loads(capsys.readouterr().out)
    assert (plan["predicted_rto_s"], plan["predicted_rpo_s"]) == expected


def test_run_without_yes_and_without_a_terminal_is_refused(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Non-interactive `drill run` without --yes exits 2 with what to do; nothing runs."""
    with pytest.raises(SystemExit) as caught:
        main(["drill", "run", str(RUNBOOKS / "storage-failover-planned.yaml")])
    assert caught.value.code == 2
    assert "pass --yes" in capsys.readouterr().err
    assert not (workdir / ".georesil").exists()


def test_abort_with_no_drill_running_exits_2(workdir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`drill abort` with nothing running says so (bad input)."""
    with pytest.raises(SystemExit) as caught:
        main(["drill", "abort"])
    assert caught.value.code == 2 and "no running drill" in capsys.readouterr().err


def test_outputs_file_gives_an_environment_without_a_lab(tmp_path: Path) -> None:
    """Pulumi-style outputs ({key: {value: ...}}) become the stack outputs; no lab steps."""
    from georesil.drills.environment import outputs_environment
    from tests.drills._stack import mini_topology

    path = tmp_path / "outputs.json"
    path.write_text('{"control_table": {"value": "ctl", "secret": false}, '
                    '"control_site": "north"}')
    env = outputs_environment(mini_topology(), path)
    assert (env.outputs.table_name, env.outputs.control_site, env.lab) == ("ctl", "north", None)


def test_unreadable_outputs_file_is_bad_input(tmp_path: Path) -> None:
    """A missing outputs file says what to give instead."""
    from georesil.drills.environment import outputs_environment
    from georesil.errors import InvalidInput
    from tests.drills._stack import mini_topology

    with pytest.raises(InvalidInput, match="pulumi stack output --json"):
        outputs_environment(mini_topology(), tmp_path / "nope.json")


def test_history_without_drills_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """`drill history` where no drill ran says so in words; --json gives an empty list."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["drill", "history"])
    assert "no drills recorded" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["drill", "history", "--json"])
    assert capsys.readouterr().out.strip() == "[]"
