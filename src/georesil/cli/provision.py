"""Commands that build infrastructure: ``deploy`` (the Pulumi engine) and ``provision``."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import JsonOpt, TopologyArg, TopologyOpt, console, load, print_json
from georesil.errors import InvalidInput
from georesil.provision import DEFAULT_STACK

if TYPE_CHECKING:
    from georesil.provision.moto_engine import ProvisionResult

StackOpt = typer.Option(DEFAULT_STACK, "--stack", "-s",
                        help="Stack name (part of every resource name).")
EndpointOpt = typer.Option(
    None, "--endpoint", "-e", metavar="SITE=URL",
    help="Send a site's resources to this endpoint (a moto server); repeatable.")
BackendOpt = typer.Option(
    None, "--backend", metavar="URL",
    help="Pulumi state backend. Default: $PULUMI_BACKEND_URL, else file://<project>/"
         ".georesil/pulumi (absolute).")
YesOpt = typer.Option(False, "--yes", "-y",
                      help="Apply without asking (required without a terminal).")
EmptyPassphraseOpt = typer.Option(
    False, "--allow-empty-passphrase",
    help="Accept an empty secrets passphrase for a file backend (throwaway state only).")

deploy_app = typer.Typer(
    name="deploy", no_args_is_help=True,
    help="Drive the Pulumi engine (pulumi.automation). Needs the Pulumi CLI.")


def parse_endpoints(values: list[str] | None) -> dict[str, str]:
    """``["site=http://127.0.0.1:5000", ...]`` -> ``{"site": "http://..."}``."""
    result: dict[str, str] = {}
    for value in values or []:
        site, sep, url = value.partition("=")
        if not sep or not site or not url.startswith(("http://", "https://")):
            raise InvalidInput(f"--endpoint: got {value!r}; expected SITE=URL with an http:// "
                               "or https:// URL, e.g. taipei-neihu=http://127.0.0.1:5001",
                               field="endpoint", value=value)
        if site in result:
            raise InvalidInput(f"--endpoint: site {site!r} given twice", field="endpoint",
                               value=value)
        result[site] = url
    return result


def _deploy(operation: str, topology: Path | None, stack: str, endpoint: list[str] | None,
            as_json: bool, *, backend: str | None = None, yes: bool = False,
            allow_empty_passphrase: bool = False) -> None:
    from georesil.provision.automation import (
        CONFIRMED,
        backend_url,
        deploy,
        require_pulumi_cli,
    )
    from georesil.provision.stack import StackConfig

    require_pulumi_cli()  # before loading anything: the most likely problem first
    if operation in CONFIRMED and not yes and not sys.stdin.isatty():
        raise InvalidInput(f"deploy {operation}: no terminal to confirm on; review the plan "
                           f"with `georesil deploy preview`, then rerun with --yes",
                           field="yes", operation=operation)
    topo = load(topology)
    url = backend_url(backend)
    typer.echo(f"backend: {url}", err=True)

    def ask(op: str, planned: Mapping[str, int]) -> bool:
        typer.echo(f"{op} {stack} would change: {_summary(planned)}", err=True)
        return typer.confirm(f"{op} stack {stack!r}?", default=False, err=True)

    result = deploy(topo, operation, config=StackConfig(stack=stack,
                                                        endpoints=parse_endpoints(endpoint)),
                    backend=url, allow_empty_passphrase=allow_empty_passphrase,
                    confirm=None if yes else ask)
    if as_json:
        print_json({"operation": result.operation, "stack": result.stack,
                    "backend": result.backend, "applied": result.applied,
                    "planned": result.planned, "summary": result.summary,
                    "policy": {"passed": list(result.policy_rules)},
                    "outputs": result.outputs})
    elif not result.applied and operation in CONFIRMED:
        typer.echo(f"{operation} {stack}: not applied (declined)")
    else:
        typer.echo(f"{operation} {stack}: {_summary(result.summary)}")
    if not result.applied and operation in CONFIRMED:
        raise typer.Exit(1)


def _summary(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no changes"


@deploy_app.command("preview")
def deploy_preview(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                   endpoint: list[str] | None = EndpointOpt, backend: str | None = BackendOpt,
                   allow_empty_passphrase: bool = EmptyPassphraseOpt,
                   as_json: bool = JsonOpt) -> None:
    """Show what 'up' would change (creates nothing)."""
    _deploy("preview", topology, stack, endpoint, as_json, backend=backend,
            allow_empty_passphrase=allow_empty_passphrase)


@deploy_app.command("up")
def deploy_up(topology: Path | None = TopologyOpt, stack: str = StackOpt,
              endpoint: list[str] | None = EndpointOpt, backend: str | None = BackendOpt,
              yes: bool = YesOpt, allow_empty_passphrase: bool = EmptyPassphraseOpt,
              as_json: bool = JsonOpt) -> None:
    """Check policy, show the plan, ask, then create or update the stack's resources."""
    _deploy("up", topology, stack, endpoint, as_json, backend=backend, yes=yes,
            allow_empty_passphrase=allow_empty_passphrase)


@deploy_app.command("destroy")
def deploy_destroy(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                   endpoint: list[str] | None = EndpointOpt, backend: str | None = BackendOpt,
                   yes: bool = YesOpt, allow_empty_passphrase: bool = EmptyPassphraseOpt,
                   as_json: bool = JsonOpt) -> None:
    """Show what would be deleted, ask, then delete the stack's unprotected resources."""
    _deploy("destroy", topology, stack, endpoint, as_json, backend=backend, yes=yes,
            allow_empty_passphrase=allow_empty_passphrase)


@deploy_app.command("refresh")
def deploy_refresh(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                   endpoint: list[str] | None = EndpointOpt, backend: str | None = BackendOpt,
                   allow_empty_passphrase: bool = EmptyPassphraseOpt,
                   as_json: bool = JsonOpt) -> None:
    """Read the real resources back into the stack's state."""
    _deploy("refresh", topology, stack, endpoint, as_json, backend=backend,
            allow_empty_passphrase=allow_empty_passphrase)


@deploy_app.command("diff")
def deploy_diff(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                endpoint: list[str] | None = EndpointOpt, backend: str | None = BackendOpt,
                allow_empty_passphrase: bool = EmptyPassphraseOpt,
                as_json: bool = JsonOpt) -> None:
    """Drift: what changed outside Pulumi since the last update (state is not changed)."""
    _deploy("diff", topology, stack, endpoint, as_json, backend=backend,
            allow_empty_passphrase=allow_empty_passphrase)


def provision(
    file: Path | None = TopologyArg,
    engine: str = typer.Option("moto", "--engine", metavar="moto|pulumi",
                               help="moto: create everything in moto servers through the "
                                    "Pulumi mocks; pulumi: the real engine ('deploy up', or "
                                    "'deploy preview' with --preview)."),
    endpoint: list[str] | None = EndpointOpt,
    stack: str = StackOpt,
    preview: bool = typer.Option(False, "--preview", help="Plan and check policy only."),
    plan: bool = typer.Option(False, "--plan",
                              help="Print where everything goes and the replication mechanism "
                                   "of every replica pair; create nothing."),
    backend: str | None = BackendOpt,
    yes: bool = YesOpt,
    allow_empty_passphrase: bool = EmptyPassphraseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Provision a topology: buckets, replication, failover DNS, control table, parameters."""
    if engine not in ("moto", "pulumi"):
        raise InvalidInput(f"--engine: got {engine!r}; allowed: moto, pulumi", field="engine",
                           value=engine)
    if plan:
        _plan(file, endpoint, engine, as_json)
        return
    if engine == "pulumi":
        _deploy("preview" if preview else "up", file, stack, endpoint, as_json,
                backend=backend, yes=yes, allow_empty_passphrase=allow_empty_passphrase)
        return
    from georesil.provision.automation import project_root
    from georesil.provision.moto_engine import provision_moto

    topo = load(file)
    endpoints = parse_endpoints(endpoint)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    # No endpoint at all: a dry demonstration in in-process moto, never the topology's URLs.
    # With moto servers, the stack's state is kept so that provisioning again converges.
    state = (project_root() / ".georesil" / "moto" / f"{stack}.json") if endpoints else None
    result = provision_moto(topo, endpoints, stack=stack, preview=preview,
                            in_process=not endpoints, state_file=state)
    if as_json:
        print_json(_as_json(result))
        return
    _render(result)


def _plan(file: Path | None, endpoint: list[str] | None, engine: str, as_json: bool) -> None:
    from georesil.provision.plan import stack_plan

    topo = load(file)
    result = stack_plan(topo, parse_endpoints(endpoint), lab=engine == "moto")
    if as_json:
        print_json(result.to_json())
        return
    from rich.table import Table

    out = console()
    c = result.control
    where = f"site {c.site}" if c.site else f"region {c.endpoint.signing_region}"
    note = "" if c.declared else " (not declared in the topology: `control:` would fix it)"
    out.print(f"control plane: {c.name} — {where}{note}")
    sites = Table(title="Sites", title_justify="left")
    for col in ("site", "kind", "region", "hosts"):
        sites.add_column(col, overflow="fold")
    for s in result.sites:
        sites.add_row(s.name, s.kind, s.region, ", ".join(s.hosts))
    out.print(sites)
    pairs = Table(title="Replication per replica pair", title_justify="left")
    for col in ("service", "from", "to", "mechanism", "RPO bound"):
        pairs.add_column(col, overflow="fold")
    for p in result.pairs:
        bound = "—" if p.rpo_bound_s is None else f"{p.rpo_bound_s:g} s"
        pairs.add_row(p.service, p.source, p.target, p.mechanism.value, bound)
    out.print(pairs)
    for d in result.dns:
        out.print(f"dns {d.service}: {' → '.join(d.sites)} via {', '.join(d.names)}")
    out.print("mechanisms: s3-replication = S3 replication with Replication Time Control; "
              "georesil-mirror = `georesil mirror run --every INTERVAL`; external = the "
              "service replicates itself (`--json` gives the reason per pair)")


def _as_json(result: ProvisionResult) -> dict[str, object]:
    return {
        "stack": result.stack, "preview": result.preview, "in_process": result.in_process,
        "duration_s": round(result.duration_s, 3),
        "policy": {"passed": list(result.policy_rules), "violations": []},
        "resources": [{"type": r.type, "name": r.name, "id": r.id, "site": r.site}
                      for r in result.resources],
        "deleted": [{"type": r.type, "name": r.name, "id": r.id, "site": r.site}
                    for r in result.deleted],
        "outputs": result.outputs,
    }


def short_type(token: str) -> str:
    """``aws:s3/bucketVersioning:BucketVersioning`` -> ``s3.BucketVersioning``."""
    package, module, name = (token.split(":") + ["", ""])[:3]
    if package == "pulumi" and module == "providers":
        return f"{name}.Provider"
    if package == "georesil":
        return f"{name} (component)"
    return f"{module.split('/')[0]}.{name}"


def _render(result: ProvisionResult) -> None:
    from rich.table import Table

    out = console()
    verb = "planned" if result.preview else "created"
    table = Table(title=f"Resources {verb} (stack {result.stack})", title_justify="left")
    for col in ("type", "count", "sites"):
        table.add_column(col)
    by_type: dict[str, set[str]] = {}
    for r in result.resources:
        by_type.setdefault(r.type, set()).add(r.site or "—")
    for type_, count in result.counts().items():
        table.add_row(short_type(type_), str(count), ", ".join(sorted(by_type[type_])))
    out.print(table)
    out.print(f"policy: {len(result.policy_rules)} rules passed "
              f"({', '.join(result.policy_rules)})")
    if result.in_process and not result.preview:
        out.print("note: sites without --endpoint went to in-process moto, which is discarded "
                  "on exit — a dry demonstration. Pass --endpoint SITE=URL for every site to "
                  "provision moto servers.")
    out.print(f"{len(result.resources)} resources {verb} in {result.duration_s:.2f} s")
    if result.deleted:
        out.print(f"{len(result.deleted)} resources deleted (no longer in the model): "
                  + ", ".join(sorted(r.name for r in result.deleted)))


def register(app: typer.Typer) -> None:
    app.add_typer(deploy_app)
    app.command()(provision)
