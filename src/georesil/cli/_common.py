"""What every command module shares: the topology argument, output helpers, atomic writes.

Keep this module light: ``georesil --help`` imports it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from georesil._atomic import write_atomic

if TYPE_CHECKING:
    from rich.console import Console

    from georesil.model import Topology

__all__ = [
    "JsonOpt",
    "TopologyArg",
    "TopologyOpt",
    "console",
    "load",
    "print_json",
    "warn_never_failing",
    "write_atomic",
]

TOPOLOGY_HELP = "Topology file (YAML or JSON). Default: the bundled Taiwan reference topology."

TopologyArg = typer.Argument(None, help=TOPOLOGY_HELP, metavar="FILE", show_default=False)
TopologyOpt = typer.Option(None, "--topology", "-t", help=TOPOLOGY_HELP, show_default=False)
JsonOpt = typer.Option(False, "--json", help="Print stable JSON instead of tables.")


def load(path: Path | None) -> Topology:
    """Load a topology (the bundled one when ``path`` is ``None``)."""
    from georesil.model import load_topology

    return load_topology(path)


def warn_never_failing(topology: Topology) -> None:
    """Warn on stderr about sites and links that no failure data can take down."""
    # Lazy: hazards pulls in numpy, and this module is imported by ``georesil --help``.
    from georesil.hazards.elements import never_failing

    never = never_failing(topology)
    if not never:
        return
    shown = ", ".join(never[:8]) + (f" and {len(never) - 8} more" if len(never) > 8 else "")
    verb = "element can" if len(never) == 1 else "elements can"
    typer.echo(
        f"warning: {len(never)} of {len(topology.elements)} {verb} never fail "
        f"(no failure data): {shown}; give them 'unavailability' or 'mtbf_h' + 'mttr_h' "
        "(links: a length or a location at both ends), or put them in a zone with an "
        "outage model", err=True)


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to standard output."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
