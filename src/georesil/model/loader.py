"""Load a topology from YAML or JSON, reporting every problem with its file, line and column.

Loading is two-speed. The fast path reads JSON with the standard library and YAML from
libyaml's event stream (:mod:`georesil._read`), validates the plain data, and returns the
topology. Only when that finds a problem (or the text uses something only ruamel's round-trip
loader interprets) is the text parsed again by the round-trip loader, whose node positions give
each problem its ``file:line:column``, so messages are the same whichever path ran.
"""

from __future__ import annotations

import json
import types
import typing
import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.reader import ReaderError

from georesil._read import TOPOLOGY, Parsed, parse_yaml, read_text
from georesil.errors import InputRefused, InvalidTopology, Problem
from georesil.model._positions import (
    Locator,
    clipped_repr,
    did_you_mean,
    field_path,
    quoted_list,
    to_plain,
)
from georesil.model.schema import TopologyDoc
from georesil.model.topology import Topology
from georesil.model.validate import check_document

__all__ = [
    "DEFAULT_TOPOLOGY",
    "default_topology_path",
    "load_topology",
    "parse_document",
    "parse_topology",
    "topology_from_dict",
]

#: Name of the bundled reference topology inside the package.
DEFAULT_TOPOLOGY = "taiwan.yaml"


def default_topology_path() -> Path:
    """Path of the bundled Taiwan reference topology."""
    return Path(str(resources.files("georesil.data").joinpath(DEFAULT_TOPOLOGY)))


def load_topology(path: str | Path | None = None) -> Topology:
    """Load and validate a topology file (the bundled reference topology when ``None``).

    The file is read within the limits of :mod:`georesil._read` (size, regular file, UTF-8,
    nesting depth, aliases).

    Raises:
        InvalidTopology: listing every problem found, each with file, line and column.
    """
    path = default_topology_path() if path is None else Path(path)
    name = str(path)
    try:
        text = read_text(path, TOPOLOGY)
    except FileNotFoundError:
        raise InvalidTopology([Problem(name, None, None, "", "no such file")], name) from None
    except InputRefused as exc:
        raise InvalidTopology([exc.problem], name) from None
    except OSError as exc:
        raise InvalidTopology([Problem(name, None, None, "", f"cannot read: {exc}")],
                              name) from exc
    return parse_topology(text, name)


def parse_document(text: str, path: str | None = None) -> tuple[Any, Locator]:
    """Parse YAML (or JSON) text into a round-trip tree and a locator for positions.

    The text is first checked against the reading limits, so the round-trip loader (which
    recurses and copies aliases) only ever sees a document within them.

    Raises:
        InvalidTopology: when the text is not well-formed YAML or JSON, or past a limit.
    """
    try:
        parse_yaml(text, path)
    except InputRefused as exc:
        raise InvalidTopology([exc.problem], path) from None
    return _round_trip(text, path)


def _round_trip(text: str, path: str | None) -> tuple[Any, Locator]:
    yaml = YAML(typ="rt")
    try:
        with warnings.catch_warnings():
            # A redefined anchor is valid YAML (the later one counts); ruamel only warns.
            warnings.simplefilter("ignore", ReusedAnchorWarning)
            root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        raise InvalidTopology([Problem(path, line, col, "", f"not valid YAML: {what}")],
                              path) from None
    except ReaderError as exc:  # a character YAML does not allow: locate it by its offset
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = (f" (character #x{exc.character:04x})" if isinstance(exc.character, int)
                else "")
        raise InvalidTopology([Problem(path, line, col, "", f"not valid YAML: {exc.reason}"
                                       + char)], path) from None
    except (YAMLError, ValueError, IndexError) as exc:  # ruamel raises plain errors for a few
        raise InvalidTopology([Problem(path, None, None, "", f"not valid YAML: {exc}")],
                              path) from None
    return root, Locator(root)


def parse_topology(text: str, path: str | None = None) -> Topology:
    """Parse and validate topology text; ``path`` is used in messages only.

    Raises:
        InvalidTopology: listing every problem found, each with file, line and column.
    """
    try:
        parsed = _fast_parse(text, path)
    except InputRefused as exc:
        raise InvalidTopology([exc.problem], path) from None
    if parsed.exact:
        if not isinstance(parsed.data, dict):
            raise _not_a_mapping(parsed.data, path)
        topology = _validate_fast(parsed.data, path)
        if topology is not None:
            return topology
    root, locator = _round_trip(text, path)
    if not isinstance(root, dict):
        raise _not_a_mapping(to_plain(root), path)
    return _validate(to_plain(root), locator, path)


def topology_from_dict(data: dict[str, Any], path: str | None = None) -> Topology:
    """Validate a topology given as plain Python data (positions are then unknown)."""
    return _validate(data, Locator(None), path)


def _fast_parse(text: str, path: str | None) -> Parsed:
    """Plain data of the text: JSON by the standard library when it is plain JSON, else YAML.

    Whatever JSON the standard library reads differently from the round-trip loader
    (duplicate keys, ``NaN``/``Infinity``, nesting it cannot follow) goes the YAML way.
    """
    if text.lstrip()[:1] == "{":
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys,
                              parse_constant=_not_json_number)
        except (ValueError, RecursionError):
            pass
        else:
            return Parsed(data, exact=True)
    return parse_yaml(text, path)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _not_json_number(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _not_a_mapping(value: Any, path: str | None) -> InvalidTopology:
    return InvalidTopology(
        [Problem(path, 1, 1, "", "a topology is a mapping with 'version', 'name', "
                 f"'sites', ...; got {_kind_of(value)}")], path)


class _Invalid(Exception):
    """The fast path found a problem; the located path will say which."""


def _validate_fast(raw: dict[str, Any], path: str | None) -> Topology | None:
    """The topology, or ``None`` at the first problem (without locating it)."""
    try:
        doc = TopologyDoc.model_validate(raw)
    except ValidationError:
        return None
    try:
        check_document(raw, _first_problem)
    except _Invalid:
        return None
    return Topology(doc, source=path)


def _first_problem(loc: Sequence[str | int], message: str) -> None:
    raise _Invalid(message)


def _validate(raw: dict[str, Any], locator: Locator, path: str | None) -> Topology:
    problems: list[Problem] = []

    def report(loc: Sequence[str | int], message: str, *, key: bool = False) -> None:
        line, col = locator.at(loc, key=key)
        problems.append(Problem(path, line, col, field_path(loc), message))

    doc: TopologyDoc | None = None
    try:
        doc = TopologyDoc.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = _document_loc(raw, err["loc"])
            message, on_key = _pydantic_message(err, loc)
            report(loc, message, key=on_key)
    check_document(raw, report)
    if problems:
        raise InvalidTopology(problems, path)
    assert doc is not None
    return Topology(doc, source=path)


def _document_loc(raw: Any, loc: Sequence[Any]) -> list[str | int]:
    """The parts of a pydantic location that name places in the document.

    pydantic adds tags for union members and validators (``function-after[...]``); they are
    dropped. The last part is kept even when absent from the document: a missing field.
    """
    out: list[str | int] = []
    node = raw
    for i, part in enumerate(loc):
        in_map = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            node = node[part]
        elif not (i == len(loc) - 1 and isinstance(part, str) and isinstance(node, dict)):
            continue
        out.append(part)
    return out


def _pydantic_message(err: Any, loc: list[str | int]) -> tuple[str, bool]:
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden" and loc:
        allowed = _allowed_keys(loc[:-1])
        return (f"unknown key {loc[-1]!r}; allowed keys: {quoted_list(allowed, 30)}"
                + did_you_mean(loc[-1], allowed), True)
    if kind == "missing" and loc:
        return f"required field {loc[-1]!r} is missing", False
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, "):]
    else:
        msg = msg[0].lower() + msg[1:]
    if kind == "string_pattern_mismatch" and loc and loc[-1] in ("id", "name"):
        msg = ("ids are 1-63 characters of lower-case letters, digits, '.', '_' and '-', "
               "starting with a letter or digit")
    msg = msg.replace("a valid tuple", "a list").replace("a valid dictionary", "a mapping")
    if isinstance(value, (dict, list)):
        # Whole-record errors (a model validator) name the problem; the record is no news.
        return (msg, False) if kind == "value_error" else (f"{msg}; got {_kind_of(value)}", False)
    return f"{msg}; got {clipped_repr(value)}", False


def _kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    model: Any = TopologyDoc
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if _is_model(model) else None
        if field is None:
            return []
        model = _inner_model(field.annotation)
    return list(model.model_fields) if _is_model(model) else []


def _is_model(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``X | None`` or ``tuple[X, ...]``, else ``None``."""
    if _is_model(annotation):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, tuple, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


# Public names for other loaders of positioned YAML documents (the drill runbook loader), so
# that runbook errors read exactly like topology errors.
document_loc = _document_loc
pydantic_message = _pydantic_message
kind_of = _kind_of
inner_model = _inner_model
