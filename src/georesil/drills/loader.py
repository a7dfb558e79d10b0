"""Load a runbook, validate it, and resolve it against the step registry and the topology.

Every problem is reported at once with ``file:line:column`` and a field path, exactly like
topology errors: the document's shape (pydantic), each step's name (with a near match), each
step's ``args`` against that step's own args model, every site and service against the
topology, and what the mode allows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from georesil._read import RUNBOOK, read_text
from georesil.drills.parameters import bind_parameters
from georesil.drills.registry import Kind, StepArgs, StepDef, steps
from georesil.drills.runbook import PLACEHOLDERS, Mode, RunbookDoc, StepSpec, Tolerance
from georesil.errors import InputRefused, InvalidRunbook, InvalidTopology, Problem
from georesil.model import Topology, load_topology
from georesil.model._positions import Locator, did_you_mean, field_path, quoted_list, to_plain
from georesil.model.loader import (
    document_loc,
    inner_model,
    kind_of,
    parse_document,
    pydantic_message,
)

__all__ = ["PHASES", "Runbook", "Step", "load_runbook", "parse_runbook"]

#: The step lists of a runbook, in the order they are checked.
PHASES = ("stop_conditions", "steady_state", "method", "rollback")

Report = Callable[..., None]


@dataclass(frozen=True)
class Step:
    """A validated step: its spec, its registry entry and its parsed args."""

    phase: str
    index: int
    id: str
    spec: StepSpec
    definition: StepDef
    args: StepArgs

    @property
    def safe_to_repeat(self) -> bool:
        """The runbook's ``safe_to_repeat``, else the registry's idempotent flag."""
        if self.spec.safe_to_repeat is not None:
            return self.spec.safe_to_repeat
        return self.definition.idempotent

    @property
    def tolerance(self) -> Tolerance | None:
        return self.spec.tolerance


@dataclass(frozen=True)
class Runbook:
    """A runbook ready to run: the document, its topology and its resolved steps."""

    doc: RunbookDoc
    path: Path | None
    topology: Topology
    sha256: str
    parameters: Mapping[str, Any]
    stop_conditions: tuple[Step, ...]
    steady_state: tuple[Step, ...]
    method: tuple[Step, ...]
    rollback: tuple[Step, ...]

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def rto_target_s(self) -> float:
        """The runbook's RTO target, else the strictest of its services' own."""
        if self.doc.targets.rto_s is not None:
            return self.doc.targets.rto_s
        return min(self.topology.service(s).rto_s for s in self.doc.services)

    @property
    def rpo_target_s(self) -> float:
        if self.doc.targets.rpo_s is not None:
            return self.doc.targets.rpo_s
        return min(self.topology.service(s).rpo_s for s in self.doc.services)


def load_runbook(path: str | Path, topology: Topology | None = None,
                 parameters: Mapping[str, str] | None = None) -> Runbook:
    """Load and validate a runbook file.

    Args:
        path: The runbook (YAML or JSON).
        topology: Use this topology instead of the one the runbook names (the lab's).
        parameters: Values for the runbook's parameters (``--set NAME=VALUE``), as text.

    Raises:
        InvalidRunbook: every problem found, each with file, line and column.
    """
    path = Path(path)
    try:
        text = read_text(path, RUNBOOK)
    except FileNotFoundError:
        raise InvalidRunbook([Problem(str(path), None, None, "", "no such file")],
                             str(path)) from None
    except InputRefused as exc:
        raise InvalidRunbook([exc.problem], str(path)) from None
    except OSError as exc:
        raise InvalidRunbook([Problem(str(path), None, None, "", f"cannot read: {exc}")],
                             str(path)) from exc
    return parse_runbook(text, str(path), topology=topology, parameters=parameters)


def parse_runbook(text: str, path: str | None = None, *, topology: Topology | None = None,
                  parameters: Mapping[str, str] | None = None) -> Runbook:
    """Parse and validate runbook text; ``path`` places messages and relative topologies.

    ``parameters`` bind the runbook's declared parameters (see
    :mod:`georesil.drills.parameters`); the others take their defaults.
    """
    try:
        root, locator = parse_document(text, path)
    except InvalidTopology as exc:  # the YAML parser speaks of topologies
        raise InvalidRunbook(exc.problems, path) from None
    if not isinstance(root, dict):
        raise InvalidRunbook([Problem(path, 1, 1, "", "a runbook is a mapping with 'version', "
                                      f"'name', 'services', 'method', ...; got "
                                      f"{kind_of(to_plain(root))}")], path)
    return _Validator(to_plain(root), locator, path, topology, parameters or {}).run()


class _Validator:
    def __init__(self, raw: dict[str, Any], locator: Locator, path: str | None,
                 topology: Topology | None, overrides: Mapping[str, str]) -> None:
        self.raw = raw
        self.overrides = overrides
        self.locator = locator
        self.path = path
        self.topology = topology
        self.problems: list[Problem] = []
        self.registry = steps()
        self.arg_refs: list[tuple[list[str | int], StepDef, dict[str, Any]]] = []

    def report(self, loc: Sequence[str | int] | None, message: str, *,
               key: bool = False) -> None:
        if loc is None:  # the command line (--set), not the file
            self.problems.append(Problem(self.path, None, None, "", message))
            return
        line, col = self.locator.at(loc, key=key)
        self.problems.append(Problem(self.path, line, col, field_path(loc), message))

    def run(self) -> Runbook:
        topology = self._topology()
        bound = bind_parameters(self.raw, self.overrides, topology, self.report)
        if self.problems:  # a bad parameter would echo through every field it fills
            raise InvalidRunbook(self.problems, self.path)
        doc = self._document()
        resolved = {phase: self._steps(phase) for phase in PHASES}
        if topology is not None:
            self._references(topology, resolved)
        self._mode(resolved)
        if self.problems:
            raise InvalidRunbook(self.problems, self.path)
        assert doc is not None and topology is not None
        kept = {p: tuple(s for s in resolved[p] if s is not None) for p in PHASES}
        return Runbook(doc, Path(self.path) if self.path else None, topology,
                       hashlib.sha256(json.dumps(self.raw, sort_keys=True).encode()).hexdigest(),
                       bound, kept["stop_conditions"], kept["steady_state"], kept["method"],
                       kept["rollback"])

    # -- the document's shape --------------------------------------------------------------
    def _document(self) -> RunbookDoc | None:
        try:
            return RunbookDoc.model_validate(self.raw)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            for err in errors:
                loc = document_loc(self.raw, err["loc"])
                if loc and loc[0] == "from" and not isinstance(self.raw.get("from"), list):
                    loc = ["from"]  # a single site given as a string
                if err["type"] == "too_short" and any(
                        len(e["loc"]) > len(err["loc"]) and e["loc"][:len(loc)] == tuple(loc)
                        for e in errors):
                    continue  # pydantic's echo of an invalid item: the item says it all
                self._pydantic(err, loc, RunbookDoc, [])
        return None

    def _pydantic(self, err: Any, loc: list[str | int], model: type[BaseModel],
                  prefix: list[str | int]) -> None:
        full = prefix + loc
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            self.report(full, f"unknown key {loc[-1]!r}; allowed keys: "
                        f"{quoted_list(allowed, 30)}" + did_you_mean(loc[-1], allowed), key=True)
            return
        if err["type"] == "too_short":
            self.report(full, f"needs at least {err['ctx']['min_length']} entry; got none")
            return
        message, on_key = pydantic_message(err, full)
        self.report(full, message, key=on_key)

    def _topology(self) -> Topology | None:
        if self.topology is not None:
            return self.topology
        ref = self.raw.get("topology")
        if ref is not None and not isinstance(ref, str):
            return None  # the shape check reported it
        target = None
        if isinstance(ref, str):
            base = Path(self.path).parent if self.path else Path.cwd()
            target = base / ref
        try:
            return load_topology(target)
        except InvalidTopology as exc:
            # Where, never what: the file may not be a topology at all, and its content is
            # not the runbook author's to see (`topology: /etc/shadow`).
            first = exc.problems[0] if exc.problems else None
            where = (f"; the first at line {first.line}" if first and first.line else "")
            self.report(["topology"], f"cannot load topology {str(target)!r}: "
                        f"{len(exc.problems)} problem(s){where}; run `georesil validate "
                        f"{target}` to see them")
            return None

    # -- steps -----------------------------------------------------------------------------
    def _steps(self, phase: str) -> list[Step | None]:
        container: Any = self.raw.get(phase)
        base: list[str | int] = [phase]
        if phase == "rollback":
            container = container.get("steps") if isinstance(container, dict) else None
            base = ["rollback", "steps"]
        if not isinstance(container, list):
            return []
        out: list[Step | None] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(container):
            step = self._step(phase, [*base, i], i, raw) if isinstance(raw, dict) else None
            if step is not None and step.id in seen:
                self.report([*base, i, "id"], f"duplicate step id {step.id!r} (also step "
                            f"{seen[step.id]} of {phase})")
            if step is not None:
                seen.setdefault(step.id, i)
            out.append(step)
        return out

    def _step(self, phase: str, loc: list[str | int], index: int,
              raw: dict[str, Any]) -> Step | None:
        try:
            spec = StepSpec.model_validate(raw)
        except ValidationError:
            return None  # reported by the document check
        definition = self.registry.get(spec.name)
        if definition is None:
            self.report([*loc, spec.kind], f"unknown {spec.kind} {spec.name!r}; known steps: "
                        f"{quoted_list(self.registry, 40)}" + did_you_mean(spec.name,
                                                                           self.registry))
            return None
        if definition.kind is not Kind(spec.kind):
            other = "action" if spec.kind == "probe" else "probe"
            self.report([*loc, spec.kind], f"{spec.name!r} is a registered {other}, not "
                        f"{_a(spec.kind)}; write `{other}: {spec.name}`", key=True)
            return None
        if phase in ("steady_state", "stop_conditions"):
            if definition.kind is not Kind.PROBE:
                self.report([*loc, "action"], f"{phase} lists probes only; {spec.name!r} is "
                            "an action (put it under 'method')", key=True)
            elif spec.tolerance is None:
                self.report(loc, f"a {phase} probe needs a 'tolerance' (what result is "
                            "acceptable), e.g. `tolerance: {equals: true}`")
        self.arg_refs.append(([*loc, "args"], definition, spec.args))
        args = self._args(definition, spec.args, [*loc, "args"])
        if args is None:
            return None
        return Step(phase, index, spec.id or f"{index + 1}-{spec.name}", spec, definition, args)

    def _args(self, definition: StepDef, raw: dict[str, Any],
              loc: list[str | int]) -> StepArgs | None:
        try:
            return definition.args.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                sub = document_loc(raw, err["loc"])
                if err["type"] == "missing":
                    self.report(loc + sub, f"step {definition.name!r} needs argument "
                                f"{sub[-1]!r}")
                else:
                    self._pydantic(err, sub, definition.args, loc)
            return None

    # -- references to the topology --------------------------------------------------------
    def _references(self, topology: Topology, resolved: dict[str, list[Step | None]]) -> None:
        services = self._services(topology)
        sites = _as_list(self.raw.get("from"))
        from_loc: Callable[[int], list[str | int]] = (
            (lambda i: ["from", i]) if isinstance(self.raw.get("from"), list)
            else (lambda i: ["from"]))
        for i, site in enumerate(sites):
            self._site(topology, site, from_loc(i))
        to = self.raw.get("to")
        if isinstance(to, str) and self._site(topology, to, ["to"]):
            if to in sites:
                self.report(["to"], f"the to-site {to!r} is also a from-site")
            for svc in services:
                self._replicas(topology, svc, to, sites)
        for loc, definition, raw in self.arg_refs:
            self._step_refs(topology, loc, definition, raw, services)

    def _services(self, topology: Topology) -> list[str]:
        raw = self.raw.get("services")
        good = []
        for i, svc in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(svc, str):
                continue
            if svc in topology.services:
                good.append(svc)
            else:
                self.report(["services", i], f"unknown service {svc!r}; known services: "
                            f"{quoted_list(topology.services)}" + did_you_mean(svc,
                                                                               topology.services))
        return good

    def _site(self, topology: Topology, site: Any, loc: list[str | int]) -> bool:
        if not isinstance(site, str) or site in topology.sites:
            return isinstance(site, str)
        self.report(loc, f"unknown site {site!r}; known sites: {quoted_list(topology.sites)}"
                    + did_you_mean(site, topology.sites))
        return False

    def _replicas(self, topology: Topology, service: str, to: str, sites: list[Any]) -> None:
        replica_sites = [r.site for r in topology.service(service).replicas]
        idx = _as_list(self.raw.get("services")).index(service)
        if to not in replica_sites:
            self.report(["services", idx], f"service {service!r} has no replica at the "
                        f"to-site {to!r}; its replicas: {quoted_list(replica_sites)}")
        if sites and not set(sites) & set(replica_sites):
            self.report(["services", idx], f"service {service!r} has no replica at any "
                        f"from-site {quoted_list(s for s in sites if isinstance(s, str))}; "
                        f"its replicas: {quoted_list(replica_sites)}")

    def _step_refs(self, topology: Topology, loc: list[str | int], definition: StepDef,
                   raw: dict[str, Any], services: list[str]) -> None:
        for name in definition.args.site_fields:
            value = raw.get(name)
            if not isinstance(value, str) or value in PLACEHOLDERS:
                continue
            if value not in topology.sites:
                self.report([*loc, name], f"unknown site {value!r}; use a site id, '$from', "
                            f"'$to' or '$active'; known sites: {quoted_list(topology.sites)}"
                            + did_you_mean(value, topology.sites))
        for name in definition.args.service_fields:
            value = raw.get(name)
            if isinstance(value, str) and value not in services:
                self.report([*loc, name], f"service {value!r} is not one the runbook moves; "
                            f"its services: {quoted_list(services)}"
                            + did_you_mean(value, services))

    # -- what the mode allows --------------------------------------------------------------
    def _mode(self, resolved: dict[str, list[Step | None]]) -> None:
        if self.raw.get("mode") != Mode.TEST:
            return
        for step in resolved["method"]:
            if step is not None and step.definition.mutating:
                self.report(["method", step.index, "action"], f"mode 'test' changes nothing "
                            f"that serves clients; {step.definition.name!r} does (use mode "
                            "'planned' or 'unplanned')", key=True)


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []


def _allowed_keys(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Keys allowed at ``loc`` inside ``model`` (aliases where a field has one)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {f.alias or n: f for n, f in current.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return []
        current = inner_model(field.annotation)
        if current is None:
            return []
    return [f.alias or n for n, f in current.model_fields.items()]
