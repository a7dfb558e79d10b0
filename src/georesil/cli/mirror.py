"""``georesil mirror``: audit and repair object replication between sites."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from georesil.cli._common import JsonOpt, TopologyOpt, console, print_json

if TYPE_CHECKING:
    from georesil.cloud import SiteClients
    from georesil.mirror import MirrorReport, Round, SyncResult
    from georesil.model import Topology

mirror_app = typer.Typer(help="Audit (verify) and repair (sync) object replication between "
                         "sites.", no_args_is_help=True)

ServiceArg = typer.Argument(..., help="An object-storage service id.", show_default=False)
StackOpt = typer.Option(None, "--stack", help="Use the deployed stack NAME's bucket names and "
                        "the topology's endpoints instead of the lab here.")
ToOpt = typer.Option(None, "--to", help="Only this secondary site.")


@mirror_app.command("verify")
def verify(
    service: str = ServiceArg,
    topology: Path | None = TopologyOpt,
    to: str | None = ToOpt,
    stack: str | None = StackOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Compare every object version at the primary with each secondary (exit 1: lag > RPO)."""
    from georesil.mirror import verify as run_verify

    topo, clients, buckets = _target(topology, stack, service)
    report = run_verify(topo, service, clients, buckets, to=to)
    if as_json:
        print_json(report.to_json())
    else:
        _show_report(report)
    if report.lagging:
        raise typer.Exit(1)


@mirror_app.command("sync")
def sync(
    service: str = ServiceArg,
    to: str | None = ToOpt,
    workers: int = typer.Option(8, "--workers", help="Keys copied concurrently."),
    prune: bool = typer.Option(False, "--prune", help="Delete keys the primary no longer has."),
    topology: Path | None = TopologyOpt,
    stack: str | None = StackOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Copy what the secondaries miss; resumable, nothing copied twice (exit 1: keys left)."""
    from georesil.mirror import sync as run_sync

    topo, clients, buckets = _target(topology, stack, service)
    with _progress() as progress:
        result = run_sync(topo, service, clients, buckets, to=to, workers=workers,
                          prune=prune, progress=progress)
    if as_json:
        print_json(result.to_json())
    else:
        typer.echo(_summary(result))
    if result.failed:
        typer.echo(_keys_left(result.service, result.failed), err=True)
        raise typer.Exit(1)


@mirror_app.command("run")
def run(
    service: str = ServiceArg,
    every: str = typer.Option(..., "--every", help="Interval between rounds: '60s', '5m', "
                              "'1h' or seconds.", show_default=False),
    to: str | None = ToOpt,
    workers: int = typer.Option(8, "--workers", help="Keys copied concurrently."),
    prune: bool = typer.Option(False, "--prune", help="Delete keys the primary no longer has."),
    rounds: int | None = typer.Option(None, "--rounds", help="Stop after this many rounds "
                                      "(default: run until stopped)."),
    topology: Path | None = TopologyOpt,
    stack: str | None = StackOpt,
) -> None:
    """Mirror every interval until stopped (SIGTERM: exit 0; Ctrl-C: exit 130); restartable."""
    from georesil.mirror import parse_interval, run_every

    every_s = parse_interval(every)
    topo, clients, buckets = _target(topology, stack, service)
    stop = threading.Event()
    caught: list[int] = []
    finished = [0]

    def on_signal(signum: int, _frame: object) -> None:
        caught.append(signum)
        stop.set()
        raise KeyboardInterrupt  # cuts a round short; its checkpoint is saved on the way out

    def on_round(r: Round) -> None:
        finished[0] = r.number
        line = _round_line(r)
        if line:
            typer.echo(line, err=r.error is not None or bool(r.keys_left))

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run_every(topo, service, clients, buckets, every_s=every_s, stop=stop, to=to,
                  workers=workers, prune=prune, rounds=rounds, on_round=on_round)
    except KeyboardInterrupt:
        if not caught:  # raised by Python's own SIGINT handling before ours was installed
            caught.append(signal.SIGINT)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    how = ("finished" if not caught else
           "stopped by SIGTERM" if caught[0] == signal.SIGTERM else "interrupted")
    typer.echo(f"mirror run {service} {how} after {finished[0]} round(s); checkpoints in "
               f"{Path('.georesil', 'mirror', service)}/; run it again to resume", err=True)
    if caught and caught[0] == signal.SIGINT:
        raise typer.Exit(130)


def _round_line(r: Round) -> str:
    """One line for a round that did something or failed; nothing for an idle one."""
    if r.error is not None or r.result is None:
        return f"round {r.number}: failed ({r.error}); trying again next round"
    result = r.result
    if not result.versions_copied and not result.failed and not any(
            s.pruned for s in result.sites.values()):
        return ""
    left = sum(len(keys) for keys in result.failed.values())
    return f"round {r.number}: " + _summary(result) + (
        f"; {left} key(s) left for the next round" if left else "")


def _target(path: Path | None, stack: str | None,
            service: str) -> tuple[Topology, SiteClients, dict[str, str]]:
    """Topology, clients and ``{site: bucket}``: the lab's by default, or a deployed stack's."""
    from georesil.cloud import Credentials, SiteClients
    from georesil.errors import InvalidInput
    from georesil.lab import load_state
    from georesil.model import load_topology

    lab = load_state(".") if stack is None else None
    if lab is None and stack is None:
        raise InvalidInput("no lab in this directory (.georesil/lab/state.json); run "
                           "`georesil lab up`, or pass --stack NAME for a deployed stack")
    topo = load_topology(path) if path is not None else (lab.topology() if lab else
                                                         load_topology(None))
    from georesil.mirror.verify import replica_sites

    replica_sites(topo, service)  # an unknown or non-storage service is bad input, said first
    if lab is not None:
        from georesil.provision.outputs import StackOutputs

        clients = SiteClients(topo, {s: u for s, u in lab.endpoints().items()
                                     if s in topo.sites},
                              credentials=Credentials(*lab.credentials))
        buckets = {s: ref.name for s, ref in StackOutputs(lab.outputs).buckets(service).items()}
        return topo, clients, buckets
    from georesil.provision.naming import bucket_name

    assert stack is not None
    spec = topo.service(service)
    return topo, SiteClients(topo), {r.site: bucket_name(topo.name, stack, service, r.site)
                                     for r in spec.replicas}


def _show_report(report: MirrorReport) -> None:
    from rich.table import Table

    t = Table(title=f"{report.service}: primary {report.primary} ({report.bucket}), "
              f"{report.objects} objects, {_bytes(report.bytes)}, RPO {report.rpo_s:g} s",
              title_justify="left")
    for col in ("secondary", "objects", "missing", "differing", "missing bytes",
                "deletes pending", "extra", "oldest unreplicated", "state"):
        t.add_column(col)
    for s in report.secondaries.values():
        lag = s.oldest_unreplicated_age_s
        state = ("[red]behind RPO[/red]" if s.site in report.lagging else
                 "[green]in sync[/green]" if s.in_sync else "[yellow]within RPO[/yellow]")
        t.add_row(s.site, str(s.objects), str(s.missing), str(s.differing),
                  _bytes(s.missing_bytes), str(s.deletes_pending), str(s.extra),
                  f"{lag:.1f} s", state)
    console().print(t)


def _summary(result: SyncResult) -> str:
    parts = [f"{s.site}: {s.versions_copied} versions ({_bytes(s.bytes_copied)}), "
             f"{s.delete_markers} delete markers, {s.pruned} pruned"
             for s in result.sites.values()]
    return (f"mirrored {result.service} from {result.primary} — " + "; ".join(parts)
            + f" in {result.duration_s:.1f} s")


def _keys_left(service: str, failed: dict[str, list[str]], shown: int = 20) -> str:
    """Which keys a sync left behind, per site, and what to do about it."""
    lines = []
    for site, keys in failed.items():
        more = f" (and {len(keys) - shown} more)" if len(keys) > shown else ""
        lines.append(f"{site}: {len(keys)} key(s) not mirrored after their retries: "
                     + ", ".join(keys[:shown]) + more)
    lines.append(f"run `georesil mirror sync {service}` again to retry them (they go first)")
    return "\n".join(lines)


def _bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


class _progress:  # noqa: N801 - a context manager named for what it shows
    """A rich progress bar per secondary on a TTY; nothing otherwise."""

    def __enter__(self) -> Any:
        if not sys.stderr.isatty():
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                             MofNCompleteColumn(), TimeRemainingColumn(), console=console(True),
                             transient=True)
        self._bar.start()
        self._tasks: dict[str, Any] = {}

        def update(site: str, done: int, total: int) -> None:
            if site not in self._tasks:
                self._tasks[site] = self._bar.add_task(f"→ {site}", total=total)
            self._bar.update(self._tasks[site], completed=done, total=total)

        return update

    def __exit__(self, *exc: object) -> None:
        bar = getattr(self, "_bar", None)
        if bar is not None:
            bar.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(mirror_app, name="mirror")
