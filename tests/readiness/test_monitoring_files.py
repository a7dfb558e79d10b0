"""The shipped alerting rules and Grafana dashboard refer only to metrics georesil exports,
and every expression parses as PromQL (promql-parser: a port of Prometheus' own parser)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
from ruamel.yaml import YAML

from georesil.readiness.metrics import METRIC_NAMES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring"
RULE_KEYS = {"alert", "expr", "for", "labels", "annotations"}


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression selects (raises ValueError when it does not parse)."""
    return set(_walk(promql_parser.parse(expr)))


def _walk(node: Any) -> Iterator[str]:
    if type(node).__name__ in ("VectorSelector", "MatrixSelector"):
        selector = getattr(node, "vector_selector", node)
        if selector.name:
            yield selector.name
        return
    for attr in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            yield from _walk(child)
    for arg in getattr(node, "args", None) or ():
        yield from _walk(arg)


def _rules() -> list[dict[str, Any]]:
    doc = YAML(typ="safe").load((DOCS / "prometheus-rules.yml").read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_walker_finds_metrics_and_rejects_garbage() -> None:
    assert metric_names("a > on(service) group_left b") == {"a", "b"}
    assert metric_names("sum by (k) (rate(c[5m])) / time()") == {"c"}
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (")


def test_alerting_rules_parse_and_use_exported_metrics() -> None:
    rules = _rules()
    assert len(rules) >= 5
    for rule in rules:
        assert set(rule) <= RULE_KEYS and {"alert", "expr"} <= set(rule), rule
        names = metric_names(rule["expr"])
        assert names and names <= set(METRIC_NAMES), (rule["alert"], names - set(METRIC_NAMES))
        assert rule["labels"]["severity"] in {"page", "ticket"}


def test_dashboard_panels_query_exported_metrics() -> None:
    dash = json.loads((DOCS / "grafana-dashboard.json").read_text(encoding="utf-8"))
    assert dash["uid"] and dash["title"] and dash["panels"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    used: set[str] = set()
    for panel in dash["panels"]:
        assert {"id", "type", "title", "gridPos", "targets"} <= set(panel), panel.get("title")
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        assert panel["gridPos"]["x"] >= 0 and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names <= set(METRIC_NAMES), (panel["title"], names - set(METRIC_NAMES))
            used |= names
    # The dashboard shows every exported metric.
    assert used == set(METRIC_NAMES)


def test_readiness_doc_lists_every_check_and_metric() -> None:
    import re

    from georesil.readiness import REGISTRY

    text = (DOCS.parent / "readiness.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", text, flags=re.M))
    assert rows == set(REGISTRY)
    metrics = set(re.findall(r"^\| `(georesil_[a-z_]+)` \|", text, flags=re.M))
    assert metrics == set(METRIC_NAMES)
    example = json.loads(re.search(r"```json\n(.*?)```", text, flags=re.S).group(1))  # type: ignore[union-attr]
    assert set(example) == {"topology", "started_at", "duration_s", "exit_code", "counts",
                            "checks", "drift"}
    assert set(example["checks"][0]) == {"check", "status", "service", "site", "evidence",
                                         "fix", "value"}
