"""Commands on the topology model itself: validate, show, schema, graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import (
    JsonOpt,
    TopologyArg,
    console,
    load,
    print_json,
    warn_never_failing,
)

if TYPE_CHECKING:
    from georesil.model import Topology


def validate(file: Path | None = TopologyArg) -> None:
    """Check a topology file; print a one-line summary, or every problem (exit 2)."""
    topo = load(file)
    typer.echo(f"ok: {topo.summary()}")
    warn_never_failing(topo)


def show(file: Path | None = TopologyArg, as_json: bool = JsonOpt) -> None:
    """Show sites, links, services and zones as tables (--json: the normalised model)."""
    topo = load(file)
    if as_json:
        print_json(topo.to_dict())
        return
    out = console()
    out.print(f"[bold]{topo.name}[/bold] — {topo.summary().split(': ', 1)[1]}")
    for table in (_sites_table(topo), _links_table(topo), _services_table(topo),
                  _zones_table(topo), _scenarios_table(topo)):
        if table.row_count:
            out.print(table)


def schema() -> None:
    """Print the JSON Schema of the topology format."""
    from georesil.model import TopologyDoc

    typer.echo(json.dumps(TopologyDoc.model_json_schema(), indent=2))


def graph(
    file: Path | None = TopologyArg,
    output: Path = typer.Option(..., "--output", "-o", help="Output file: .svg or .png."),
) -> None:
    """Draw the topology as a map at real longitude/latitude (SVG or PNG)."""
    from georesil.errors import InvalidInput

    if output.suffix.lower() not in (".svg", ".png"):
        raise InvalidInput(f"--output: got {str(output)!r}; allowed: a file ending in .svg or .png")
    topo = load(file)
    from georesil.report.topology_map import draw_topology_map

    draw_topology_map(topo, output)
    typer.echo(f"wrote {output}")


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:g}"
    return f"{text} {unit}".strip()


def _sites_table(topo: Topology):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title="Sites", title_justify="left")
    for col in ("id", "region", "lat, lon", "zones", "power", "GPUs", "storage", "backup"):
        t.add_column(col)
    for s in topo.sites.values():
        c = s.capacity
        where = f"{s.location.lat:.4f}, {s.location.lon:.4f}" if s.location else "—"
        t.add_row(s.id, s.region, where,
                  ", ".join(s.zones), _num(c.power_mw, "MW"), _num(c.gpus),
                  _num(c.storage_pb, "PB"), _num(s.backup_power_h, "h"))
    return t


def _links_table(topo: Topology):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title="Links", title_justify="left")
    for col in ("id", "a — b", "kind", "km", "ms", "Gbps", "SRLGs", "zones"):
        t.add_column(col)
    for k in topo.links.values():
        t.add_row(k.id, f"{k.a} — {k.b}", k.kind.value, _num(k.length_km), _num(k.latency_ms),
                  _num(k.bandwidth_gbps), ", ".join(k.srlg), ", ".join(k.zones))
    return t


def _services_table(topo: Topology):  # type: ignore[no-untyped-def]
    from rich.table import Table

    from georesil.model.replication import replication_plan

    t = Table(title="Services", title_justify="left")
    for col in ("id", "kind", "tier", "RTO s", "RPO s", "primary", "secondaries", "depends on"):
        t.add_column(col)
    mechanism = {(p.service, p.target): p.mechanism.value for p in replication_plan(topo)}
    for v in topo.services.values():
        secondaries = ", ".join(
            f"{r.site} ({r.replication.value if r.replication else '?'}"
            + (f", {r.lag_s:g} s" if r.lag_s else "")
            + f", by {mechanism.get((v.id, r.site), 'external')})"
            for r in topo.secondaries(v.id)
        )
        t.add_row(v.id, v.kind.value, str(v.tier), _num(v.rto_s), _num(v.rpo_s),
                  topo.primary(v.id).site, secondaries or "—", ", ".join(v.depends_on) or "—")
    return t


def _zones_table(topo: Topology):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title="Zones", title_justify="left")
    for col in ("id", "kind", "name", "sites", "links", "outages/yr", "mean h"):
        t.add_column(col)
    for z in topo.zones.values():
        members = topo.zone_members(z.id)
        t.add_row(z.id, z.kind.value, z.name or "", ", ".join(sorted(members.sites)) or "—",
                  str(len(members.links)), _num(z.annual_rate), _num(z.mean_duration_h))
    return t


def _scenarios_table(topo: Topology):  # type: ignore[no-untyped-def]
    from rich.table import Table

    t = Table(title="Scenarios", title_justify="left")
    for col in ("id", "fails", "description"):
        t.add_column(col)
    for c in topo.scenarios.values():
        fails = ", ".join(c.fail)
        if c.quake is not None:
            q = c.quake
            fails += f"{'; ' if fails else ''}quake M{q.magnitude:g} at {q.lat}, {q.lon}"
        t.add_row(c.id, fails, c.description or "")
    return t


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(show)
    app.command()(schema)
    app.command()(graph)
