"""Hostile documents: each ends in exit 2 with a located message, within a CPU and memory cap.

Every case runs ``georesil validate FILE`` (or ``georesil drill plan RUNBOOK``) in its own
subprocess under ``resource.setrlimit`` (512 MiB of address space, 20 s of CPU), so a parser
that blew up would die of the cap, not pass. The subprocesses of the whole corpus are started
together by one module fixture and the cases read their results, which keeps the file fast.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import re
import resource
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from georesil.errors import InvalidTopology
from georesil.model import parse_topology
from tests.conftest import BASE

ADDRESS_SPACE = 512 * 1024 * 1024
CPU_S = 20
RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
LOCATED = re.compile(r":\d+:\d+: ")


@dataclass(frozen=True)
class Case:
    """A hostile input: the command to run on it and what its message must say."""

    name: str
    args: list[str]
    says: tuple[str, ...]
    located: bool = True
    env: dict[str, str] | None = None
    secret: str | None = None
    codes: tuple[int, ...] = (2,)


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S))


def _run(case: Case, cwd: Path) -> Outcome:
    env = {**os.environ, **(case.env or {})}
    proc = subprocess.run([sys.executable, "-m", "georesil", *case.args], cwd=cwd, env=env,
                          preexec_fn=_limit, capture_output=True, text=True, timeout=120,
                          check=False)
    return Outcome(proc.returncode, proc.stdout + proc.stderr)


# -- the corpus ------------------------------------------------------------------------------
def _yaml(data: Any) -> str:
    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def _laughs(depth: int) -> str:
    """The classic 'billion laughs': each level repeats the one below nine times."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


def _with(changes: dict[tuple[Any, ...], Any]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return doc


#: One numeric field of each kind (non-negative, positive, probability, bounded, integer) set
#: to a non-finite YAML literal; each must come back as its own located problem.
NON_FINITE_YAML = {
    ("services", 1, "replicas", 1, "lag_s"): ".inf",
    ("links", 0, "length_km"): ".nan",
    ("services", 0, "rto_s"): "-.inf",
    ("zones", 0, "annual_rate"): ".Inf",
    ("sites", 0, "location", "lat"): ".NaN",
    ("sites", 0, "capacity", "gpus"): ".inf",
    ("sites", 1, "vs30_m_s"): ".INF",
}
NON_FINITE_JSON = {
    ("services", 1, "replicas", 1, "lag_s"): "Infinity",
    ("services", 0, "rpo_s"): "NaN",
    ("links", 0, "length_km"): "-Infinity",
}


def _field(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _non_finite(literals: dict[tuple[Any, ...], str], as_json: bool) -> str:
    marks = {path: f"@@{i}@@" for i, path in enumerate(literals)}
    text = json.dumps(_with(marks), indent=1) if as_json else _yaml(_with(marks))
    for path, mark in marks.items():
        for quoted in (f"'{mark}'", f'"{mark}"', mark):
            text = text.replace(quoted, literals[path])
    return text


def _files() -> Iterator[tuple[str, str | bytes, tuple[str, ...]]]:
    """(file name, content, words the message must contain) for `georesil validate`."""
    for depth in (3, 6, 9):
        yield f"laughs-{depth}.yaml", _laughs(depth), ("unknown key",) if depth == 3 else (
            "aliases expand",)
    yield "cycle.yaml", "version: 1\nname: &n [*n]\n", ("a cycle",)
    yield "deep-flow.yaml", "[" * 10_000 + "]" * 10_000, ("nested deeper",)
    yield "deep-block.yaml", "- " * 10_000 + "x\n", ("nested deeper",)
    yield "deep-map.yaml", "".join(" " * i + "a:\n" for i in range(2_000)), ("nested deeper",)
    yield "deep-json.json", '{"description": ' + "[" * 10_000 + "]" * 10_000 + "}", (
        "nested deeper",)
    yield "huge-name.yaml", _yaml(_with({("name",): "x" * 200_000})), ("more characters",)
    finite = "input should be a finite number"
    yield "non-finite.yaml", _non_finite(NON_FINITE_YAML, as_json=False), tuple(
        f"{_field(p)}: {finite}" for p in NON_FINITE_YAML)
    yield "non-finite.json", _non_finite(NON_FINITE_JSON, as_json=True), tuple(
        f"{_field(p)}: {finite}" for p in NON_FINITE_JSON)
    rng = random.Random(17)
    yield "garbage.bin", bytes(rng.randrange(256) for _ in range(4096)), ("not UTF-8",)
    yield "garbage.txt", "".join(chr(rng.choice([7, 9, 27, 127, 0x2028, 0x85]))
                                 for _ in range(256)), ("not valid YAML",)
    for i in range(4):
        yield f"mutant-{i}.yaml", _mutate(_yaml(BASE), random.Random(i)), ()


_NOISE = ["&a ", "*a", "!!binary ", "[", "{", "- ", ": ", "<<: ", "? ", "|", ">", "'", '"',
          "\t", "%YAML 1.1\n", "---\n", "*b", "&b [*a, *a]"]


def _mutate(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(3, 12)):
        at = rng.randrange(len(chars))
        action = rng.random()
        if action < 0.4:
            chars[at:at] = list(rng.choice(_NOISE))
        elif action < 0.7:
            del chars[at:at + rng.randint(1, 20)]
        else:
            chars[at] = chr(rng.randrange(32, 0x3000))
    return "".join(chars)


def _cases(tmp: Path) -> list[Case]:
    cases = []
    for name, content, says in _files():
        target = tmp / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        mutant = name.startswith("mutant")
        cases.append(Case(name, ["validate", str(target)], says, located=not mutant,
                          codes=(0, 2) if mutant else (2,)))
    big = tmp / "too-big.yaml"
    big.write_text(_yaml(BASE) + "# " + "x" * (17 * 1024 * 1024) + "\n", encoding="utf-8")
    cases.append(Case("too-big", ["validate", str(big)], ("larger than the topology limit",),
                      located=False))
    cases.append(Case("limit-by-env", ["validate", str(tmp / "laughs-3.yaml")],
                      ("GEORESIL_MAX_TOPOLOGY_BYTES",), located=False,
                      env={"GEORESIL_MAX_TOPOLOGY_BYTES": "100"}))
    fifo = tmp / "fifo.yaml"
    os.mkfifo(fifo)
    cases += [
        Case("dev-zero", ["validate", "/dev/zero"], ("character device",), located=False),
        Case("fifo", ["validate", str(fifo)], ("a FIFO",), located=False),
        Case("directory", ["validate", str(tmp)], ("a directory",), located=False),
    ]
    cases += _runbook_cases(tmp)
    return cases


def _runbook_cases(tmp: Path) -> list[Case]:
    source = (RUNBOOKS / "dns-failover.yaml").read_text(encoding="utf-8")
    secret = "hunter2-not-for-your-eyes"
    (tmp / "secret.txt").write_text(f"root:$6${secret}:19000:0:99999:7:::\n", encoding="utf-8")
    books = {
        "runbook-dev-zero": (f"topology: /dev/zero\n{source}", "cannot load topology"),
        "runbook-secret": (f"topology: secret.txt\n{source}", "cannot load topology"),
        "runbook-laughs": (source + "\n" + _laughs(9).replace("a0:", "x-a0:"), "aliases"),
        "runbook-deep": (source.replace("args: {site: $to}", "args: {site: "
                                        + "[" * 5_000 + "]" * 5_000 + "}", 1), "nested deeper"),
    }
    cases = []
    for name, (text, says) in books.items():
        (tmp / f"{name}.yaml").write_text(text, encoding="utf-8")
        cases.append(Case(name, ["drill", "plan", f"{name}.yaml"], (says,), secret=secret))
    return cases


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Outcome]]:
    tmp = tmp_path_factory.mktemp("hostile")
    cases = _cases(tmp)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: _run(c, tmp), cases))
    return {c.name: (c, r) for c, r in zip(cases, results, strict=True)}


NAMES = [name for name, _, _ in _files()] + [
    "too-big", "limit-by-env", "dev-zero", "fifo", "directory",
    "runbook-dev-zero", "runbook-secret", "runbook-laughs", "runbook-deep"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_hostile_input_is_refused_with_a_located_message(
        name: str, outcomes: dict[str, tuple[Case, Outcome]]) -> None:
    """Each hostile input exits 2 within the caps, saying what and (where one exists) where."""
    case, result = outcomes[name]
    assert result.code in case.codes, result.out[-2000:]
    assert "Traceback" not in result.out and "internal error" not in result.out
    for words in case.says:
        assert words in result.out, result.out[-2000:]
    if case.located:
        assert LOCATED.search(result.out), result.out[-2000:]
    if case.secret is not None:
        assert case.secret not in result.out
    assert len(result.out) < 20_000  # no file content flooding the terminal


def test_the_corpus_names_every_case(outcomes: dict[str, tuple[Case, Outcome]]) -> None:
    """The parametrised names and the generated corpus are the same set."""
    assert set(NAMES) == set(outcomes)


# -- random mutations in process (the same code path, many more documents) --------------------
@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    seed = draw(st.integers(0, 2**32 - 1))
    return _mutate(_yaml(BASE), random.Random(seed))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_texts())
def test_mutated_documents_raise_nothing_but_invalid_topology(text: str) -> None:
    """A mutated topology either loads or raises InvalidTopology with its problems listed."""
    try:
        topology = parse_topology(text, "mutant.yaml")
    except InvalidTopology as exc:
        assert exc.problems
    else:
        assert topology.sites


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12), st.sampled_from(["[", "{a: ", "{\"a\": "]))
def test_any_nesting_past_the_limit_is_located(depth_hundreds: int, opener: str) -> None:
    """Nesting from 200 to 1,200 levels, in any flow style, is a located error, not a crash."""
    depth = depth_hundreds * 100
    closer = {"[": "]", "{a: ": "}", "{\"a\": ": "}"}[opener]
    text = "description: " + opener * depth + "x" + closer * depth + "\n"
    with pytest.raises(InvalidTopology) as info:
        parse_topology(text, "deep.yaml")
    problem = info.value.problems[0]
    assert "nested deeper" in problem.message and problem.line is not None
