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
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import structlog

from georesil._atomic import write_atomic
from georesil.errors import GeoresilError, ProvisionError
from georesil.provision._moto_converge import (
    DELETE_ORDER,
    DELETERS,
    REPLACE_ON,
    UPDATERS,
    describe,
    validate,
)
from georesil.provision._moto_handlers import HANDLERS, Handler, Target, known_regions
from georesil.provision.outputs import StackOutputs
from georesil.provision.policy import RULES, check_policy
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
_CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
BUCKET_TYPE = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
ROLE_TYPE = "aws:iam/role:Role"
TABLE_TYPE = "aws:dynamodb/table:Table"
#: moto's default account id (what a preview reports for STS GetCallerIdentity).
MOTO_ACCOUNT = "123456789012"
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
    region: str | None = None
    url: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        return not self.type.startswith("georesil:")

    def to_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "type": self.type, "name": self.name, "id": self.id,
                "inputs": dict(self.inputs), "outputs": dict(self.outputs), "site": self.site,
                "region": self.region, "url": self.url, "protect": self.protect,
                "retain_on_delete": self.retain_on_delete,
                "ignore_changes": list(self.ignore_changes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceRecord:
        return cls(**{**data, "ignore_changes": tuple(data.get("ignore_changes") or ())})


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
    deleted: tuple[ResourceRecord, ...] = ()

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


@dataclass(frozen=True)
class _Options:
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]


class _OptionsMonitor(pulumi.runtime.mocks.MockMonitor):
    """The mock monitor, also handing each resource's options (protect, retainOnDelete,
    ignoreChanges) to the engine, which Pulumi's mocks interface does not carry."""

    def __init__(self, engine: MotoEngine) -> None:
        super().__init__(engine)
        self.engine = engine

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self.engine.options[f"{request.type}::{request.name}"] = _Options(
            bool(request.protect), bool(request.retainOnDelete),
            tuple(request.ignoreChanges))
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


class MotoEngine(pulumi.runtime.Mocks):
    """Pulumi mocks that create each resource in moto through boto3.

    With ``previous`` (the records of the stack's last run) it converges as ``pulumi up``
    would: unchanged resources are left alone, changed ones updated in place or replaced,
    resources that left the program deleted by :meth:`finish` (protected ones refused,
    ``retain_on_delete`` ones only forgotten); ``ignore_changes`` is honoured.

    Args:
        preview: When true nothing is created: ids and ARNs are deterministic placeholders.
        lab: Loopback health-check targets are allowed (the lab's stand-in endpoints).
        previous: Records of the stack's previous run, by ``ref``.
    """

    def __init__(self, *, preview: bool = False, lab: bool = True,
                 previous: Mapping[str, ResourceRecord] | None = None) -> None:
        self.preview = preview
        self.lab = lab
        self.previous = dict(previous or {})
        self.options: dict[str, _Options] = {}
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        self._replaced: list[ResourceRecord] = []
        self.records: list[ResourceRecord] = []
        self.errors: list[BaseException] = []

    # -- the Mocks interface -----------------------------------------------------------
    def call(self, args: MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == _CALLER_IDENTITY:
            try:
                return self._caller_identity(args), []
            except BaseException as exc:
                self._fail(exc)
                raise
        error = ProvisionError(
            f"the moto engine implements no provider function {args.token!r}; georesil "
            "programs call only getCallerIdentity", token=args.token)
        self._fail(error)
        raise error

    def _caller_identity(self, args: MockCallArgs) -> dict[str, Any]:
        """STS GetCallerIdentity at the call's provider (moto's account; a placeholder in a
        preview, which calls nothing)."""
        account = MOTO_ACCOUNT
        if not self.preview:
            target = self._target("getCallerIdentity", "sts", args.provider)
            account = str(target.client("sts").get_caller_identity()["Account"])
        return {"accountId": account, "id": account,
                "arn": f"arn:aws:iam::{account}:user/georesil", "userId": "georesil"}

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        try:
            return self._new_resource(args)
        except BaseException as exc:
            self._fail(exc)
            raise

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)

    def _new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
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
            validate(args.typ, args.name, inputs, lab=self.lab, preview=self.preview)
            if args.typ == REPLICATION:
                self._check_replication(args.name, inputs)
            rid, outputs = self._converge(handler, target, args.typ, args.name, inputs)
        state = {**inputs, **outputs}
        self._record(args, rid, inputs, state, target)
        return rid, state

    def _converge(self, handler: Handler, target: Target, typ: str, name: str,
                  inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Create, leave alone, update in place or replace, as ``pulumi up`` would."""
        prev = self.previous.get(f"{typ}::{name}")
        if self.preview:
            if prev is not None:
                return prev.id, dict(prev.outputs)
            return _preview_state(typ, name, inputs, target)
        if prev is None:
            return self._create(handler, target, typ, name, inputs)
        ignored = set(self.options.get(prev.ref, _Options(False, False, ())).ignore_changes)
        changed = {k for k in set(inputs) | set(prev.inputs)
                   if inputs.get(k) != prev.inputs.get(k)} - ignored
        if not changed:
            return prev.id, dict(prev.outputs)
        if changed & set(REPLACE_ON.get(typ, ())):
            self._replaced.append(prev)  # deleted by finish(), after its dependents moved
            return self._create(handler, target, typ, name, inputs)
        previous = prev.to_json()

        def update() -> tuple[str, dict[str, Any]]:
            return UPDATERS[typ](target, name, inputs, previous)

        rid, outputs = self._apply(target, typ, name, update, "updating")
        return rid, {**prev.outputs, **outputs}

    def _check_replication(self, name: str, inputs: Mapping[str, Any]) -> None:
        """S3's prerequisites: both buckets versioned, the destination existing, the role too."""
        versioned = {str(r.inputs.get("bucket")) for r in self._known(VERSIONING)
                     if (r.inputs.get("versioningConfiguration") or {}).get("status")
                     == "Enabled"}
        buckets = {str(r.outputs.get("arn")): str(r.inputs.get("bucket"))
                   for r in self._known(BUCKET_TYPE)}
        roles = {str(r.outputs.get("arn")) for r in self._known(ROLE_TYPE)}
        problems = []
        if inputs.get("bucket") not in versioned:
            problems.append("InvalidRequest: Versioning must be 'Enabled' on the bucket to "
                            "apply a replication configuration")
        for rule in inputs.get("rules") or []:
            dest = str((rule.get("destination") or {}).get("bucket"))
            if dest not in buckets:
                problems.append(f"InvalidRequest: Destination bucket {dest!r} must exist")
            elif buckets[dest] not in versioned:
                problems.append(f"InvalidRequest: Destination bucket {dest!r} must have "
                                "versioning enabled")
        if not self.preview and inputs.get("role") not in roles:
            problems.append(f"InvalidArgument: role {inputs.get('role')!r} does not exist")
        if problems:
            raise ProvisionError(f"creating {describe(REPLICATION, str(inputs.get('bucket')))}: "
                                 + "; ".join(problems), type=REPLICATION, resource=name)

    def _known(self, typ: str) -> list[ResourceRecord]:
        with self._lock:
            return [r for r in self.records if r.type == typ]

    def _create(self, handler: Handler, target: Target, typ: str, name: str,
                inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        created = self._apply(target, typ, name, lambda: handler(target, name, inputs),
                              "creating", inputs)
        for replica in inputs.get("replicas") or [] if typ == TABLE_TYPE else []:
            # A global table's replica: the same table in another region, at the endpoint
            # that plays that region (moto keeps no global tables of its own).
            peer = self._peer(str(replica["regionName"]), target)
            single = {k: v for k, v in inputs.items() if k != "replicas"}

            def create_replica(p: Target = peer,
                               i: dict[str, Any] = single) -> tuple[str, dict[str, Any]]:
                return handler(p, name, i)

            self._apply(peer, typ, name, create_replica, "creating", inputs)
        return created

    def _peer(self, region: str, near: Target) -> Target:
        """The endpoint playing ``region``: a provider's target in that region, else ``near``'s
        endpoint signing for it."""
        with self._lock:
            found = [t for t in self._targets.values() if t.region == region]
        return found[0] if found else replace(near, region=region)

    def _apply(self, target: Target, typ: str, name: str,
               action: Callable[[], tuple[str, dict[str, Any]]], verb: str,
               inputs: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        """Run one create/update/delete, turning any failure into the provider's message."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        started = time.perf_counter()
        ident = next((str(inputs[k]) for k in ("bucket", "name", "tableName")
                      if inputs and isinstance(inputs.get(k), str)), name)
        where = f" [resource {name!r} at site {target.site!r}, {target.url or 'in-process moto'}]"
        try:
            rid, outputs = action()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            hint = ""
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 500 and target.url is not None and target.region not in known_regions():
                hint = (f"; the site signs for region {target.region!r}, which a moto server "
                        "only accepts when started with MOTO_ALLOW_NONEXISTENT_REGION=true")
            raise ProvisionError(
                f"{verb} {describe(typ, ident)}: {error.get('Code')}: {error.get('Message')}"
                f"{hint}{where}", type=typ, resource=name, site=target.site,
                region=target.region, code=error.get("Code")) from exc
        except GeoresilError:
            raise
        except (BotoCoreError, Exception) as exc:  # in-process moto raises its own errors
            raise ProvisionError(
                f"{verb} {describe(typ, ident)}: {type(exc).__name__}: {exc}{where}",
                type=typ, resource=name, site=target.site, region=target.region) from exc
        log.debug("resource.applied", verb=verb, type=typ, resource=name, site=target.site,
                  id=rid, duration_s=round(time.perf_counter() - started, 4))
        return rid, outputs

    def finish(self) -> list[ResourceRecord]:
        """Delete what left the program and the old halves of replacements; return what was
        deleted.

        Raises:
            ProvisionError: a resource to delete is protected (nothing is deleted then).
        """
        if self.preview:
            return []
        registered = {r.ref for r in self.records}
        gone = [r for r in self.previous.values() if r.custom and r.ref not in registered
                and r.type != _PROVIDER_TYPE]
        protected = [r for r in gone if r.protect]
        if protected:
            names = ", ".join(describe(r.type, r.id) for r in protected)
            raise ProvisionError(
                f"unable to delete {names}: protected (it left the program, but protection "
                "keeps it); set georesil:protect to false (StackConfig(protect=False)) and "
                "provision again to delete it, or put it back in the topology",
                resources=[r.name for r in protected])
        doomed = [r for r in gone if not r.retain_on_delete] + list(self._replaced)
        order = {typ: i for i, typ in enumerate(DELETE_ORDER)}
        doomed.sort(key=lambda r: order.get(r.type, len(order)))
        for r in doomed:
            target = Target(r.site, r.region or "us-east-1", r.url, *LAB_CREDENTIALS)
            self._apply(target, r.type, r.name, _deleter(target, r), "deleting", r.inputs)
        return doomed

    def _record(self, args: MockResourceArgs, rid: str, inputs: dict[str, Any],
                state: dict[str, Any], target: Target | None) -> None:
        ref = f"{args.typ}::{args.name}"
        opts = self.options.get(ref, _Options(False, False, ()))
        record = ResourceRecord(
            ref=ref, type=args.typ, name=args.name, id=rid, inputs=inputs, outputs=state,
            site=target.site if target else None, region=target.region if target else None,
            url=target.url if target else None, protect=opts.protect,
            retain_on_delete=opts.retain_on_delete, ignore_changes=opts.ignore_changes)
        with self._lock:
            self.records.append(record)

    # -- providers and clients -----------------------------------------------------------
    def _provider(self, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
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

def _deleter(target: Target, record: ResourceRecord) -> Callable[[], tuple[str, dict[str, Any]]]:
    def delete() -> tuple[str, dict[str, Any]]:
        DELETERS[record.type](target, record.to_json())
        return record.id, {}
    return delete


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
        pulumi.runtime.set_mocks(engine, project=PROJECT, stack=stack, preview=preview,
                                 monitor=_OptionsMonitor(engine))
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
    state_file: Path | None = None,
) -> ProvisionResult:
    """Provision ``topology`` into moto and check the policy rules.

    With ``state_file`` the run converges from the stack's previous run recorded there (see
    :class:`MotoEngine`) and records this one; without it every resource is created and a
    resource that already exists is an error, as with the provider.

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
        state_file: The stack's state (JSON), read before and written after a real run.

    Returns:
        The stack outputs (read them through ``result.stack_outputs``) and every resource.

    Raises:
        PolicyViolation: the planned resources break a rule; nothing was created.
        ProvisionError: a resource could not be created (the message names it).
        InvalidInput: an endpoint names an unknown site, or a replica site has no endpoint.
    """
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
    previous = load_state(state_file)
    deleted: tuple[ResourceRecord, ...] = ()
    with guard:
        plan = _run(topology, cfg, previous, preview=True)
        check_policy(topology, plan[1], lab=cfg.lab)
        if preview:
            result = plan
        else:
            result = _run(topology, cfg, previous, preview=False)
            deleted = result[2]
            if state_file is not None:
                save_state(state_file, result[1])
            check_policy(topology, result[1], lab=cfg.lab)
    duration = time.perf_counter() - started
    log.info("provision.finished", stack=stack, preview=preview, resources=len(result[1]),
             deleted=len(deleted), in_process=in_process, duration_s=round(duration, 3))
    return ProvisionResult(stack, preview, result[0], result[1], duration, in_process,
                           tuple(RULES), deleted)


def load_state(path: Path | None) -> dict[str, ResourceRecord]:
    """The records of a stack's previous run (none when there is no state file)."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        return {r["ref"]: ResourceRecord.from_json(r) for r in data["resources"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise ProvisionError(f"{path}: the moto engine's stack state is unreadable ({exc}); "
                             "remove it to provision from scratch", path=str(path)) from exc


def save_state(path: Path, records: Sequence[ResourceRecord]) -> None:
    """Record a run's resources (atomically)."""
    write_atomic(path, json.dumps({"version": 1, "resources": [r.to_json() for r in records]},
                                  indent=1, default=str) + "\n")


def _run(topology: Topology, cfg: StackConfig, previous: Mapping[str, ResourceRecord], *,
         preview: bool) -> tuple[dict[str, Any], tuple[ResourceRecord, ...],
                                 tuple[ResourceRecord, ...]]:
    engine = MotoEngine(preview=preview, lab=cfg.lab, previous=previous)
    outputs = run_program(engine, lambda: build_stack(topology, cfg), stack=cfg.stack,
                          preview=preview)
    deleted = tuple(engine.finish())
    return (outputs, tuple(sorted(engine.records, key=lambda r: (r.type, r.name))), deleted)
