"""Commands that build infrastructure: ``deploy`` (the Pulumi engine) and ``provision``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from georesil.cli._common import JsonOpt, TopologyArg, TopologyOpt, console, load, print_json
from georesil.errors import InvalidInput

if TYPE_CHECKING:
    from georesil.provision.moto_engine import ProvisionResult

StackOpt = typer.Option("dev", "--stack", "-s", help="Stack name (part of every resource name).")
EndpointOpt = typer.Option(
    None, "--endpoint", "-e", metavar="SITE=URL",
    help="Send a site's resources to this endpoint (a moto server); repeatable.")

deploy_app = typer.Typer(
    name="deploy", no_args_is_help=True,
    help="Drive the Pulumi engine (pulumi.automation, local file backend). Needs the Pulumi CLI.")


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
            as_json: bool) -> None:
    from georesil.provision.automation import deploy, require_pulumi_cli
    from georesil.provision.stack import StackConfig

    require_pulumi_cli()  # before loading anything: the most likely problem first
    topo = load(topology)
    result = deploy(topo, operation, config=StackConfig(stack=stack,
                                                        endpoints=parse_endpoints(endpoint)))
    if as_json:
        print_json({"operation": result.operation, "stack": result.stack,
                    "summary": result.summary, "outputs": result.outputs})
        return
    typer.echo(f"{operation} {stack}: " + ", ".join(f"{k}={v}" for k, v in
                                                     sorted(result.summary.items())))


@deploy_app.command("preview")
def deploy_preview(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                   endpoint: list[str] | None = EndpointOpt, as_json: bool = JsonOpt) -> None:
    """Show what 'up' would change."""
    _deploy("preview", topology, stack, endpoint, as_json)


@deploy_app.command("up")
def deploy_up(topology: Path | None = TopologyOpt, stack: str = StackOpt,
              endpoint: list[str] | None = EndpointOpt, as_json: bool = JsonOpt) -> None:
    """Create or update the stack's resources."""
    _deploy("up", topology, stack, endpoint, as_json)


@deploy_app.command("destroy")
def deploy_destroy(topology: Path | None = TopologyOpt, stack: str = StackOpt,
                   endpoint: list[str] | None = EndpointOpt, as_json: bool = JsonOpt) -> None:
    """Delete every resource of the stack."""
    _deploy("destroy", topology, stack, endpoint, as_json)


def provision(
    file: Path | None = TopologyArg,
    engine: str = typer.Option("moto", "--engine", metavar="moto|pulumi",
                               help="moto: create everything in moto servers through the "
                                    "Pulumi mocks; pulumi: 'deploy up'."),
    endpoint: list[str] | None = EndpointOpt,
    stack: str = typer.Option("lab", "--stack", "-s", help="Stack name."),
    preview: bool = typer.Option(False, "--preview", help="Plan and check policy only."),
    as_json: bool = JsonOpt,
) -> None:
    """Provision a topology: buckets, replication, failover DNS, control table, parameters."""
    if engine not in ("moto", "pulumi"):
        raise InvalidInput(f"--engine: got {engine!r}; allowed: moto, pulumi", field="engine",
                           value=engine)
    if engine == "pulumi":
        _deploy("up", file, stack, endpoint, as_json)
        return
    from georesil.provision.moto_engine import provision_moto

    topo = load(file)
    endpoints = parse_endpoints(endpoint)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    # No endpoint at all: a dry demonstration in in-process moto, never the topology's URLs.
    result = provision_moto(topo, endpoints, stack=stack, preview=preview,
                            in_process=not endpoints)
    if as_json:
        print_json(_as_json(result))
        return
    _render(result)


def _as_json(result: ProvisionResult) -> dict[str, object]:
    return {
        "stack": result.stack, "preview": result.preview, "in_process": result.in_process,
        "duration_s": round(result.duration_s, 3),
        "policy": {"passed": list(result.policy_rules), "violations": []},
        "resources": [{"type": r.type, "name": r.name, "id": r.id, "site": r.site}
                      for r in result.resources],
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


def register(app: typer.Typer) -> None:
    app.add_typer(deploy_app)
    app.command()(provision)
