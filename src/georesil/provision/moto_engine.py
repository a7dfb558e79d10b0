"""The moto-backed engine: run the Pulumi program under mocks that create every resource for real.

``MotoEngine`` is a :class:`pulumi.runtime.Mocks` whose ``new_resource`` calls boto3 against moto —
a moto server per site (the provider's endpoint URL) or in-process ``moto.mock_aws()`` (a provider
without one) — and returns the real ids and ARNs, so the same program that ``pulumi up`` would
run provisions a local lab. Pulumi calls mocks from a thread pool: clients are cached per
(endpoint, region, service, key) under a lock and every shared table is guarded.

:func:`provision_moto` previews first (creating nothing), runs the policy checks on the planned
resources, then provisions for real and checks again with the real ids.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pulumi
import structlog

from georesil.errors import GeoresilError, ProvisionError
from georesil.provision._moto_handlers import HANDLERS, Handler, Target, known_regions
from georesil.provision.outputs import StackOutputs
from georesil.provision.stack import StackConfig, build_stack, resolve_endpoints

if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs

    from georesil.model import Topology

__all__ = ["PROJECT", "MotoEngine", "ProvisionResult", "ResourceRecord", "provision_moto"]

log = structlog.get_logger(__name__)

#: The Pulumi project name used for URNs.
PROJECT = "georesil"
#: Credentials every moto client signs with; moto accepts any.
LAB_CREDENTIALS = ("testing", "testing")
_PROVIDER_TYPE = "pulumi:providers:aws"
_RUN_LOCK = threading.Lock()
#: Threads the Pulumi runtime may use to call the mocks concurrently.
_WORKERS = 8


@dataclass(frozen=True)
class ResourceRecord:
    """One resource the program registered, with its unwrapped inputs and its outputs.

    ``ref`` is ``type::name``: unique in a stack because georesil names are unique per type.
    """

    ref: str
    type: str
    name: str
    id: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    site: str | None = None

    @property
    def custom(self) -> bool:
        return not self.type.startswith("georesil:")


@dataclass(frozen=True)
class ProvisionResult:
    """What a provision did: the stack outputs and every registered resource."""

    stack: str
    preview: bool
    outputs: dict[str, Any]
    resources: tuple[ResourceRecord, ...]
    duration_s: float
    in_process: bool
    policy_rules: tuple[str, ...] = ()

    @property
    def stack_outputs(self) -> StackOutputs:
        return StackOutputs(self.outputs)

    def of_type(self, type_: str) -> list[ResourceRecord]:
        """Registered resources of one type token, by name."""
        return [r for r in self.resources if r.type == type_]

    def counts(self) -> dict[str, int]:
        """Number of resources per type token (providers and components included)."""
        out: dict[str, int] = {}
        for r in self.resources:
            out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))


def _unwrap(value: Any) -> Any:
    """Replace Pulumi secret envelopes with their plain values, recursively."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _in_process_moto_active() -> bool:
    try:
        from moto.core.models import MockAWS
    except ImportError:  # pragma: no cover - moto is a dependency
        return False
    return bool(getattr(MockAWS, "_mocks_active", False))


class MotoEngine(pulumi.runtime.Mocks):
    """Pulumi mocks that create each resource in moto through boto3.

    Args:
        preview: When true nothing is created: ids and ARNs are deterministic placeholders.
    """

    def __init__(self, *, preview: bool = False) -> None:
        self.preview = preview
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        self.records: list[ResourceRecord] = []
        self.errors: list[BaseException] = []

    # -- the Mocks interface -----------------------------------------------------------
    def call(self, args: MockCallArgs) -> tuple[dict, list | None]:
        error = ProvisionError(
            f"the moto engine implements no provider function {args.token!r}; georesil "
            "programs declare resources only", token=args.token)
        self._fail(error)
        raise error

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        try:
            return self._new_resource(args)
        except BaseException as exc:
            self._fail(exc)
            raise

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)

    def _new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        inputs = _unwrap(dict(args.inputs))
        if args.typ == _PROVIDER_TYPE:
            return self._provider(args.name, inputs)
        target = None
        outputs: dict[str, Any]
        if not args.custom:  # a component: nothing to create
            rid, outputs = args.name, {}
        else:
            target = self._target(args.typ, args.name, args.provider)
            handler = HANDLERS.get(args.typ)
            if handler is None:
                raise ProvisionError(
                    f"the moto engine has no handler for resource type {args.typ!r} (resource "
                    f"{args.name!r}); handled types: {', '.join(sorted(HANDLERS))}",
                    type=args.typ, resource=args.name)
            if self.preview:
                rid, outputs = _preview_state(args.typ, args.name, inputs, target)
            else:
                rid, outputs = self._create(handler, target, args.typ, args.name, inputs)
        state = {**inputs, **outputs}
        self._record(args, rid, inputs, state, target)
        return rid, state

    def _create(self, handler: Handler, target: Target, typ: str, name: str,
                inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        started = time.perf_counter()
        where = f"at site {target.site!r} ({target.url or 'in-process moto'})"
        try:
            rid, outputs = handler(target, name, inputs)
        except (ClientError, BotoCoreError) as exc:
            hint = ""
            status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get(
                "HTTPStatusCode")
            if status == 500 and target.url is not None and target.region not in known_regions():
                hint = (f"; the site signs for region {target.region!r}, which a moto server "
                        "only accepts when started with MOTO_ALLOW_NONEXISTENT_REGION=true")
            raise ProvisionError(
                f"creating {typ} {name!r} {where} failed: {exc}{hint}",
                type=typ, resource=name, site=target.site, region=target.region) from exc
        except GeoresilError:
            raise
        except Exception as exc:  # in-process moto raises its own errors, not ClientError
            raise ProvisionError(
                f"creating {typ} {name!r} {where} failed: {type(exc).__name__}: {exc}",
                type=typ, resource=name, site=target.site, region=target.region) from exc
        log.debug("resource.created", type=typ, resource=name, site=target.site, id=rid,
                  duration_s=round(time.perf_counter() - started, 4))
        return rid, outputs

    def _record(self, args: MockResourceArgs, rid: str, inputs: dict, state: dict,
                target: Target | None) -> None:
        record = ResourceRecord(
            ref=f"{args.typ}::{args.name}", type=args.typ, name=args.name, id=rid,
            inputs=inputs, outputs=state, site=target.site if target else None)
        with self._lock:
            self.records.append(record)

    # -- providers and clients -----------------------------------------------------------
    def _provider(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict]:
        endpoints = inputs.get("endpoints") or []
        if isinstance(endpoints, str):
            endpoints = json.loads(endpoints)
        url = next((e.get("s3") for e in endpoints if isinstance(e, dict) and e.get("s3")), None)
        key, secret = inputs.get("accessKey"), inputs.get("secretKey")
        region = str(inputs.get("region") or "us-east-1")
        if url is None and region not in known_regions():
            # In-process moto only knows AWS's regions; a private region label (tw-south-1)
            # falls back to one it knows. Names are unique per site, so nothing collides.
            region = "us-east-1"
        target = Target(
            site=name.removeprefix("site-"), region=region,
            url=url, access_key=str(key or LAB_CREDENTIALS[0]),
            secret_key=str(secret or LAB_CREDENTIALS[1]))
        rid = f"{name}-provider"
        with self._lock:
            self._targets[rid] = target
        public = {k: v for k, v in inputs.items() if k not in ("accessKey", "secretKey")}
        record = ResourceRecord(f"{_PROVIDER_TYPE}::{name}", _PROVIDER_TYPE, name, rid, public,
                                public, target.site)
        with self._lock:
            self.records.append(record)
        return rid, public

    def _target(self, typ: str, name: str, provider_ref: str | None) -> Target:
        rid = (provider_ref or "").rsplit("::", 1)[-1]
        with self._lock:
            target = self._targets.get(rid)
        if target is None:
            raise ProvisionError(
                f"{typ} {name!r} has no explicit aws.Provider (got {provider_ref!r}); every "
                "georesil resource must name its site's provider", type=typ, resource=name)
        if target.url is None and not self.preview and not _in_process_moto_active():
            raise ProvisionError(
                f"{typ} {name!r}: site {target.site!r} has no endpoint URL and in-process moto "
                "is not active; refusing to call real AWS from the moto engine",
                type=typ, resource=name, site=target.site)
        return target

def _preview_state(typ: str, name: str, inputs: dict[str, Any],
                   target: Target) -> tuple[str, dict[str, Any]]:
    """Deterministic placeholder ids and ARNs for a preview: nothing is created."""
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs["bucket"]
        return bucket, {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket}
    rid = f"preview-{name}"
    state: dict[str, Any] = {"arn": f"arn:aws:preview:{target.region}::{typ}/{name}",
                             "zoneId": rid, "name": inputs.get("name", rid)}
    if typ == "aws:route53/zone:Zone":
        state["nameServers"] = [f"ns-preview-{i}.example" for i in range(1, 5)]
    return rid, state


# -- running a program under the engine ---------------------------------------------------
def run_program(engine: MotoEngine, program: Callable[[], None], *, stack: str,
                preview: bool) -> dict[str, Any]:
    """Run ``program`` under ``engine`` in a fresh thread; return the resolved stack outputs.

    Pulumi keeps its settings in context variables and needs an event loop: a new thread
    starts with an empty context, so consecutive runs cannot see each other's stacks.

    Raises:
        The first error a resource handler raised, else the program's own error.
    """
    box: dict[str, Any] = {}

    def main() -> None:
        try:
            box["outputs"] = _run_in_thread(engine, program, stack, preview)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            box["error"] = exc

    worker = threading.Thread(target=main, name="georesil-pulumi", daemon=True)
    with _RUN_LOCK:  # the Pulumi runtime keeps some process-wide state: one program at a time
        worker.start()
        worker.join()
    if engine.errors:
        raise engine.errors[0]
    error = box.get("error")
    if isinstance(error, GeoresilError):
        raise error
    if error is not None:
        raise ProvisionError(f"the Pulumi program failed: {type(error).__name__}: {error}",
                             stack=stack) from error
    return dict(box["outputs"])


def _run_in_thread(engine: MotoEngine, program: Callable[[], None], stack: str,
                   preview: bool) -> dict[str, Any]:
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.stack import run_pulumi_func

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The mock monitor gives every executor thread an event loop of its own and never closes
    # it; owning the executor lets us close those loops (and their sockets) afterwards.
    worker_loops: list[asyncio.AbstractEventLoop] = []
    lock = threading.Lock()

    def init_worker() -> None:
        worker_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(worker_loop)
        with lock:
            worker_loops.append(worker_loop)

    executor = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="georesil-mock",
                                  initializer=init_worker)
    loop.set_default_executor(executor)
    captured: dict[str, Any] = {}
    try:
        pulumi.runtime.set_mocks(engine, project=PROJECT, stack=stack, preview=preview)
        # set_mocks leaves the pending-outputs set at its shared default, where a failed run
        # can leave tasks of its (now closed) loop; give this run a set of its own.
        SETTINGS.outputs = set()

        async def body() -> None:
            program()
            root = pulumi.runtime.get_root_resource()
            outputs = getattr(root, "outputs", {})
            # One by one: a value unknown in a preview leaves out that key, not all of them.
            for key, value in dict(outputs).items():
                resolved = await pulumi.Output.from_input(value).future()
                if resolved is not None:
                    captured[key] = resolved

        loop.run_until_complete(run_pulumi_func(body))
    finally:
        # After a failure some registrations are still pending: cancel them before closing.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(None)
        for worker_loop in worker_loops:
            worker_loop.close()
    return captured


def provision_moto(
    topology: Topology,
    endpoints: Mapping[str, str] | None = None,
    *,
    stack: str = "lab",
    preview: bool = False,
    in_process: bool = False,
    config: StackConfig | None = None,
) -> ProvisionResult:
    """Provision ``topology`` into moto and check the policy rules.

    Args:
        topology: The topology to provision.
        endpoints: Site id -> moto server URL; sites not named use the topology's endpoint
            URL, and sites with no URL at all go to in-process moto (``mock_aws``: started
            here if the caller has not, and then discarded when this returns).
        stack: Stack name, part of every physical name.
        preview: Plan only: run the program and the policy checks, create nothing.
        in_process: Ignore the topology's endpoint URLs: every site not in ``endpoints``
            goes to in-process moto.
        config: Further stack settings; ``stack`` and ``endpoints`` override its fields.

    Returns:
        The stack outputs (read them through ``result.stack_outputs``) and every resource.

    Raises:
        PolicyViolation: the planned resources break a rule; nothing was created.
        ProvisionError: a resource could not be created (the message names it).
        InvalidInput: an endpoint names an unknown site, or a replica site has no endpoint.
    """
    from georesil.provision.policy import RULES, check_policy

    base = config or StackConfig(force_destroy=True, protect=False,
                                 default_region="us-east-1", lab=True)
    cfg = replace(base, stack=stack, endpoints=dict(endpoints or {}),
                  credentials=base.credentials or LAB_CREDENTIALS,
                  topology_urls=base.topology_urls and not in_process)
    resolved = resolve_endpoints(topology, cfg)
    in_process = any(ep.url is None and ep.region for ep in resolved.values())
    started = time.perf_counter()
    guard: AbstractContextManager[Any] = nullcontext()
    if in_process and not preview:
        from moto import mock_aws

        guard = mock_aws()
    with guard:
        plan = _run(topology, cfg, preview=True)
        check_policy(topology, plan[1], lab=cfg.lab)
        if preview:
            result = plan
        else:
            result = _run(topology, cfg, preview=False)
            check_policy(topology, result[1], lab=cfg.lab)
    duration = time.perf_counter() - started
    log.info("provision.finished", stack=stack, preview=preview, resources=len(result[1]),
             in_process=in_process, duration_s=round(duration, 3))
    return ProvisionResult(stack, preview, result[0], result[1], duration, in_process,
                           tuple(RULES))


def _run(topology: Topology, cfg: StackConfig, *,
         preview: bool) -> tuple[dict[str, Any], tuple[ResourceRecord, ...]]:
    engine = MotoEngine(preview=preview)
    outputs = run_program(engine, lambda: build_stack(topology, cfg), stack=cfg.stack,
                          preview=preview)
    return outputs, tuple(sorted(engine.records, key=lambda r: (r.type, r.name)))
