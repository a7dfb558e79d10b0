"""Fuzzing the loader: random and mutated documents raise nothing but InvalidTopology."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from georesil.errors import InvalidTopology
from georesil.model import parse_topology, topology_from_dict
from tests.conftest import BASE

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["north", "site:north", "srlg:west", "zone:grid-n", "w1", "dns", "primary",
                     "async", "sync", "power", "terrestrial", "object-storage", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8) | st.sampled_from(["id", "site", "role", "a", "b"]),
                      inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(values)
        elif isinstance(parent, list):
            parent.append(draw(values))
    return doc


def _as_yaml(doc: Any) -> str:
    buf = io.StringIO()
    YAML(typ="safe", pure=True).dump(doc, buf)
    return buf.getvalue()


def _accepts_or_rejects_cleanly(text: str) -> None:
    try:
        parse_topology(text, "fuzz.yaml")
    except InvalidTopology as exc:
        assert exc.problems, "an InvalidTopology always lists its problems"
        for problem in exc.problems:
            assert problem.path == "fuzz.yaml"
            assert problem.message


@SETTINGS
@given(mutated_documents())
def test_mutated_documents_fail_cleanly(doc: Any) -> None:
    """A valid document with random changes loads or raises InvalidTopology."""
    _accepts_or_rejects_cleanly(_as_yaml(doc))


@SETTINGS
@given(mutated_documents())
def test_mutated_python_documents_fail_cleanly(doc: Any) -> None:
    """The same holds for documents given as Python data."""
    try:
        topology_from_dict(doc)
    except InvalidTopology as exc:
        assert exc.problems


@SETTINGS
@given(values)
def test_random_documents_fail_cleanly(doc: Any) -> None:
    """Arbitrary YAML and JSON values never crash the loader."""
    _accepts_or_rejects_cleanly(_as_yaml(doc))
    _accepts_or_rejects_cleanly(json.dumps(doc))


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_fails_cleanly(text: str) -> None:
    """Arbitrary text, mostly not YAML at all, never crashes the loader."""
    _accepts_or_rejects_cleanly(text)
