"""``georesil lab``: local per-site endpoints (moto servers) for drills, demos and tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import JsonOpt, TopologyOpt, console, load, print_json

if TYPE_CHECKING:
    from georesil.lab import LabStatus

lab_app = typer.Typer(help="Local lab: one moto server per site on 127.0.0.1 (state in "
                      ".georesil/lab/).", no_args_is_help=True)

SiteArg = typer.Argument(..., help="A lab site id.", show_default=False)


@lab_app.command("up")
def up(
    topology: Path | None = TopologyOpt,
    seed_objects: int = typer.Option(100, "--seed-objects", help="Sample objects written to "
                                     "each object-storage primary bucket."),
    replace: bool = typer.Option(False, "--replace", help="Replace a running lab even when "
                                 "it is healthy."),
    as_json: bool = JsonOpt,
) -> None:
    """Start the lab (or reuse a healthy one), provision it, and seed sample data."""
    from georesil.lab import lab_status, lab_up

    state = lab_up(load(topology), seed_objects=seed_objects, replace=replace)
    if state.reused:
        note = (f"; --seed-objects {seed_objects} ignored (the lab was seeded with "
                f"{state.seed_objects}), use `georesil lab down` first or `lab up --replace`"
                if seed_objects != state.seed_objects else "")
        typer.echo(f"reusing the lab in {state.dir} (same topology, every server "
                   f"answering){note}", err=True)
    _show(lab_status(), as_json)


@lab_app.command("status")
def status(as_json: bool = JsonOpt) -> None:
    """Sites (up/down, endpoints), buckets and object counts of the lab here."""
    from georesil.lab import lab_status

    _show(lab_status(), as_json)


@lab_app.command("down")
def down() -> None:
    """Stop exactly the lab's recorded server processes and forget the lab."""
    from georesil.lab import lab_down

    pids = lab_down()
    typer.echo(f"stopped {len(pids)} lab server(s)" + (f": pids {pids}" if pids else ""))


@lab_app.command("kill")
def kill(site: str = SiteArg) -> None:
    """Take a site offline: its endpoint refuses connections; its data is kept."""
    from georesil.lab import kill_site

    s = kill_site(site)
    typer.echo(f"{site}: down ({s.endpoint} refuses connections)")


@lab_app.command("revive")
def revive(site: str = SiteArg) -> None:
    """Bring a killed site back on the same endpoint, with its data."""
    from georesil.lab import revive_site

    s = revive_site(site)
    typer.echo(f"{site}: up at {s.endpoint}")


@lab_app.command("fault")
def fault(
    site: str = SiteArg,
    throttle: float = typer.Option(0.0, "--throttle", help="Share of requests throttled."),
    error: float = typer.Option(0.0, "--error", help="Share of requests answered with a 5xx."),
    deny: float = typer.Option(0.0, "--deny", help="Share of requests denied (403)."),
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Latency added per request."),
    seed: int | None = typer.Option(None, "--seed", help="Seed for the fault draws."),
    clear: bool = typer.Option(False, "--clear", help="Remove every fault."),
) -> None:
    """Make a site's endpoint throttle, fail, deny or slow down (no restart needed)."""
    from georesil.errors import InvalidInput
    from georesil.lab import FaultSettings, set_faults

    if clear and (throttle or error or deny or latency_ms):
        raise InvalidInput("--clear cannot be combined with --throttle/--error/--deny/"
                           "--latency-ms")
    settings = FaultSettings() if clear else FaultSettings(throttle, error, deny, latency_ms,
                                                           seed)
    set_faults(site, settings)
    typer.echo(f"{site}: faults cleared" if not settings.active else
               f"{site}: throttle {throttle:g}, error {error:g}, deny {deny:g}, "
               f"latency {latency_ms:g} ms")


def _show(st: LabStatus, as_json: bool) -> None:
    if as_json:
        print_json(st.to_json())
        return
    from rich.table import Table

    out = console()
    sites = Table(title=f"Lab in {st.dir}", title_justify="left")
    for col in ("site", "endpoint", "region", "state", "pid"):
        sites.add_column(col)
    for s in st.sites.values():
        sites.add_row(s.site, s.endpoint, s.region,
                      "[green]up[/green]" if s.up else "[red]down[/red]", str(s.pid))
    out.print(sites)
    if st.buckets:
        buckets = Table(title="Buckets", title_justify="left")
        for col in ("service", "site", "bucket", "objects"):
            buckets.add_column(col)
        for svc, per_site in st.buckets.items():
            for site, name in per_site.items():
                count = st.objects.get(svc, {}).get(site)
                buckets.add_row(svc, site, name, "—" if count is None else str(count))
        out.print(buckets)


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")
