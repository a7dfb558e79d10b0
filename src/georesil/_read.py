"""Bounded reading of input files: the one place georesil reads a document from disk.

Topologies, runbooks, lab state and drill journals all come through :func:`read_text`, and
YAML / JSON text through :func:`parse_yaml` / :func:`parse_json`. Each enforces the same
limits, so a hostile or broken file ends in :class:`~georesil.errors.InputRefused` (exit 2,
with ``file:line:column`` where there is a position), never in a hang, a ``MemoryError`` or a
``RecursionError``:

- **size**: at most :attr:`InputKind.max_bytes` bytes per file (16 MiB for a topology, 1 MiB
  for a runbook, ...), overridable by the kind's environment variable;
- **file kind**: regular files only (not ``/dev/zero``, a FIFO, a socket or a directory);
- **encoding**: UTF-8;
- **nesting depth**: at most :data:`MAX_DEPTH` nested lists / mappings;
- **aliases**: YAML aliases may add at most :data:`ALIAS_BUDGET` nodes in total (a
  "billion laughs" document fails at the alias that crosses the budget); an alias inside the
  node it names (a cycle) is refused;
- **non-finite numbers** in JSON read by :func:`parse_json` (``NaN``, ``Infinity``).
  Topology and runbook numbers are checked by their pydantic models
  (``allow_inf_nan=False``), which reports them with the field's own location.

YAML is read from libyaml's event stream into plain dicts, lists and scalars, resolving
scalars with the YAML 1.2 rules of ruamel's round-trip loader, which stays the reference:
:func:`parse_yaml` says when a document uses something only that loader interprets (tags,
anchored scalars, merge keys, directives, complex or duplicate keys, a syntax error) and the
caller then asks it. The events come from PyYAML's binding of libyaml 0.2.5 (PyYAML is already
installed with dask and pulumi): the older libyaml inside ``ruamel.yaml.clib`` rejects YAML 1.2
plain scalars with a colon in flow lists, such as every ``fail: [site:a]``. Only PyYAML's parser
is used, never its YAML 1.1 resolver. Without libyaml, ruamel's own parser is used (slower).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml as pyyaml
from ruamel.yaml import YAML
from ruamel.yaml import events as ruamel_events
from ruamel.yaml.error import YAMLError
from ruamel.yaml.resolver import VersionedResolver

from georesil.errors import InputRefused, Problem

try:
    from yaml._yaml import CParser as _LibyamlParser

    _HAVE_LIBYAML = True
except ImportError:  # PyYAML built without libyaml: ruamel's parser reads the events instead
    _HAVE_LIBYAML = False

__all__ = [
    "ALIAS_BUDGET",
    "INVENTORY",
    "JOURNAL",
    "LAB_STATE",
    "MAX_DEPTH",
    "RUNBOOK",
    "TOPOLOGY",
    "InputKind",
    "Parsed",
    "parse_json",
    "parse_yaml",
    "read_json",
    "read_text",
]

MiB: Final = 1024 * 1024

#: Deepest nesting of lists and mappings any document may have. A topology needs 5 levels,
#: a runbook about 6; the bound keeps every recursive consumer (the round-trip loader,
#: pydantic, ``json``) far from Python's recursion limit.
MAX_DEPTH: Final = 64

#: How many nodes YAML aliases may add to a document in total (each alias adds the size of
#: the node it repeats). Plenty for sharing a few records; a "billion laughs" needs 10⁹.
ALIAS_BUDGET: Final = 100_000


@dataclass(frozen=True)
class InputKind:
    """A kind of input file and its size limit.

    Attributes:
        name: What the file is, for messages (``topology``).
        default_bytes: The size limit unless the environment variable says otherwise.
        env: The environment variable that overrides the limit (a number of bytes).
    """

    name: str
    default_bytes: int
    env: str

    @property
    def max_bytes(self) -> int:
        """The size limit in force: ``$env`` when set to a positive integer, else the default.

        Raises:
            InputRefused: the variable is set to something that is not a positive integer.
        """
        raw = os.environ.get(self.env)
        if raw is None or not raw.strip():
            return self.default_bytes
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise InputRefused(Problem(None, None, None, self.env,
                                       f"must be a positive number of bytes; got {raw!r}"),
                               "size")
        return value


TOPOLOGY: Final = InputKind("topology", 16 * MiB, "GEORESIL_MAX_TOPOLOGY_BYTES")
RUNBOOK: Final = InputKind("runbook", 1 * MiB, "GEORESIL_MAX_RUNBOOK_BYTES")
LAB_STATE: Final = InputKind("lab state", 32 * MiB, "GEORESIL_MAX_LAB_STATE_BYTES")
JOURNAL: Final = InputKind("drill journal", 64 * MiB, "GEORESIL_MAX_JOURNAL_BYTES")
INVENTORY: Final = InputKind("inventory", 64 * MiB, "GEORESIL_MAX_INVENTORY_BYTES")


# -- reading bytes ---------------------------------------------------------------------------
def read_text(path: str | Path, kind: InputKind) -> str:
    """The UTF-8 text of a regular file no larger than ``kind.max_bytes``.

    The file is opened without blocking (a FIFO is refused, not waited on) and checked with
    ``fstat`` on the open descriptor, so what is checked is what is read.

    Raises:
        FileNotFoundError: no such file (callers word this themselves).
        InputRefused: not a regular file, larger than the limit, or not UTF-8.
        OSError: any other reading error (permission denied, ...).
    """
    name = str(path)
    limit = kind.max_bytes
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputRefused(Problem(name, None, None, "",
                                       f"not a regular file ({_file_kind(info.st_mode)}); a "
                                       f"{kind.name} is read from a regular file only"),
                               "file-kind")
        if info.st_size > limit:
            raise _too_large(name, kind, limit, info.st_size)
        data = _read_at_most(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # the file grew while being read
        raise _too_large(name, kind, limit, len(data))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data, exc.start)
        raise InputRefused(Problem(name, line, col, "",
                                   f"not UTF-8 text (byte 0x{data[exc.start]:02x}); a "
                                   f"{kind.name} is a UTF-8 YAML or JSON file"),
                           "encoding") from None


def _read_at_most(fd: int, count: int) -> bytes:
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = os.read(fd, min(left, 4 * MiB))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_large(name: str, kind: InputKind, limit: int, size: int) -> InputRefused:
    return InputRefused(Problem(name, None, None, "",
                                f"{_mib(size)} is larger than the {kind.name} limit of "
                                f"{_mib(limit)} ({limit} bytes); if the file is genuine, raise "
                                f"the limit with {kind.env}=BYTES"), "size")


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB" if size >= MiB // 10 else f"{size} bytes"


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"),
             (stat.S_ISSOCK, "a socket"))
    return next((what for test, what in kinds if test(mode)), "not a regular file")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


# -- YAML ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parsed:
    """What :func:`parse_yaml` made of a text.

    Attributes:
        data: The document as plain dicts, lists and scalars (``None`` for an empty text).
        exact: ``True`` when ``data`` is exactly what ruamel's round-trip loader gives after
            :func:`georesil.model._positions.to_plain`; ``False`` when the text uses something
            only that loader interprets (see the module docstring), or has a syntax error.
            The text has passed every limit either way.
    """

    data: Any
    exact: bool


# The scalar resolution table of ruamel's round-trip loader (YAML 1.2), by first character.
_RULES: Final[dict[Any, list[tuple[str, re.Pattern[str]]]]] = (
    VersionedResolver(version=(1, 2)).versioned_resolver)
_SCALAR, _ALIAS, _MAP, _SEQ, _END, _DOC = range(6)
_KINDS: Final[dict[type, int]] = {
    cls: kind
    for module in (pyyaml.events, ruamel_events)
    for cls, kind in ((module.ScalarEvent, _SCALAR), (module.AliasEvent, _ALIAS),
                      (module.MappingStartEvent, _MAP), (module.SequenceStartEvent, _SEQ),
                      (module.MappingEndEvent, _END), (module.SequenceEndEvent, _END),
                      (module.DocumentStartEvent, _DOC))
}
_NULL, _BOOL = "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_NO_KEY: Final = object()
_TOO_DEEP: Final = (f"nested deeper than {MAX_DEPTH} levels of lists and mappings; a document "
                    "this deep is not one georesil reads")


class _Inexact(Exception):
    """A scalar that only the round-trip loader interprets."""


def parse_yaml(text: str, path: str | None = None) -> Parsed:
    """Parse YAML (or JSON) text within the limits, into plain data.

    Raises:
        InputRefused: nested deeper than :data:`MAX_DEPTH`, aliases past
            :data:`ALIAS_BUDGET`, or an alias inside the node it names.
    """
    try:
        return _compose(_libyaml_events(text), path)
    except (YAMLError, pyyaml.YAMLError):
        pass
    # libyaml stopped at a syntax error. The round-trip loader will say what it is, but its
    # own parser may read further than libyaml did: check the limits on its events.
    try:
        return Parsed(_compose(YAML(typ="rt").parse(text), path).data, exact=False)
    except YAMLError:
        return Parsed(None, exact=False)


def _libyaml_events(text: str) -> Iterator[Any]:
    """Parser events from libyaml (PyYAML's binding, else ruamel's parser)."""
    if not _HAVE_LIBYAML:
        yield from YAML(typ="safe").parse(text)
        return
    parser = _LibyamlParser(text)
    try:
        while (event := parser.get_event()) is not None:
            yield event
            if type(event) is pyyaml.StreamEndEvent:
                return
    finally:
        parser.dispose()


def _compose(events: Iterable[Any], path: str | None) -> Parsed:  # noqa: C901
    """Plain data from parser events, with an explicit stack (no recursion)."""
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # per open mapping: its pending key, or _NO_KEY
    sizes: list[int] = []  # nodes in each open container, aliases expanded
    anchors: list[str | None] = []
    done: dict[str, tuple[Any, int]] = {}  # anchor -> the node it names and its size
    expanded = 0
    exact = True
    documents = 0
    root: Any = None
    kinds = _KINDS
    for ev in events:
        kind = kinds.get(type(ev))
        if kind == _SCALAR:
            value: Any = ev.value
            if ev.implicit[0] and (not value or value[:1] in _SPECIAL):
                try:
                    value = _plain_scalar(value)
                except _Inexact:
                    exact = False
            if ev.tag is not None:
                exact = False
            if ev.anchor is not None:
                # The round-trip loader keeps an anchored scalar's anchor in a subclass
                # (a bool becomes a ScalarBoolean, an int): leave those to it.
                exact = exact and type(value) is not bool and value is not None
                done[ev.anchor] = (value, 1)
            size = 1
        elif kind in (_MAP, _SEQ):
            if len(stack) >= MAX_DEPTH:
                raise _refused(path, ev, _TOO_DEEP, "depth")
            if ev.tag is not None:
                exact = False
            stack.append({} if kind == _MAP else [])
            keys.append(_NO_KEY)
            sizes.append(1)
            anchors.append(ev.anchor)
            continue
        elif kind == _END:
            value = stack.pop()
            keys.pop()
            size = sizes.pop()
            anchor = anchors.pop()
            if anchor is not None:
                done[anchor] = (value, size)
        elif kind == _ALIAS:
            if ev.anchor in anchors:
                raise _refused(path, ev, f"alias *{ev.anchor} is inside the node &{ev.anchor} "
                               "it repeats (a cycle); aliases may only repeat a finished node",
                               "aliases")
            if ev.anchor not in done:
                return Parsed(None, exact=False)  # undefined: the round-trip loader says so
            value, size = done[ev.anchor]
            expanded += size
            if expanded > ALIAS_BUDGET:
                raise _refused(path, ev, f"aliases expand to more than {ALIAS_BUDGET:,} nodes "
                               f"(*{ev.anchor} repeats {size:,}); write the values out or "
                               "share less", "aliases")
        elif kind == _DOC:
            documents += 1
            if documents > 1:
                return Parsed(None, exact=False)  # the round-trip loader refuses the second
            if getattr(ev, "version", None) is not None or getattr(ev, "tags", None):
                exact = False
            continue
        else:
            continue
        # attach the finished node to its parent
        if not stack:
            root = value
            continue
        sizes[-1] += size
        parent = stack[-1]
        if type(parent) is list:
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            if type(value) is dict or type(value) is list:
                exact = False  # a complex key
                value = object()
            keys[-1] = value
        else:
            key = keys[-1]
            if key in parent:
                exact = False  # a duplicate key: the round-trip loader refuses it
            parent[key] = value
            keys[-1] = _NO_KEY
    return Parsed(root, exact)


_SPECIAL: Final = frozenset(k for k in _RULES if isinstance(k, str) and k)


def _plain_scalar(value: str) -> Any:
    """A plain scalar as the round-trip loader resolves it (YAML 1.2)."""
    tag = next((t for t, regexp in _RULES.get(value[:1], ()) if regexp.match(value)), None)
    if tag is None:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    try:
        if tag == _INT:
            return _int(value)
        if tag == _FLOAT:
            return _float(value)
    except (ValueError, IndexError):
        pass  # the round-trip loader's own error or value is the reference
    raise _Inexact(value)


def _int(value: str) -> int:
    """ruamel's round-trip ``construct_yaml_int`` for YAML 1.2, as a plain ``int``."""
    digits = value.replace("_", "")
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    for prefix, base in (("0b", 2), ("0x", 16), ("0o", 8)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _float(value: str) -> float:
    """ruamel's round-trip ``construct_yaml_float`` for YAML 1.2, as a plain ``float``."""
    digits = value.replace("_", "").lower()
    sign = -1 if digits[0] == "-" else 1
    if digits[0] in "+-":
        digits = digits[1:]
    if digits == ".inf":
        return sign * float("inf")
    if digits == ".nan":
        return float("nan")
    return sign * float(digits)


def _refused(path: str | None, event: Any, message: str, limit: str) -> InputRefused:
    mark = event.start_mark
    return InputRefused(Problem(path, mark.line + 1, mark.column + 1, "", message), limit)


# -- JSON ------------------------------------------------------------------------------------
class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def parse_json(text: str, path: str | None = None, *, line: int = 1,
               object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """Parse JSON text within the limits (depth; ``NaN`` / ``Infinity`` refused).

    Args:
        text: The JSON text.
        path: The file, for messages.
        line: The line ``text`` starts on in its file (a journal's lines are parsed one by one).
        object_pairs_hook: As for :func:`json.loads`.

    Raises:
        InputRefused: nested deeper than :data:`MAX_DEPTH`, or a non-finite number.
        ValueError: not JSON (``json.JSONDecodeError``; callers word this themselves).
    """
    try:
        data = json.loads(text, parse_constant=_refuse_constant,
                          object_pairs_hook=object_pairs_hook)
    except _NonFinite as exc:
        found = _json_scan(text, constant=str(exc))
        where = _text_position(text, found, line) if found is not None else (line, None)
        raise InputRefused(Problem(path, *where, "",
                                   f"non-finite number {exc}; JSON numbers here must be "
                                   "finite"), "non-finite") from None
    except RecursionError:
        raise _too_deep(text, path, line) from None
    if _json_depth(data) > MAX_DEPTH:
        raise _too_deep(text, path, line)
    return data


def _too_deep(text: str, path: str | None, line: int) -> InputRefused:
    deep = _json_scan(text, depth=MAX_DEPTH)
    where = _text_position(text, deep, line) if deep is not None else (line, None)
    return InputRefused(Problem(path, *where, "", _TOO_DEEP), "depth")


def read_json(path: str | Path, kind: InputKind) -> Any:
    """Read and parse a JSON file within the limits (see :func:`read_text`, :func:`parse_json`).

    Raises:
        FileNotFoundError, OSError, InputRefused, ValueError: as those two functions do.
    """
    return parse_json(read_text(path, kind), str(path))


def _json_depth(data: Any) -> int:
    """Nesting depth of parsed JSON, without recursion (stops once past the limit)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(data, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        todo.extend((child, depth + 1) for child in children)
    return deepest


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]|-?\b(?:NaN|Infinity)\b', re.S)


def _json_scan(text: str, *, depth: int | None = None, constant: str | None = None) -> int | None:
    """Offset of the bracket opening level ``depth + 1``, or of the bare ``constant``."""
    level = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            level += 1
            if depth is not None and level > depth:
                return match.start()
        elif token in ("]", "}"):
            level -= 1
        elif constant is not None and token == constant:
            return match.start()
    return None


def _text_position(text: str, offset: int, first_line: int) -> tuple[int, int | None]:
    line_start = text.rfind("\n", 0, offset) + 1
    return first_line + text.count("\n", 0, offset), offset - line_start + 1
