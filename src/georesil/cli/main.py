"""The ``georesil`` command: global options, command registration, exit codes.

Exit codes: 0 ok; 1 failed (a drill deviated, an analysis gate tripped, an internal error);
2 bad input; 3 cloud or infrastructure error; 130 interrupted (Ctrl-C: one line on standard
error, no traceback; see :mod:`georesil.cli._progress`).

Every command module in ``_COMMAND_MODULES`` exposes ``register(app)``. Command modules import
heavy libraries (boto3, pulumi, numba, matplotlib, dask) inside their functions only, so that
``georesil --help`` stays fast.
"""

from __future__ import annotations

import gc
import importlib
import sys
import traceback
from typing import Literal

import typer

from georesil import __version__
from georesil.cli._progress import EXIT_INTERRUPTED, Interrupted, interruptible
from georesil.errors import GeoresilError

__all__ = ["app", "main"]

#: Command modules under georesil.cli, in the order their commands appear in --help.
_COMMAND_MODULES = (
    "model",
    "importer",
    "analysis",
    "risk",
    "provision",
    "lab",
    "mirror",
    "drill",
    "readiness",
    "report",
)

app = typer.Typer(
    name="georesil",
    help="Resilience and disaster recovery for sites split between northern Taiwan and Tainan.\n\n"
    "Every command that takes a topology FILE uses the bundled Taiwan reference topology "
    "when it is omitted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"georesil {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    log_format: str = typer.Option(
        "auto", "--log-format", help="Log format: console, json, or auto (console on a TTY).",
        metavar="console|json|auto",
    ),
    log_level: str = typer.Option(
        "warning", "--log-level", help="Minimum log level: debug, info, warning, error.",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for every error."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit.",
    ),
) -> None:
    from georesil.errors import InvalidInput
    from georesil.logging import configure_logging

    if log_format not in ("auto", "console", "json"):
        raise InvalidInput(f"--log-format: got {log_format!r}; allowed: console, json, auto")
    if log_level.lower() not in ("debug", "info", "warning", "error", "critical"):
        raise InvalidInput(
            f"--log-level: got {log_level!r}; allowed: debug, info, warning, error, critical"
        )
    _state["debug"] = debug
    fmt: Literal["auto", "console", "json"] = log_format  # type: ignore[assignment]
    configure_logging(fmt, log_level.lower())


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"georesil.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command group that is not built yet
        if _exc.name != f"georesil.cli.{_name}":
            raise
        continue
    _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script; exits with the command's code."""
    # The modules and tables imported so far live as long as the process: keep them out of
    # every collection (each full one would walk them again), and, on the way out, what the
    # command built (the shutdown collection would walk it for nothing).
    gc.freeze()
    try:
        _run(argv)
    finally:
        gc.freeze()


def _run(argv: list[str] | None) -> None:
    """Run the command; exit with its code, or the error's with one line on stderr."""
    try:  # recent typer vendors click as typer._click; older ones use click itself
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click.exceptions import ClickException  # type: ignore[assignment]
    abort = getattr(typer, "Abort", KeyboardInterrupt)

    try:
        with interruptible():
            code = app(args=argv, prog_name="georesil", standalone_mode=False)
    except (Interrupted, KeyboardInterrupt):
        typer.echo("interrupted: stopped by Ctrl-C", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except abort:
        typer.echo("aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except GeoresilError as exc:
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # a bug: say so plainly, show the traceback on request
        if _state["debug"]:
            traceback.print_exc()
        typer.echo(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the "
                   "traceback)", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
