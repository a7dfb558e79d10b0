"""Positions of nodes in a ruamel.yaml round-trip tree, and field paths for messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

Loc = Sequence[str | int]


def field_path(loc: Loc) -> str:
    """Render a location as ``links[3].b``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class Locator:
    """Finds the 1-based line and column of a location in a parsed document."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def at(self, loc: Loc, *, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of the value at ``loc`` (of its key when ``key`` is true).

        Parts of ``loc`` that do not exist in the document (a missing field) stop the walk:
        the position returned is then that of the deepest node that does exist.
        """
        node = self.root
        pos = _start_of(node)
        for i, part in enumerate(loc):
            last = i == len(loc) - 1
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part) if (key and last) else node.lc.value(part)
                pos = (line + 1, col + 1)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, col = node.lc.item(part)
                pos = (line + 1, col + 1)
                node = node[part]
            else:
                break
        return pos

    def get(self, loc: Loc) -> Any:
        """The raw value at ``loc``, or ``None``."""
        node = self.root
        for part in loc:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def _start_of(node: Any) -> tuple[int | None, int | None]:
    lc = getattr(node, "lc", None)
    if lc is not None and getattr(lc, "line", None) is not None:
        return lc.line + 1, lc.col + 1
    return None, None


def did_you_mean(value: object, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a near match exists, else an empty string."""
    if not isinstance(value, str):
        return ""
    match = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def quoted_list(values: Iterable[str], limit: int = 8) -> str:
    """``'a', 'b', 'c'`` with at most ``limit`` items and a count of the rest."""
    items = sorted(set(values))
    if not items:
        return "(none)"
    shown = ", ".join(repr(v) for v in items[:limit])
    rest = len(items) - limit
    return shown + (f" and {rest} more" if rest > 0 else "")


def clipped_repr(value: object, limit: int = 120) -> str:
    """``repr(value)``, cut to ``limit`` characters with a count of the rest (no file content
    floods a message)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def to_plain(node: Any) -> Any:
    """A ruamel round-trip tree as plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {to_plain(k) if not isinstance(k, str) else k: to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    for scalar in (bool, int, float, str):  # ruamel's ScalarFloat etc. become the builtins
        if isinstance(node, scalar):
            return scalar(node)
    return node
