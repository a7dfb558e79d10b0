"""The bounded reader (georesil._read): its limits, and its YAML against ruamel's round trip."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from georesil._read import (
    ALIAS_BUDGET,
    MAX_DEPTH,
    TOPOLOGY,
    InputKind,
    parse_json,
    parse_yaml,
    read_text,
)
from georesil.drills.journal import Journal
from georesil.errors import InputRefused, InvalidInput, InvalidTopology
from georesil.lab.state import load_state
from georesil.model import load_topology, parse_topology
from georesil.model._positions import to_plain
from georesil.model.loader import default_topology_path, topology_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _reference(text: str) -> Any:
    """What the round-trip loader makes of a text, as plain data (the reference)."""
    return to_plain(YAML(typ="rt").load(text))


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, and of the same types (1 is not True, 1.0 is not 1)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# -- YAML against the reference ---------------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.text(alphabet="0123456789_.+-eEoxbinfaNItTrRuUlLsS~:<=! ", max_size=8),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6) | st.integers(-5, 5), inner, max_size=4),
    max_leaves=15,
)


def _dump(data: Any, flow: bool | None) -> str:
    yaml = YAML()
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


@SETTINGS
@given(documents, st.sampled_from([None, True, False]))
def test_yaml_reads_as_the_round_trip_loader_does(data: Any, flow: bool | None) -> None:
    """Whenever the fast reader says it is exact, its data equal the round-trip loader's."""
    text = _dump(data, flow)
    parsed = parse_yaml(text, "doc.yaml")
    if parsed.exact:
        assert _same(parsed.data, _reference(text)), text


@SETTINGS
@given(st.text(alphabet="0123456789_.+-eEoxXbBinfaNItTrRuUlLsS~:<= ", min_size=0, max_size=10))
def test_plain_scalars_resolve_as_the_round_trip_loader_does(scalar: str) -> None:
    """A plain scalar (number, bool, null or string) resolves to the reference's value."""
    text = f"v: {scalar}\n"
    try:
        expected = _reference(text)
    except (YAMLError, ValueError, IndexError):
        assume(False)
    parsed = parse_yaml(text, "doc.yaml")
    if parsed.exact:
        assert _same(parsed.data, expected), text


@pytest.mark.parametrize("text", [
    "a: &x true\nb: *x\n", "a: !!str 3\n", "%YAML 1.1\n---\na: yes\n", "? [k]\n: v\n",
    "a: 1\na: 2\n", "base: &b {x: 1}\nder: {<<: *b, y: 2}\n", "a: 2001-12-14\n", "a: [b\n",
    "--- 1\n--- 2\n",
])
def test_what_only_the_round_trip_loader_reads_is_handed_to_it(text: str) -> None:
    """Anchored scalars, tags, directives, complex or duplicate keys, merges, dates, errors."""
    assert not parse_yaml(text, "doc.yaml").exact


def test_aliases_of_collections_are_read_exactly() -> None:
    """An alias repeats its anchored list or mapping, as the round-trip loader's copy does."""
    text = "a: &x [1, {b: 2}]\nc: *x\n"
    parsed = parse_yaml(text, "doc.yaml")
    assert parsed.exact and _same(parsed.data, _reference(text))


def test_libyaml_reads_colons_in_flow_lists() -> None:
    """`fail: [site:a]` (YAML 1.2) is read by the fast reader, not handed over as an error."""
    parsed = parse_yaml("fail: [site:a, zone:b]\n", "doc.yaml")
    assert parsed.exact and parsed.data == {"fail": ["site:a", "zone:b"]}


def test_valid_topologies_read_the_same_by_both_paths() -> None:
    """The bundled and example topologies give one model whichever path reads them."""
    paths = [default_topology_path(), *sorted(EXAMPLES.glob("*.yaml"))]
    assert len(paths) > 1
    for path in paths:
        text = path.read_text(encoding="utf-8")
        parsed = parse_yaml(text, str(path))
        assert parsed.exact, path
        assert _same(parsed.data, _reference(text)), path
        assert load_topology(path).to_dict() == topology_from_dict(_reference(text)).to_dict()


def test_json_topology_reads_as_its_yaml_twin() -> None:
    """A topology written as JSON loads to the same model as the YAML it came from."""
    path = default_topology_path()
    doc = _reference(path.read_text(encoding="utf-8"))
    from_json = parse_topology(json.dumps(doc, indent=1), "taiwan.json")
    assert from_json.to_dict() == load_topology(path).to_dict()


# -- limits ----------------------------------------------------------------------------------
def test_alias_budget_is_exact() -> None:
    """Aliases may add exactly ALIAS_BUDGET nodes; one more is refused at that alias."""
    def text(items: int) -> str:
        return f"a: &x [{', '.join(['0'] * items)}]\nb: *x\n"

    within = parse_yaml(text(ALIAS_BUDGET - 1), "ok.yaml")  # the list and its items: the budget
    assert len(within.data["b"]) == ALIAS_BUDGET - 1
    with pytest.raises(InputRefused) as info:
        parse_yaml(text(ALIAS_BUDGET), "over.yaml")
    assert (info.value.problem.line, info.value.problem.column) == (2, 4)
    assert info.value.limit == "aliases"


def test_depth_limit_is_exact() -> None:
    """MAX_DEPTH levels of nesting are read; one more is refused where it opens."""
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH).exact
    with pytest.raises(InputRefused) as info:
        parse_yaml("x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "deep.yaml")
    assert (info.value.problem.line, info.value.problem.column) == (1, 3 + MAX_DEPTH)


def test_json_depth_and_non_finite_are_located() -> None:
    """parse_json names the line and column of the bracket too deep and of a bare NaN."""
    deep = '{"a": "[[[",\n "b": ' + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "}"
    with pytest.raises(InputRefused) as info:
        parse_json(deep, "deep.json")
    assert (info.value.problem.line, info.value.problem.column) == (2, 7 + MAX_DEPTH - 1)
    with pytest.raises(InputRefused) as info:
        parse_json('{"s": "NaN",\n "x": NaN}', "nan.json", line=40)
    assert (info.value.problem.line, info.value.problem.column) == (41, 7)
    assert parse_json('{"x": [1.5, "Infinity"]}') == {"x": [1.5, "Infinity"]}


def test_size_limit_and_its_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over the limit is refused, naming the variable that raises it; the variable works."""
    kind = InputKind("sample", 10, "GEORESIL_TEST_MAX_BYTES")
    path = tmp_path / "f.yaml"
    path.write_text("a: 123456789\n", encoding="utf-8")
    with pytest.raises(InputRefused) as info:
        read_text(path, kind)
    assert "GEORESIL_TEST_MAX_BYTES" in str(info.value) and info.value.limit == "size"
    monkeypatch.setenv("GEORESIL_TEST_MAX_BYTES", "100")
    assert read_text(path, kind) == "a: 123456789\n"
    monkeypatch.setenv("GEORESIL_TEST_MAX_BYTES", "lots")
    with pytest.raises(InputRefused, match="positive number of bytes"):
        read_text(path, kind)


@pytest.mark.parametrize("kind", ["dir", "fifo", "chardev"])
def test_only_regular_files_are_read(tmp_path: Path, kind: str) -> None:
    """A directory, a FIFO (never waited on) and /dev/zero are refused by what they are."""
    target = {"dir": tmp_path, "fifo": tmp_path / "p", "chardev": Path("/dev/zero")}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    with pytest.raises(InputRefused) as info:
        read_text(target, TOPOLOGY)
    assert info.value.limit == "file-kind" and "not a regular file" in str(info.value)


def test_encoding_error_is_located(tmp_path: Path) -> None:
    """A byte that is not UTF-8 is named with its line and column (in characters)."""
    path = tmp_path / "t.yaml"
    path.write_bytes(b"a: 1\nb: \xc3\xa9\xff\n")  # 'é' is one character, then a bad byte
    with pytest.raises(InputRefused) as info:
        read_text(path, TOPOLOGY)
    assert (info.value.problem.line, info.value.problem.column) == (2, 5)


def test_topology_limits_are_topology_problems(tmp_path: Path) -> None:
    """A limit crossed by a topology is an InvalidTopology problem with its location."""
    path = tmp_path / "t.yaml"
    path.write_text("version: 1\nname: " + "[" * 100 + "]" * 100 + "\n", encoding="utf-8")
    with pytest.raises(InvalidTopology) as info:
        load_topology(path)
    assert str(info.value.problems[0]).startswith(f"{path}:2:{6 + MAX_DEPTH}: nested deeper")


def test_journal_line_with_non_finite_number_is_refused(tmp_path: Path) -> None:
    """A journal line with NaN is refused at its line, not read as a number."""
    path = tmp_path / "j.jsonl"
    path.write_text('{"event": "drill.started", "run_id": "r"}\n{"event": "x", "v": NaN}\n'
                    '{"event": "y"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        Journal.load(path)
    assert isinstance(info.value, InputRefused)
    assert (info.value.problem.line, info.value.problem.column) == (2, 21)


def test_journal_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    """A journal line that is JSON but not an object is named by its line, not a crash."""
    path = tmp_path / "j.jsonl"
    path.write_text('{"event": "drill.started", "run_id": "r"}\n[1, 2]\n{"event": "y"}\n',
                    encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"j\.jsonl:2: not a journal line"):
        Journal.load(path)


@pytest.mark.parametrize("content", ["[]", '"x"', "[" * 200 + "]" * 200])
def test_lab_state_that_is_not_an_object_is_bad_input(tmp_path: Path, content: str) -> None:
    """A lab state file that is a list, a string or too deep is bad input (exit 2), not a crash."""
    state = tmp_path / ".georesil" / "lab" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as info:
        load_state(tmp_path)
    assert info.value.exit_code == 2 and str(state) in str(info.value)
