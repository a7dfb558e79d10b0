"""Render an imported topology as commented YAML.

The file starts with a comment that says where it came from, how ids, regions, lengths and
failure data were made, and what is left to fill in; elements the importer had to guess about
carry an end-of-line comment. Locations are written in flow style (``{lat: …, lon: …}``) so a
site stays a few lines.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from georesil.inventory.convert import ImportResult

__all__ = ["header_lines", "render_yaml"]

_WIDTH = 96


def header_lines(result: ImportResult) -> list[str]:
    """The comment at the top of the written file, one line per entry (without ``#``)."""
    s = result.summary
    lines = [f"{result.doc.description or 'Imported'} by `georesil import`.",
             "Review this file: much of it is inferred. Check it with `georesil validate`.", ""]
    lines += _bullets("Inferred:", s.inferred())
    lines += [""] + _bullets("Still to fill in:", s.to_fill_in())
    if s.warnings:
        lines += [""] + _bullets(f"Warnings ({len(s.warnings)}):", list(s.warnings[:20]))
        if len(s.warnings) > 20:
            lines.append(f"  … and {len(s.warnings) - 20} more (printed by georesil import)")
    return lines


def _bullets(title: str, items: list[str]) -> list[str]:
    out = [title]
    for item in items:
        out += textwrap.wrap(item, _WIDTH - 6, initial_indent="  - ", subsequent_indent="    ",
                             break_on_hyphens=False)
    return out


def render_yaml(result: ImportResult) -> str:
    """The topology as YAML text, with the header comment and per-element notes."""
    data = result.doc.model_dump(mode="json", exclude_defaults=True)
    data = {"version": 1, **data}
    for section in ("sites", "links"):
        data[section] = [_ordered(item) for item in data.get(section, [])]
    root = _commented(data)
    for section, kind in (("sites", "site"), ("links", "link")):
        for item in root.get(section, []):
            note = result.notes.get(f"{kind}:{item['id']}")
            if note:
                item.yaml_add_eol_comment(note, "id")
    root.yaml_set_start_comment("\n".join(header_lines(result)))
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    yaml.dump(root, buf)
    text = buf.getvalue()
    return text if text.endswith("\n") else text + "\n"


_FIRST = ("id", "name", "a", "b", "kind", "region", "location", "length_km")


def _ordered(record: dict[str, Any]) -> dict[str, Any]:
    """Identity and place first, failure data after (pydantic dumps base-class fields first)."""
    head = {k: record[k] for k in _FIRST if k in record}
    return head | {k: v for k, v in record.items() if k not in head}


def _commented(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        out = CommentedMap((k, _commented(v, k)) for k, v in value.items())
        if key in ("location", "capacity"):
            out.fa.set_flow_style()
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_commented(v) for v in value)
        if key in ("srlg", "zones", "tags"):
            seq.fa.set_flow_style()
        return seq
    return value
