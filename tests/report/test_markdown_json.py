"""The Markdown and JSON reports: figures beside the text, every number and the inputs embedded."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from georesil.report import ReportInputs
from georesil.report.data import SECTIONS
from georesil.report.method import MODEL_NAMES


def _plain(doc: Any) -> Any:
    """``doc`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(doc, allow_nan=False))


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


def test_json_parses_and_embeds_the_analysis(report_dir: Path, inputs: ReportInputs) -> None:
    """report.json is valid JSON carrying the analysis and simulation output unchanged."""
    doc = json.loads((report_dir / "report.json").read_text("utf-8"))
    assert inputs.analysis is not None and inputs.snapshot is not None
    assert doc["inputs"]["analysis"] == _plain(inputs.analysis.to_json())
    assert doc["inputs"]["simulate"] == _plain(inputs.snapshot.to_json())
    assert doc["inputs"]["drills"] == [d.to_json() for d in inputs.drills or ()]


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
    assert set(doc["missing"]) == {"analysis", "simulate", "years", "drills", "readiness"}
    assert doc["inputs"] == {"analysis": None, "simulate": None, "years": None, "drills": None}


def test_report_names_the_hazard_models_docs_use(report_dir: Path) -> None:
    """The method section names each hazard model as docs/hazards.md does (no point source)."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "hazards.md").read_text("utf-8")
    html = unescape((report_dir / "report.html").read_text("utf-8"))
    text = (report_dir / "report.md").read_text("utf-8")
    for name in MODEL_NAMES:
        assert name in docs, f"docs/hazards.md does not name {name!r}"
        assert name in html and name in text, name
    assert "point source" not in html and "point source" not in text


def test_markdown_carries_no_html_from_the_topology(tmp_path: Path, taiwan: Any) -> None:
    """HTML in the topology's text (description, names) is written as text, never markup."""
    from georesil.app import report_inputs
    from georesil.model import topology_from_dict
    from georesil.report import write_report

    doc = taiwan.doc.model_dump(mode="json", exclude_none=True)
    doc["description"] = ('evil<script>alert("d")</script> see <img src=x onerror=alert(1)> '
                          'and <!-- hidden --> <a href="x">')
    for site in doc["sites"]:
        site["name"] = f"<b>{site['id']}</b>"
    hostile = topology_from_dict(doc)
    write_report(report_inputs(hostile, None, None, None, None), tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert re.search(r"<[A-Za-z!/]", text) is None
    assert "evil&lt;script>alert" in text and "&lt;img src=x onerror=alert(1)>" in text
