"""The Markdown and JSON reports: figures beside the text, every number and the inputs embedded."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from georesil.report.data import SECTIONS


def test_markdown_figures_exist(report_dir: Path) -> None:
    """Every figure the Markdown refers to is a file beside it."""
    text = (report_dir / "report.md").read_text("utf-8")
    refs = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(refs) >= 6
    missing = [r for r in refs if not (report_dir / r).is_file()]
    assert missing == []


def test_markdown_has_every_section(report_dir: Path) -> None:
    """The Markdown carries the same sections, in order, as the HTML."""
    text = (report_dir / "report.md").read_text("utf-8")
    heads = re.findall(r"^## \d+\. (.+)$", text, re.M)
    assert heads == [title for _, title in SECTIONS]


def test_markdown_summary_states_likelihood_impact_fix(report_dir: Path) -> None:
    """Each summary risk in the Markdown states its likelihood, impact and fix."""
    text = (report_dir / "report.md").read_text("utf-8")
    summary = text.split("## 2.")[0]
    risks = summary.count("\n### ")
    assert risks >= 1
    for key in ("**Likelihood:**", "**Impact:**", "**Fix:**"):
        assert summary.count(key) == risks


def test_json_parses_and_embeds_the_analysis(report_dir: Path, inputs: dict[str, Any]) -> None:
    """report.json is valid JSON carrying the analysis and simulation output unchanged."""
    doc = json.loads((report_dir / "report.json").read_text("utf-8"))
    assert doc["inputs"]["analysis"] == inputs["analysis_json"]
    assert doc["inputs"]["simulate"] == inputs["simulate_json"]
    assert doc["inputs"]["drills"] == inputs["drills_json"]


def test_json_carries_the_ranked_risks(report_dir: Path) -> None:
    """The JSON lists the summary's risks with likelihood, impact, score and fixes."""
    doc = json.loads((report_dir / "report.json").read_text("utf-8"))
    risk = doc["risks"][0]
    assert {"likelihood_per_year", "impact", "score", "fixes"} <= set(risk)
    assert risk["fixes"][0]["text"]
    assert doc["sections"] == [sid for sid, _ in SECTIONS]


def test_json_with_no_inputs_says_what_is_missing(bare_report_dir: Path) -> None:
    """The bare report's JSON names every missing input and embeds nulls."""
    doc = json.loads((bare_report_dir / "report.json").read_text("utf-8"))
    assert set(doc["missing"]) == {"analysis", "simulate", "years", "drills"}
    assert doc["inputs"] == {"analysis": None, "simulate": None, "years": None, "drills": None}
