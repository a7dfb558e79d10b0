"""``georesil drill``: list, plan, run, fail back, abort, resume, repair failover drills
(docs/runbooks.md)."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from georesil.cli._common import JsonOpt, console, print_json

if TYPE_CHECKING:
    from georesil.drills import Environment
    from georesil.drills.loader import Runbook, Step
    from georesil.drills.run_state import DrillRun


class Format(enum.StrEnum):
    """How tables are printed."""

    TABLE = "table"
    PLAIN = "plain"


OutputsOpt = typer.Option(None, "--outputs", help="Stack outputs JSON (`pulumi stack output "
                          "--json`): drill the deployed stack at the topology's endpoints "
                          "instead of the lab here.", show_default=False)
RunbookArg = typer.Argument(..., help="A runbook name (see `georesil drill list`) or file.",
                            metavar="RUNBOOK", show_default=False)
SetOpt = typer.Option([], "--set", help="Bind a runbook parameter: NAME=VALUE (repeatable; "
                      "lists comma-separated).", metavar="NAME=VALUE", show_default=False)
FormatOpt = typer.Option(None, "--format", help="table (default on a terminal) or plain "
                         "(default otherwise: aligned text that never cuts an id).",
                         show_default=False)
YesOpt = typer.Option(False, "--yes", "-y", help="Pass every approval gate.")


def list_runbooks(as_json: bool = JsonOpt, fmt: Format | None = FormatOpt) -> None:
    """Runbooks you can run by name: ./runbooks/ first, then the bundled ones."""
    from georesil.drills.catalog import list_runbooks as catalog

    entries = catalog(Path.cwd())
    if as_json:
        print_json([{"name": e.name, "source": e.source, "path": str(e.path),
                     "mode": e.mode, "description": e.description,
                     "parameters": e.parameters, "error": e.error} for e in entries])
        return
    rows = [{"name": e.name, "mode": e.mode or "?", "source": e.source,
             "parameters": " ".join(f"{k}={_show(v['default'])}" if v["default"] is not None
                                    else f"{k}=<{v['type']}>"
                                    for k, v in e.parameters.items()) or "-",
             "description": e.error or e.description or ""} for e in entries]
    _print_table("Runbooks", rows, ("name", "mode", "source", "parameters", "description"),
                 fmt)


def plan(runbook: str = RunbookArg, sets: list[str] = SetOpt, as_json: bool = JsonOpt,
         fmt: Format | None = FormatOpt) -> None:
    """Show what a drill would do, in order, and the predicted status, RTO and RPO per
    service under the runbook's mode. Calls no cloud API."""
    from georesil.drills.measure import predict

    rb = _load(runbook, sets)
    pred = predict(rb)
    rows = [_plan_row(step) for step in (*rb.steady_state, *rb.method, *rb.rollback)]
    if as_json:
        print_json({"runbook": rb.name, "mode": rb.doc.mode.value,
                    "parameters": dict(rb.parameters),
                    "services": list(rb.doc.services), "from": list(rb.doc.from_sites),
                    "to": rb.doc.to_site, "rto_target_s": rb.rto_target_s,
                    "rpo_target_s": rb.rpo_target_s, "predicted_rto_s": pred.rto_s,
                    "predicted_rpo_s": pred.rpo_s,
                    "predicted": {k: v.to_json() for k, v in pred.services.items()},
                    "steps": rows})
        return
    _say(f"{rb.name} ({rb.doc.mode.value}): {', '.join(rb.doc.services)} from "
         f"{', '.join(rb.doc.from_sites)} to {rb.doc.to_site}")
    if rb.parameters:
        _say("parameters: " + " ".join(f"{k}={_show(v)}" for k, v in rb.parameters.items()))
    _say(f"targets: RTO {rb.rto_target_s:g} s, RPO {rb.rpo_target_s:g} s; predicted by the "
         f"analysis model ({rb.doc.mode.value}): RTO {_num(pred.rto_s)} s, RPO "
         f"{_num(pred.rpo_s)} s; rollback policy: {rb.doc.rollback.policy.value}")
    predicted = [{"service": p.service, "from": p.from_site or "-", "to": p.to_site,
                  "status": p.status, "rto_s": _num(p.recovery_s),
                  "rpo_s": _num(p.data_loss_s), "rto_target_s": _num(p.rto_target_s),
                  "rpo_target_s": _num(p.rpo_target_s)} for p in pred.services.values()]
    _print_table(f"Predicted per service ({rb.doc.mode.value})", predicted,
                 ("service", "from", "to", "status", "rto_s", "rpo_s", "rto_target_s",
                  "rpo_target_s"), fmt)
    _print_table("Plan", rows, ("phase", "#", "step", "kind", "name", "args", "timeout_s",
                                "safe_to_repeat", "approval"), fmt)


def _plan_row(step: Step) -> dict[str, Any]:
    return {"phase": step.phase, "#": step.index + 1, "step": step.id,
            "kind": step.definition.kind.value, "name": step.definition.name,
            "args": " ".join(f"{k}={v}" for k, v in step.args.model_dump(
                exclude_defaults=True).items()) or "-",
            "timeout_s": step.spec.timeout_s,
            "safe_to_repeat": step.safe_to_repeat, "approval": step.spec.approval,
            "mutating": step.definition.mutating}


def validate(runbook: str = RunbookArg, sets: list[str] = SetOpt) -> None:
    """Check a runbook; print a one-line summary, or every problem (exit 2)."""
    rb = _load(runbook, sets)
    typer.echo(f"ok: {rb.name}: {len(rb.steady_state)} steady-state probes, "
               f"{len(rb.method)} method steps, {len(rb.rollback)} rollback steps")


def run(
    runbook: str = RunbookArg,
    sets: list[str] = SetOpt,
    yes: bool = YesOpt,
    journal: Path | None = typer.Option(None, "--journal", help="Journal file (default: "
                                        ".georesil/drills/TIME-RUNID.jsonl)."),
    outputs: Path | None = OutputsOpt,
    fmt: Format | None = FormatOpt,
) -> None:
    """Run a drill (in the lab of the working directory unless --outputs); exit 1 unless it
    completed."""
    from georesil.drills.runner import raise_for_status, run_drill

    if not yes and not approve_start(_load(runbook, sets)):
        raise typer.Exit(1)
    rb, env = _environment(runbook, sets, outputs)
    result = run_drill(rb, env, workdir=Path.cwd(), journal_path=journal,
                       approve=_approver(yes))
    _render(result, fmt)
    raise_for_status(result)


def failback(
    run_id: str = typer.Argument(..., help="The run to reverse (a unique prefix will do).",
                                 metavar="RUN_ID"),
    yes: bool = YesOpt,
    outputs: Path | None = OutputsOpt,
    fmt: Format | None = FormatOpt,
) -> None:
    """Reverse a completed failover (storage, DNS, evacuation) with the safety of a planned
    drill: freeze, reverse sync, verify, switch, unfreeze. Recorded like any drill."""
    from georesil.drills.failback import plan_failback, run_failback
    from georesil.drills.history import find_run
    from georesil.drills.runner import raise_for_status

    view = find_run(run_id, Path.cwd())
    env = _env_for(outputs, None)
    plans = plan_failback(view, env, Path.cwd())
    for p in plans:
        _say(f"failback of {view.run_id}: {', '.join(p.services)} from {p.from_site} to "
             f"{p.to_site}" + (f" (reviving {p.to_site} first)" if p.revive else ""))
    if not yes and not _confirm(f"Fail back run {view.run_id} ({len(plans)} drill(s))?",
                                "this failback changes which site serves"):
        raise typer.Exit(1)
    runs = run_failback(plans, env, workdir=Path.cwd(), approve=_approver(yes))
    for result in runs:
        _render(result, fmt)
    for result in runs:
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
    yes: bool = YesOpt,
    outputs: Path | None = OutputsOpt,
    fmt: Format | None = FormatOpt,
) -> None:
    """Continue a drill whose orchestrator died, if the world still matches its journal."""
    from georesil.drills import load_runbook
    from georesil.drills.journal import Journal
    from georesil.drills.parameters import as_text
    from georesil.drills.resume import resume_drill
    from georesil.drills.runner import raise_for_status

    started = Journal.load(journal).started
    rb = load_runbook(started["runbook"], parameters=as_text(started.get("parameters") or {}))
    env = _env_for(outputs, rb)
    result = resume_drill(journal, env, approve=_approver(yes))
    _render(result, fmt)
    raise_for_status(result)


def repair(
    service: str = typer.Argument(..., help="The service whose control-plane entry to repair.",
                                  metavar="SERVICE"),
    yes: bool = YesOpt,
    outputs: Path | None = OutputsOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make the control plane consistent for SERVICE: rewrite its serving-site parameter from
    the register (the last committed epoch) and release drill locks of runs that are over."""
    from georesil.drills.repair import plan_repair, repair_service

    env = _env_for(outputs, None)
    plan_ = plan_repair(env, service, Path.cwd())
    if not as_json:
        for line in plan_.describe():
            _say(line)
    if not plan_.changes:
        if as_json:
            print_json(plan_.to_json())
        return
    if not yes and not _confirm("Apply these repairs?", "repair changes the control plane"):
        raise typer.Exit(1)
    done = repair_service(env, plan_)
    if as_json:
        print_json(done.to_json())
    else:
        _say(f"repaired: {service} is active at {done.site!r} (epoch {done.epoch}); "
             "parameter and register agree")


def history(as_json: bool = JsonOpt, fmt: Format | None = FormatOpt) -> None:
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
    _print_table("Drill history", rows, HISTORY_KEYS, fmt)


# -- helpers --------------------------------------------------------------------------------------
def _load(ref: str, sets: list[str], topology: Any = None) -> Runbook:
    from georesil.drills import load_runbook
    from georesil.drills.catalog import find_runbook
    from georesil.drills.parameters import parse_assignments
    from georesil.errors import InvalidInput

    try:
        params = parse_assignments(sets)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="set") from None
    return load_runbook(find_runbook(ref, Path.cwd()), topology=topology, parameters=params)


def _env_for(outputs: Path | None, rb: Runbook | None) -> Environment:
    """The lab here, or a deployed stack (``--outputs``, for ``rb``'s topology)."""
    from georesil.drills import lab_environment, outputs_environment
    from georesil.model import load_topology

    if outputs is not None:
        return outputs_environment(rb.topology if rb else load_topology(), outputs)
    return lab_environment(Path.cwd())


def _environment(ref: str, sets: list[str], outputs: Path | None) -> tuple[Runbook, Any]:
    """The runbook and where it runs: the lab here, or a deployed stack (``--outputs``)."""
    from georesil.errors import InvalidInput

    rb = _load(ref, sets)
    if outputs is not None:
        return rb, _env_for(outputs, rb)
    env = _env_for(None, rb)
    if env.topology.name != rb.topology.name:
        raise InvalidInput(f"{ref}: the runbook is for topology {rb.topology.name!r} but the "
                           f"lab here runs {env.topology.name!r}; start a lab for it with "
                           "`georesil lab up --topology FILE`", path=str(ref))
    return _load(ref, sets, env.topology), env


def approve_start(rb: Runbook) -> bool:
    """Ask a person to confirm the start; refuse plainly when nobody can answer."""
    return _confirm(f"Run drill {rb.name!r} ({rb.doc.mode.value}): move "
                    f"{', '.join(rb.doc.services)} to {rb.doc.to_site}?",
                    f"this drill changes which site serves {', '.join(rb.doc.services)}")


def _confirm(question: str, why: str) -> bool:
    from georesil.errors import InvalidInput

    if not sys.stdin.isatty():
        raise InvalidInput(f"{why} and standard input is not a terminal, so nobody can "
                           "approve it: pass --yes to approve every gate")
    return typer.confirm(question)


def _approver(yes: bool) -> Any:
    def approve(step: Step) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        return typer.confirm(f"[{step.id}] {step.spec.approval} — go on?")
    return approve


def _render(result: DrillRun, fmt: Format | None) -> None:
    rows = [{"phase": o.phase, "#": o.index + 1, "step": o.id, "name": o.name,
             "status": o.status, "duration_s": o.duration_s, "error": o.error or ""}
            for o in result.outcomes
            if o.phase != "stop_conditions" or o.status != "succeeded"]  # only the trips
    _print_table(f"Drill {result.runbook.name} — run {result.run_id}", rows,
                 ("phase", "#", "step", "name", "status", "duration_s", "error"), fmt)
    s = result.summary
    typer.echo(f"drill.finished run_id={result.run_id} status={s['status']} "
               f"rto_s={_num(s['rto_s'])} rpo_s={_num(s['rpo_s'])} "
               f"rpo_objects={s['rpo_objects'] if s['rpo_objects'] is not None else '-'} "
               f"duration_s={_num(s['duration_s'])} split_brain={str(s['split_brain']).lower()}")
    typer.echo(f"journal: {result.journal.path}")


def _plain(fmt: Format | None) -> bool:
    if fmt is not None:
        return fmt is Format.PLAIN
    return not console().is_terminal


def _print_table(title: str, rows: list[dict[str, Any]], columns: tuple[str, ...],
                 fmt: Format | None) -> None:
    """A rich table on a terminal; otherwise aligned plain text whose cells are never cut."""
    cells = [["" if r.get(c) is None else str(r.get(c)) for c in columns] for r in rows]
    if _plain(fmt):
        widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in
                  enumerate(columns)]
        typer.echo(title)
        for row in [list(columns), *cells]:
            typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True))
                       .rstrip())
        return
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in cells:
        table.add_row(*row)
    console().print(table)


def _say(text: str) -> None:
    """A line of prose: rich wraps it on a terminal, a pipe gets it whole."""
    if console().is_terminal:
        console().print(text, markup=False)
    else:
        typer.echo(text)


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def register(app: typer.Typer) -> None:
    """Add the ``drill`` command group to ``app``."""
    group = typer.Typer(name="drill", help="Failover drills from runbooks: list, plan, run, "
                        "failback, abort, resume, repair, history.", no_args_is_help=True)
    group.command("list")(list_runbooks)
    group.command("plan")(plan)
    group.command("validate")(validate)
    group.command("run")(run)
    group.command("failback")(failback)
    group.command("abort")(abort)
    group.command("resume")(resume)
    group.command("repair")(repair)
    group.command("history")(history)
    app.add_typer(group)
