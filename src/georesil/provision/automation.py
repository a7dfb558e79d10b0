"""``georesil deploy``: drive the real Pulumi engine through ``pulumi.automation``.

State lives in a local file backend (``file://`` under ``.georesil/pulumi``) unless a backend
URL is given. The Pulumi CLI is an external tool that georesil never downloads: when it is not
on ``PATH`` every operation stops with :class:`ToolMissing` (exit code 2) before touching
``pulumi.automation``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import structlog

from georesil.errors import InvalidInput, ProvisionError, ToolMissing
from georesil.provision.stack import StackConfig, build_stack

if TYPE_CHECKING:
    from georesil.model import Topology

__all__ = ["DEFAULT_STATE_DIR", "DeployResult", "deploy", "require_pulumi_cli"]

log = structlog.get_logger(__name__)

Operation = Literal["preview", "up", "destroy"]
OPERATIONS: tuple[str, ...] = ("preview", "up", "destroy")
#: Where the local file backend keeps stack state, relative to the working directory.
DEFAULT_STATE_DIR = Path(".georesil") / "pulumi"
PROJECT = "georesil"
INSTALL_HINT = ("install it from https://www.pulumi.com/docs/install/ on a machine with internet "
                "access (or copy the 'pulumi' binary onto PATH), then rerun")


@dataclass(frozen=True)
class DeployResult:
    """What a deploy operation did."""

    operation: str
    stack: str
    summary: dict[str, int]
    outputs: dict[str, Any]


def require_pulumi_cli() -> str:
    """The path of the ``pulumi`` executable.

    Raises:
        ToolMissing: the Pulumi CLI is not on PATH (exit code 2); says how to install it.
    """
    path = shutil.which("pulumi")
    if path is None:
        raise ToolMissing(
            f"the Pulumi CLI ('pulumi') is not installed or not on PATH; georesil deploy needs "
            f"it and never downloads it: {INSTALL_HINT}. Without it, 'georesil provision FILE "
            "--engine moto' provisions the same program into moto.",
            tool="pulumi")
    return path


def deploy(topology: Topology, operation: str, *, config: StackConfig | None = None,
           state_dir: Path | None = None, backend_url: str | None = None) -> DeployResult:
    """Run ``pulumi preview|up|destroy`` for ``topology`` with an inline program.

    Raises:
        InvalidInput: an unknown operation.
        ToolMissing: the Pulumi CLI is not installed.
        ProvisionError: the Pulumi engine reported a failure.
    """
    if operation not in OPERATIONS:
        raise InvalidInput(f"deploy: unknown operation {operation!r}; allowed: "
                           + ", ".join(OPERATIONS), field="operation", value=operation)
    require_pulumi_cli()
    cfg = config or StackConfig()
    stack = _select_stack(topology, cfg, state_dir, backend_url)
    try:
        if operation == "preview":
            res = stack.preview(on_output=_echo)
            return DeployResult(operation, cfg.stack, dict(res.change_summary), {})
        if operation == "up":
            up = stack.up(on_output=_echo)
            return DeployResult(operation, cfg.stack,
                                dict(up.summary.resource_changes or {}),
                                {k: v.value for k, v in up.outputs.items()})
        down = stack.destroy(on_output=_echo)
        return DeployResult(operation, cfg.stack, dict(down.summary.resource_changes or {}), {})
    except Exception as exc:
        from pulumi import automation as auto

        if isinstance(exc, auto.errors.CommandError):
            raise ProvisionError(f"pulumi {operation} failed for stack {cfg.stack!r}: {exc}",
                                 stack=cfg.stack, operation=operation) from exc
        raise


def _echo(line: str) -> None:
    log.info("pulumi.output", line=line.rstrip())


def _select_stack(topology: Topology, cfg: StackConfig, state_dir: Path | None,
                  backend_url: str | None) -> Any:
    from pulumi import automation as auto

    directory = (state_dir or DEFAULT_STATE_DIR).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    url = backend_url or f"file://{directory}"
    settings = auto.ProjectSettings(name=PROJECT, runtime="python",
                                    backend=auto.ProjectBackend(url=url))
    env = {"PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "")}
    return auto.create_or_select_stack(
        stack_name=cfg.stack, project_name=PROJECT,
        program=lambda: build_stack(topology, cfg),
        opts=auto.LocalWorkspaceOptions(project_settings=settings, env_vars=env,
                                        work_dir=str(directory)),
    )
