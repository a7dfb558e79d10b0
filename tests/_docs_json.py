"""The JSON examples in docs/ against real output: same keys, same kinds of values."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"


def examples(doc: str) -> list[Any]:
    """Every ```json block of ``docs/<doc>``, parsed."""
    text = (DOCS / doc).read_text(encoding="utf-8")
    return [json.loads(m.group(1)) for m in re.finditer(r"```json\n(.*?)```", text, flags=re.S)]


def fits(doc: Any, real: Any, where: str = "$") -> list[str]:
    """Where ``doc`` (an example, maybe abridged) does not have the shape of ``real``.

    A record (a dict whose keys all occur in the real dict) must have exactly the real keys; a
    dict keyed by ids (service or site names) is compared value by value with the real entry of
    the same id, or any real entry; lists compare their first elements; numbers are numbers,
    and ``null`` fits anything (a value not measured in one run may be in another).
    """
    if doc is None or real is None:
        return []
    if isinstance(doc, dict):
        if not isinstance(real, dict):
            return [f"{where}: an object in the docs, {type(real).__name__} in the output"]
        if not real or not doc:
            return []
        if set(doc) <= set(real) and not _keyed_by_id(real):
            problems = [f"{where}: the output also has {sorted(set(real) - set(doc))}"] \
                if set(real) - set(doc) else []
            return problems + [p for k in doc for p in fits(doc[k], real[k], f"{where}.{k}")]
        sample = next(iter(real.values()))
        return [p for k, v in doc.items() for p in fits(v, real.get(k, sample), f"{where}[{k}]")]
    if isinstance(doc, list):
        if not isinstance(real, list):
            return [f"{where}: a list in the docs, {type(real).__name__} in the output"]
        return fits(doc[0], real[0], f"{where}[0]") if doc and real else []
    numbers: tuple[type, ...] = (int, float)
    if isinstance(doc, bool) or isinstance(real, bool):
        ok = isinstance(doc, bool) and isinstance(real, bool)
    elif isinstance(doc, numbers):
        ok = isinstance(real, numbers)
    else:
        ok = type(doc) is type(real)
    return [] if ok else [f"{where}: {type(doc).__name__} in the docs, "
                          f"{type(real).__name__} in the output"]


def _keyed_by_id(real: dict[str, Any]) -> bool:
    """A map of ids to like records (services, sites, ...) rather than a record of fields."""
    values = list(real.values())
    return len(values) >= 2 and all(isinstance(v, dict) for v in values) and \
        len({frozenset(v) for v in values}) == 1
