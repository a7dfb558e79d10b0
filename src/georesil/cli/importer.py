"""``georesil import``: a GML, GraphML or CSV inventory → a topology file.

Thin: read the inventory, convert it, render commented YAML, check that it loads, write it
atomically (or print it), and print the summary on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import write_atomic

if TYPE_CHECKING:
    from georesil.inventory import ImportResult

__all__ = ["register"]


def import_inventory(
    file: Path = typer.Argument(..., metavar="FILE", show_default=False,
                                help="GML or GraphML file, or a CSV inventory: a directory (or "
                                     "its sites.csv) with sites.csv and links.csv."),
    fmt: str | None = typer.Option(None, "--format", metavar="gml|graphml|csv",
                                   help="Input format (default: from the file name)."),
    out: Path | None = typer.Option(None, "--output", "-o", metavar="OUT.yaml",
                                    help="Topology file to write (default: standard output)."),
    region_by: str | None = typer.Option(
        None, "--region-by", metavar="lat|lon|cluster:N|attr:NAME",
        help="Make regions: split at the median latitude or longitude, N clusters of "
             "locations, or a node attribute / CSV column (default: none, all 'unassigned')."),
) -> None:
    """Import a network inventory (GML, GraphML, CSV) as a topology file; see docs/import.md."""
    from georesil.errors import InvalidInput
    from georesil.inventory import (
        FORMATS,
        inventory_to_topology,
        parse_region_rule,
        read_inventory,
        render_yaml,
    )
    from georesil.model import parse_topology

    if fmt is not None and fmt not in FORMATS:
        raise InvalidInput(f"--format: got {fmt!r}; allowed: {', '.join(FORMATS)}",
                           field="format", value=fmt)
    rule = parse_region_rule(region_by)
    result = inventory_to_topology(read_inventory(file, fmt), rule)
    text = render_yaml(result)
    parse_topology(text, str(out or "<output>"))  # the written file must load as it is
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_atomic(out, text)
    _summary(result, out)


def _summary(result: ImportResult, out: Path | None) -> None:
    s = result.summary
    for warning in s.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if out is not None:
        typer.echo(f"wrote {out}: {s.sites} sites, {s.links} links", err=True)
    typer.echo("inferred:", err=True)
    for line in s.inferred():
        typer.echo(f"  - {line}", err=True)
    typer.echo("still to fill in:", err=True)
    for line in s.to_fill_in():
        typer.echo(f"  - {line}", err=True)


def register(app: typer.Typer) -> None:
    app.command("import", help=import_inventory.__doc__)(import_inventory)
