"""``georesil deploy``: drive the real Pulumi engine through ``pulumi.automation``.

Conventions (see docs/provisioning.md, "A real deploy"):

- **Backend**: ``--backend URL``, else ``PULUMI_BACKEND_URL``, else a file backend under the
  project (``file://<project>/.georesil/pulumi``, absolute); the URL in use is reported.
- **Passphrase**: never forced. ``PULUMI_CONFIG_PASSPHRASE_FILE`` or ``PULUMI_CONFIG_PASSPHRASE``
  from the environment are left to the Pulumi CLI; a file backend without either (or with an
  empty passphrase) is refused unless the caller allows an empty one (throwaway state).
- **Policy first**: before every real ``up`` the program is previewed under the moto engine
  (no cloud call) and the policy rules run on it; a violation stops the deploy.
- **Ask first**: ``up`` and ``destroy`` preview, then ask the ``confirm`` callback (the CLI asks
  on a terminal or needs ``--yes``).

The Pulumi CLI is an external tool that georesil never downloads: when it is not on ``PATH``
every operation stops with :class:`ToolMissing` (exit code 2) before touching
``pulumi.automation``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from georesil.errors import InvalidInput, ProvisionError, ToolMissing
from georesil.provision import DEFAULT_STACK
from georesil.provision.moto_engine import ProvisionResult, provision_moto
from georesil.provision.stack import StackConfig, build_stack

if TYPE_CHECKING:
    from georesil.model import Topology

__all__ = [
    "DEFAULT_STACK",
    "OPERATIONS",
    "DeployResult",
    "backend_url",
    "deploy",
    "passphrase_env",
    "preflight",
    "project_root",
    "require_pulumi_cli",
]

log = structlog.get_logger(__name__)

OPERATIONS: tuple[str, ...] = ("preview", "up", "destroy", "refresh", "diff")
#: Operations that change resources: they preview first and need a confirmation.
CONFIRMED: frozenset[str] = frozenset({"up", "destroy"})
#: The file backend's directory under the project root.
STATE_SUBDIR = Path(".georesil") / "pulumi"
PROJECT = "georesil"
_ROOT_MARKERS = (".georesil", ".git", "pyproject.toml", "Pulumi.yaml")
INSTALL_HINT = ("install it from https://www.pulumi.com/docs/install/ on a machine with internet "
                "access (or copy the 'pulumi' binary onto PATH), then rerun")

#: Called with (operation, change summary of the preview); ``False`` stops the operation.
Confirm = Callable[[str, Mapping[str, int]], bool]


@dataclass(frozen=True)
class DeployResult:
    """What a deploy operation did (``applied`` is false when the confirmation said no)."""

    operation: str
    stack: str
    backend: str
    summary: dict[str, int]
    outputs: dict[str, Any] = field(default_factory=dict)
    planned: dict[str, int] = field(default_factory=dict)
    applied: bool = True
    policy_rules: tuple[str, ...] = ()


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


def project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: the working directory) holding
    ``.georesil``, ``.git``, ``pyproject.toml`` or ``Pulumi.yaml``; else ``start``. Absolute."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if any((candidate / marker).exists() for marker in _ROOT_MARKERS):
            return candidate
    return here


def backend_url(explicit: str | None = None, root: Path | None = None) -> str:
    """``explicit``, else ``PULUMI_BACKEND_URL``, else the project's absolute file backend."""
    if explicit:
        return explicit
    env = os.environ.get("PULUMI_BACKEND_URL")
    if env:
        return env
    return f"file://{(root or project_root()) / STATE_SUBDIR}"


def passphrase_env(url: str, *, allow_empty: bool = False) -> dict[str, str]:
    """Environment to add for the Pulumi CLI's secrets passphrase: usually nothing.

    Raises:
        InvalidInput: a file backend without a passphrase, and an empty one not allowed.
    """
    if not url.startswith("file://"):
        return {}  # a service backend (or a cloud KMS secrets provider) needs none
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return {}
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE"):
        return {}
    if allow_empty:
        return {"PULUMI_CONFIG_PASSPHRASE": ""}
    raise InvalidInput(
        f"the file backend {url} encrypts stack secrets with a passphrase, and none is set: "
        "set PULUMI_CONFIG_PASSPHRASE_FILE (a file holding it) or PULUMI_CONFIG_PASSPHRASE, "
        "or pass --allow-empty-passphrase for throwaway state", field="passphrase")


def preflight(topology: Topology, config: StackConfig) -> ProvisionResult:
    """Preview the program under the moto engine (no cloud call) and run the policy rules.

    Raises:
        PolicyViolation: every rule broken, each with the resource and the fix.
        InvalidInput: the topology cannot be deployed (e.g. a replica without a hostname).
    """
    cfg = replace(config, lab=False, credentials=None)
    return provision_moto(topology, dict(config.endpoints), stack=config.stack, preview=True,
                          config=cfg)


def deploy(
    topology: Topology,
    operation: str,
    *,
    config: StackConfig | None = None,
    backend: str | None = None,
    allow_empty_passphrase: bool = False,
    confirm: Confirm | None = None,
) -> DeployResult:
    """Run ``pulumi preview|up|destroy|refresh`` or a drift check (``diff``) for ``topology``.

    ``up`` runs :func:`preflight` first; ``up`` and ``destroy`` preview and call ``confirm``
    before changing anything (no ``confirm``: proceed — the caller has decided).

    Raises:
        InvalidInput: an unknown operation, or no passphrase for a file backend.
        ToolMissing: the Pulumi CLI is not installed.
        PolicyViolation: ``up`` would break a policy rule; nothing was changed.
        ProvisionError: the Pulumi engine reported a failure.
    """
    if operation not in OPERATIONS:
        raise InvalidInput(f"deploy: unknown operation {operation!r}; allowed: "
                           + ", ".join(OPERATIONS), field="operation", value=operation)
    require_pulumi_cli()
    cfg = config or StackConfig(stack=DEFAULT_STACK)
    url = backend_url(backend)
    env = passphrase_env(url, allow_empty=allow_empty_passphrase)
    rules: tuple[str, ...] = ()
    if operation == "up":
        rules = preflight(topology, cfg).policy_rules
    log.info("deploy.started", operation=operation, stack=cfg.stack, backend=url)
    stack = _select_stack(topology, cfg, url, env)
    try:
        return _run(stack, operation, cfg.stack, url, confirm, rules)
    except Exception as exc:
        from pulumi import automation as auto

        if isinstance(exc, auto.errors.CommandError):
            raise ProvisionError(f"pulumi {operation} failed for stack {cfg.stack!r}: {exc}",
                                 stack=cfg.stack, operation=operation) from exc
        raise


def _run(stack: Any, operation: str, name: str, url: str, confirm: Confirm | None,
         rules: tuple[str, ...]) -> DeployResult:
    if operation == "preview":
        res = stack.preview(on_output=_echo, diff=True)
        return DeployResult(operation, name, url, dict(res.change_summary), applied=False)
    if operation == "diff":  # drift: what changed outside Pulumi, state left as it is
        drift = stack.preview_refresh(on_output=_echo)
        return DeployResult(operation, name, url, dict(drift.change_summary), applied=False)
    if operation == "refresh":
        done = stack.refresh(on_output=_echo)
        return DeployResult(operation, name, url, dict(done.summary.resource_changes or {}))
    planned = dict((stack.preview(on_output=_echo, diff=True) if operation == "up"
                    else stack.preview_destroy(on_output=_echo)).change_summary)
    if confirm is not None and not confirm(operation, planned):
        return DeployResult(operation, name, url, {}, planned=planned, applied=False,
                            policy_rules=rules)
    if operation == "up":
        up = stack.up(on_output=_echo)
        return DeployResult(operation, name, url, dict(up.summary.resource_changes or {}),
                            {k: v.value for k, v in up.outputs.items()}, planned,
                            policy_rules=rules)
    down = stack.destroy(on_output=_echo)
    return DeployResult(operation, name, url, dict(down.summary.resource_changes or {}),
                        planned=planned)


def _echo(line: str) -> None:
    log.info("pulumi.output", line=line.rstrip())


def _select_stack(topology: Topology, cfg: StackConfig, url: str,
                  env: Mapping[str, str]) -> Any:
    from pulumi import automation as auto

    if url.startswith("file://"):
        Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    settings = auto.ProjectSettings(name=PROJECT, runtime="python",
                                    backend=auto.ProjectBackend(url=url))
    return auto.create_or_select_stack(
        stack_name=cfg.stack, project_name=PROJECT,
        program=lambda: build_stack(topology, cfg),
        opts=auto.LocalWorkspaceOptions(project_settings=settings, env_vars=dict(env)),
    )
