"""Report fixtures: the bundled topology with hand-made producer JSON, rendered once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from georesil.model import Topology, load_topology

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"
WHEN = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def taiwan() -> Topology:
    return load_topology()


@pytest.fixture(scope="session")
def inputs() -> dict[str, Any]:
    """The four producer outputs as the report reads them."""
    return {"analysis_json": fixture_json("analysis"), "simulate_json": fixture_json("simulate"),
            "years_json": fixture_json("years"), "drills_json": fixture_json("drills")}


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory: pytest.TempPathFactory, taiwan: Topology,
               inputs: dict[str, Any]) -> Path:
    """A full report (HTML, Markdown, JSON) written from the fixtures."""
    from georesil.report.build import ReportInputs, write_report

    out = tmp_path_factory.mktemp("report") / "out"
    write_report(taiwan, ReportInputs(inputs["analysis_json"], inputs["simulate_json"],
                                      inputs["years_json"], inputs["drills_json"]), out)
    return out


@pytest.fixture(scope="session")
def bare_report_dir(tmp_path_factory: pytest.TempPathFactory, taiwan: Topology) -> Path:
    """A report with no producer output at all: every section must degrade in words."""
    from georesil.report.build import ReportInputs, write_report

    out = tmp_path_factory.mktemp("bare") / "out"
    write_report(taiwan, ReportInputs(None, None, None, None), out)
    return out
