"""Runbook parameters: declared under ``parameters:``, bound from defaults and ``--set``.

A runbook declares each parameter with a type and, usually, a default::

    parameters:
      service: {type: service, default: model-store, description: the store to move}
      from:    {type: site, default: taipei-neihu}
    services: [${service}]
    from: ${from}

``${name}`` anywhere in the document (outside ``parameters``) is replaced by the bound value:
a string that is exactly ``${name}`` takes the value with its type (a number stays a number, a
list of sites a list); inside longer text it is interpolated. ``$from``, ``$to`` and
``$active`` (no braces) stay what they are: step placeholders resolved while the drill runs.

Values given with ``--set NAME=VALUE`` are text and are converted to the parameter's type;
sites and services are checked against the topology. Every problem is reported at once,
located in the file (a default, a ``${...}`` reference) or on the command line (``--set``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from georesil.model import Topology
from georesil.model._positions import did_you_mean, quoted_list

__all__ = ["REFERENCE", "ParamType", "as_text", "bind_parameters", "parse_assignments"]

#: ``${name}``: a reference to a parameter.
REFERENCE = re.compile(r"\$\{([A-Za-z0-9_.-]*)\}")

Loc = list[str | int]
Report = Callable[[Loc | None, str], None]


class ParamType(enum.StrEnum):
    """What a parameter holds."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    SITE = "site"
    SITES = "sites"
    SERVICE = "service"
    SERVICES = "services"


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class _Declared:
    name: str
    type: ParamType
    default: Any
    has_default: bool


def parse_assignments(items: Sequence[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}`` (the CLI's ``--set``).

    Raises:
        ValueError: an item without ``=`` or with an empty name; the message says which.
    """
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set {item!r}: expected NAME=VALUE, e.g. --set "
                             "service=dataset-store")
        out[name.strip()] = value
    return out


def as_text(bound: Mapping[str, Any]) -> dict[str, str]:
    """Bound values (as a journal records them) back as ``--set`` text: lists comma-joined,
    booleans ``true``/``false``; what :func:`bind_parameters` turns into the same values."""
    out: dict[str, str] = {}
    for name, value in bound.items():
        if value is None:
            continue
        if isinstance(value, list):
            out[name] = ",".join(map(str, value))
        elif isinstance(value, bool):
            out[name] = str(value).lower()
        else:
            out[name] = str(value)
    return out


def bind_parameters(raw: dict[str, Any], overrides: Mapping[str, str],
                    topology: Topology | None, report: Report) -> dict[str, Any]:
    """Bind the runbook's parameters and substitute them into ``raw`` (in place).

    Returns:
        The bound values by name (JSON-able), as the journal records them.
    """
    declared = _declarations(raw.get("parameters"), report)
    for name in overrides:
        if name not in declared:
            report(None, f"--set {name}: unknown parameter {name!r}; this runbook's "
                   f"parameters: {quoted_list(declared) if declared else '(none)'}"
                   + did_you_mean(name, declared))
    values: dict[str, Any] = {}
    for name, decl in declared.items():
        if name in overrides:
            value = _convert(decl, overrides[name], topology, _on_command_line(report, name))
        elif decl.has_default:
            value = _check(decl, decl.default, topology, _in_file(report, name))
        else:
            report(["parameters", name], f"parameter {name!r} has no default; pass "
                   f"--set {name}=VALUE ({decl.type.value})")
            value = None
        values[name] = value
    for key in list(raw):
        if key != "parameters":
            raw[key] = _substitute(raw[key], [key], values, report)
    return values


def _on_command_line(report: Report, name: str) -> Callable[[str], None]:
    return lambda message: report(None, f"--set {name}: {message}")


def _in_file(report: Report, name: str) -> Callable[[str], None]:
    return lambda message: report(["parameters", name, "default"], message)


def _declarations(block: Any, report: Report) -> dict[str, _Declared]:
    if not isinstance(block, dict):
        return {}  # absent, or the shape check reports it
    out = {}
    for name, spec in block.items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type", ParamType.STRING.value)
        try:
            ptype = ParamType(kind)
        except ValueError:
            report(["parameters", name, "type"], f"unknown parameter type {kind!r}; allowed: "
                   f"{quoted_list(t.value for t in ParamType)}"
                   + did_you_mean(kind, [t.value for t in ParamType]))
            continue
        out[str(name)] = _Declared(str(name), ptype, spec.get("default"), "default" in spec)
    return out


def _convert(decl: _Declared, text: str, topology: Topology | None,
             say: Callable[[str], None]) -> Any:
    """A ``--set`` value (text) as the parameter's type."""
    value: Any = text
    if decl.type is ParamType.NUMBER or decl.type is ParamType.INTEGER:
        try:
            value = int(text) if decl.type is ParamType.INTEGER else float(text)
        except ValueError:
            say(f"expected {_a(decl.type.value)}; got {text!r}")
            return None
    elif decl.type is ParamType.BOOLEAN:
        if text.lower() not in _TRUE + _FALSE:
            say(f"expected a boolean (true/false); got {text!r}")
            return None
        value = text.lower() in _TRUE
    elif decl.type in (ParamType.SITES, ParamType.SERVICES):
        value = [part.strip() for part in text.split(",") if part.strip()]
    return _check(decl, value, topology, say)


def _check(decl: _Declared, value: Any, topology: Topology | None,
           say: Callable[[str], None]) -> Any:
    """``value`` when it fits the parameter's type (and the topology), else ``None``."""
    kind = decl.type
    simple: dict[ParamType, tuple[type, ...]] = {
        ParamType.STRING: (str,), ParamType.NUMBER: (int, float), ParamType.INTEGER: (int,),
        ParamType.BOOLEAN: (bool,), ParamType.SITE: (str,), ParamType.SERVICE: (str,)}
    if kind in simple:
        if not isinstance(value, simple[kind]) or (kind is not ParamType.BOOLEAN
                                                    and isinstance(value, bool)):
            say(f"expected {_a(kind.value)}; got {value!r}")
            return None
    elif not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        say(f"expected a non-empty list of {kind.value}; got {value!r}")
        return None
    if topology is not None and kind in (ParamType.SITE, ParamType.SITES):
        return value if _known(value, topology.sites, "site", say) else None
    if topology is not None and kind in (ParamType.SERVICE, ParamType.SERVICES):
        return value if _known(value, topology.services, "service", say) else None
    return value


def _known(value: str | list[str], known: Mapping[str, Any], what: str,
           say: Callable[[str], None]) -> bool:
    ok = True
    for item in [value] if isinstance(value, str) else value:
        if item not in known:
            say(f"unknown {what} {item!r}; known {what}s: {quoted_list(known)}"
                + did_you_mean(item, known))
            ok = False
    return ok


def _substitute(node: Any, loc: Loc, values: Mapping[str, Any], report: Report) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, [*loc, k], values, report) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, [*loc, i], values, report) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node
    whole = REFERENCE.fullmatch(node)
    if whole is not None:
        return _value(whole.group(1), loc, values, report)

    def text(match: re.Match[str]) -> str:
        value = _value(match.group(1), loc, values, report)
        return ",".join(value) if isinstance(value, list) else str(value)

    return REFERENCE.sub(text, node)


def _value(name: str, loc: Loc, values: Mapping[str, Any], report: Report) -> Any:
    if name not in values:
        report(loc, f"unknown parameter '${{{name}}}'; declared parameters: "
               f"{quoted_list(values) if values else '(none: add a parameters: block)'}"
               + did_you_mean(name, values))
        return None
    return values[name]


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"
