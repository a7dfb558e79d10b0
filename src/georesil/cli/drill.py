"""``georesil drill``: plan, run, abort, resume and list failover drills (docs/runbooks.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from georesil.cli._common import JsonOpt, console, print_json

if TYPE_CHECKING:
    from georesil.drills.loader import Runbook, Step
    from georesil.drills.runner import DrillRun

OutputsOpt = typer.Option(None, "--outputs", help="Stack outputs JSON (`pulumi stack output "
                          "--json`): drill the deployed stack at the topology's endpoints "
                          "instead of the lab here.", show_default=False)
RunbookArg = typer.Argument(..., help="Runbook file (YAML).", metavar="RUNBOOK",
                            show_default=False)


def plan(runbook: Path = RunbookArg, as_json: bool = JsonOpt) -> None:
    """Show what a drill would do, in order, and the predicted RTO/RPO. Calls no cloud API."""
    from georesil.drills import load_runbook
    from georesil.drills.measure import predict

    rb = load_runbook(runbook)
    pred = predict(rb)
    rows = [_plan_row(step) for step in (*rb.steady_state, *rb.method, *rb.rollback)]
    if as_json:
        print_json({"runbook": rb.name, "mode": rb.doc.mode.value,
                    "services": list(rb.doc.services), "from": list(rb.doc.from_sites),
                    "to": rb.doc.to_site, "rto_target_s": rb.rto_target_s,
                    "rpo_target_s": rb.rpo_target_s, "predicted_rto_s": pred.rto_s,
                    "predicted_rpo_s": pred.rpo_s, "predicted": pred.services, "steps": rows})
        return
    out = _console()
    out.print(f"[bold]{rb.name}[/bold] ({rb.doc.mode.value}): "
              f"{', '.join(rb.doc.services)} from {', '.join(rb.doc.from_sites)} to "
              f"{rb.doc.to_site}")
    out.print(f"targets: RTO {rb.rto_target_s:g} s, RPO {rb.rpo_target_s:g} s; predicted by "
              f"the analysis model: RTO {_num(pred.rto_s)} s, RPO {_num(pred.rpo_s)} s; "
              f"rollback policy: {rb.doc.rollback.policy.value}")
    predicted = [{"service": svc, "from": ", ".join(s for s in rb.doc.from_sites
                                                    if s in _replica_sites(rb, svc)),
                  "to": rb.doc.to_site, "rto_target_s": _num(rb.topology.service(svc).rto_s),
                  "rpo_target_s": _num(rb.topology.service(svc).rpo_s), **{
                      k: _num(v) if isinstance(v, float) else v for k, v in p.items()}}
                 for svc, p in pred.services.items()]
    out.print(_table("Predicted when the from-sites fail (analysis model)", predicted,
                     ("service", "from", "to", "status", "serving_site", "recovery_s",
                      "data_loss_s", "rto_target_s", "rpo_target_s")))
    out.print(_table("Plan", rows, ("phase", "#", "step", "kind", "name", "args", "timeout_s",
                                    "safe_to_repeat", "approval")))


def _replica_sites(rb: Runbook, service: str) -> set[str]:
    return {r.site for r in rb.topology.service(service).replicas}


def _plan_row(step: Step) -> dict[str, Any]:
    return {"phase": step.phase, "#": step.index + 1, "step": step.id,
            "kind": step.definition.kind.value, "name": step.definition.name,
            "args": " ".join(f"{k}={v}" for k, v in step.args.model_dump(
                exclude_defaults=True).items()) or "-",
            "timeout_s": step.spec.timeout_s,
            "safe_to_repeat": step.safe_to_repeat, "approval": step.spec.approval,
            "mutating": step.definition.mutating}


def validate(runbook: Path = RunbookArg) -> None:
    """Check a runbook; print a one-line summary, or every problem (exit 2)."""
    from georesil.drills import load_runbook

    rb = load_runbook(runbook)
    typer.echo(f"ok: {rb.name}: {len(rb.steady_state)} steady-state probes, "
               f"{len(rb.method)} method steps, {len(rb.rollback)} rollback steps")


def run(
    runbook: Path = RunbookArg,
    yes: bool = typer.Option(False, "--yes", "-y", help="Pass every approval gate."),
    journal: Path | None = typer.Option(None, "--journal", help="Journal file (default: "
                                        ".georesil/drills/TIME-RUNID.jsonl)."),
    outputs: Path | None = OutputsOpt,
) -> None:
    """Run a drill (in the lab of the working directory unless --outputs); exit 1 unless it
    completed."""
    from georesil.drills import load_runbook
    from georesil.drills.runner import raise_for_status, run_drill

    if not yes and not approve_start(load_runbook(runbook)):
        raise typer.Exit(1)
    rb, env = _environment(runbook, outputs)
    approve = _approver(yes)
    result = run_drill(rb, env, workdir=Path.cwd(), journal_path=journal, approve=approve)
    _render(result)
    raise_for_status(result)


def abort(run_id: str | None = typer.Option(None, "--run-id", help="The run to stop (default:"
                                            " every running drill here).")) -> None:
    """Ask running drills to stop at the next step boundary and roll back."""
    from georesil.drills.safety import request_abort

    for rid in request_abort(Path.cwd(), run_id):
        typer.echo(f"abort requested: {rid}")


def resume(
    journal: Path = typer.Argument(..., help="Journal of the drill to continue.",
                                   metavar="JOURNAL"),
    yes: bool = typer.Option(False, "--yes", "-y", help="Pass every approval gate."),
    outputs: Path | None = OutputsOpt,
) -> None:
    """Continue a drill whose orchestrator died, if the world still matches its journal."""
    from georesil.drills.journal import Journal
    from georesil.drills.resume import resume_drill
    from georesil.drills.runner import raise_for_status

    _, env = _environment(Path(Journal.load(journal).started["runbook"]), outputs)
    result = resume_drill(journal, env, approve=_approver(yes))
    _render(result)
    raise_for_status(result)


def history(as_json: bool = JsonOpt) -> None:
    """Past drills here: status, measured RTO/RPO against targets and the prediction."""
    from georesil.drills.history import HISTORY_KEYS, drill_history

    entries = drill_history(Path.cwd())
    if as_json:
        print_json(entries)
        return
    if not entries:
        typer.echo(f"no drills recorded under {Path.cwd() / '.georesil' / 'drills'} yet; "
                   "run one with `georesil drill run RUNBOOK`")
        return
    rows = [{k: _num(v) if isinstance(v, float) else v for k, v in e.items()} for e in entries]
    _console().print(_table("Drill history", rows, HISTORY_KEYS))


# -- helpers --------------------------------------------------------------------------------------
def _environment(path: Path, outputs: Path | None) -> tuple[Runbook, Any]:
    """The runbook and where it runs: the lab here, or a deployed stack (``--outputs``)."""
    from georesil.drills import load_runbook
    from georesil.drills.environment import lab_environment, outputs_environment
    from georesil.errors import InvalidInput

    rb = load_runbook(path)
    if outputs is not None:
        return rb, outputs_environment(rb.topology, outputs)
    env = lab_environment(Path.cwd())
    if env.topology.name != rb.topology.name:
        raise InvalidInput(f"{path}: the runbook is for topology {rb.topology.name!r} but the "
                           f"lab here runs {env.topology.name!r}; start a lab for it with "
                           "`georesil lab up --topology FILE`", path=str(path))
    return load_runbook(path, topology=env.topology), env


def approve_start(rb: Runbook) -> bool:
    """Ask a person to confirm the start; refuse plainly when nobody can answer."""
    from georesil.errors import InvalidInput

    if not sys.stdin.isatty():
        raise InvalidInput("this drill changes which site serves "
                           f"{', '.join(rb.doc.services)} and standard input is not a "
                           "terminal, so nobody can approve it: pass --yes to approve "
                           "every gate")
    return typer.confirm(f"Run drill {rb.name!r} ({rb.doc.mode.value}): move "
                         f"{', '.join(rb.doc.services)} to {rb.doc.to_site}?")


def _approver(yes: bool) -> Any:
    def approve(step: Step) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return typer.confirm(f"[{step.id}] {step.spec.approval} — go on?")
    return approve


def _render(result: DrillRun) -> None:
    rows = [{"phase": o.phase, "#": o.index + 1, "step": o.id, "name": o.name,
             "status": o.status, "duration_s": o.duration_s, "error": o.error or ""}
            for o in result.outcomes
            if o.phase != "stop_conditions" or o.status != "succeeded"]  # only the trips
    _console().print(_table(f"Drill {result.runbook.name} — run {result.run_id}",
                                       rows, ("phase", "#", "step", "name", "status",
                                              "duration_s", "error")))
    s = result.summary
    typer.echo(f"drill.finished run_id={result.run_id} status={s['status']} "
               f"rto_s={_num(s['rto_s'])} rpo_s={_num(s['rpo_s'])} "
               f"rpo_objects={s['rpo_objects'] if s['rpo_objects'] is not None else '-'} "
               f"duration_s={_num(s['duration_s'])} split_brain={str(s['split_brain']).lower()} "
               f"journal={result.journal.path}")


def _table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


def _console() -> Any:
    """A console as wide as the terminal, or 160 columns when writing to a pipe or file."""
    out = console()
    if not out.is_terminal:
        out.width = 160
    return out


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def register(app: typer.Typer) -> None:
    """Add the ``drill`` command group to ``app``."""
    group = typer.Typer(name="drill", help="Failover drills from runbooks: plan, run, abort, "
                        "resume, history.", no_args_is_help=True)
    group.command("plan")(plan)
    group.command("validate")(validate)
    group.command("run")(run)
    group.command("abort")(abort)
    group.command("resume")(resume)
    group.command("history")(history)
    app.add_typer(group)
