"""The report's readiness section: the latest saved run, its non-ok rows and drift, the trend.

Runs are real :class:`ReadinessReport` objects saved with ``save_run`` into a temporary working
directory and read back by the app (conftest); nothing here writes readiness JSON by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from georesil.app import collect_inputs, readiness_evidence, report_inputs
from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.readiness import CheckStatus, ReadinessReport
from georesil.readiness.history import load_latest
from georesil.report import ReportInputs, write_report
from georesil.report.data import SECTIONS, build_report_data, drill_trend_note
from georesil.report.figures import render_figures
from georesil.report.html import render_html
from georesil.report.inputs import READINESS_STATUSES
from georesil.report.markdown import prose, render_markdown
from tests.report.conftest import (
    TRICKY_EVIDENCE,
    WHEN,
    fixture_drills,
    readiness_runs,
    save_readiness_runs,
)

Saved = tuple[Path, list[ReadinessReport]]
EMPTY_STATE = "No readiness run recorded: run `georesil readiness`"
#: CommonMark with GFM tables, as GitHub and GitLab render report.md.
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _section(text: str, sid: str) -> str:
    """The HTML of one ``<section id=...>``."""
    start = text.index(f'<section id="{sid}">')
    return text[start:text.index("</section>", start)]


def _md_section(text: str, sid: str) -> str:
    """The Markdown of one numbered section, up to the next one."""
    number = [key for key, _ in SECTIONS].index(sid) + 1
    start = text.index(f"\n## {number}. ")
    end = text.find(f"\n## {number + 1}. ", start)
    return text[start:end if end >= 0 else None]


def _not_ok(report: ReadinessReport) -> list[tuple[str, str, str, str | None, str]]:
    """(check, subject, evidence, fix, status) of every result that is not ok."""
    return [(r.check, r.subject, r.evidence, r.fix, r.status.value) for r in report.results
            if r.status is not CheckStatus.OK]


@pytest.fixture(scope="module")
def saved(saved_readiness: Saved) -> Saved:
    """The working directory and the runs saved in it (oldest first)."""
    return saved_readiness


@pytest.fixture(scope="module")
def html_text(report_dir: Path) -> str:
    return (report_dir / "report.html").read_text("utf-8")


@pytest.fixture(scope="module")
def md_text(report_dir: Path) -> str:
    return (report_dir / "report.md").read_text("utf-8")


def test_report_knows_the_statuses_readiness_has() -> None:
    """The report's copy of the readiness statuses is the readiness package's, in order."""
    assert tuple(s.value for s in CheckStatus) == READINESS_STATUSES


def test_section_sits_between_drills_and_method() -> None:
    """Readiness is the section after the drill evidence and before the method."""
    ids = [sid for sid, _ in SECTIONS]
    assert ids.index("readiness") == ids.index("drills") + 1 == ids.index("method") - 1


def test_html_shows_every_non_ok_row_of_the_latest_run(html_text: str, saved: Saved) -> None:
    """Every result of the latest saved run that is not ok is a row: check, subject,
    evidence and fix; no ok result is listed."""
    latest = saved[1][-1]
    section = html.unescape(re.sub(r"</?code>", "`", _section(html_text, "readiness")))
    rows = re.findall(r"<tr><td><span class=\"chip rd-(\w+)\">", section)
    expected = _not_ok(latest)
    assert len(rows) == len(expected) >= 4
    for check, subject, evidence, fix, _status in expected:
        assert f"`{check}`</td><td>{subject}</td>" in section
        assert evidence in section and (fix or "—") in section
    ok_checks = {r.check for r in latest.results if r.status is CheckStatus.OK}
    assert not any(f"`{check}`</td>" in section for check in ok_checks - {c[0] for c in expected})


def test_rows_are_worst_first(saved: Saved, inputs: ReportInputs) -> None:
    """Non-ok rows come fail, unreachable, warn, then skipped."""
    assert inputs.readiness is not None
    order = ["fail", "unreachable", "warn", "skipped"]
    statuses = [r.status for r in inputs.readiness.rows]
    assert statuses == sorted(statuses, key=order.index)
    assert sorted(statuses) == sorted(c[4] for c in _not_ok(saved[1][-1]))


def test_counts_and_drift_are_the_latest_runs(html_text: str, md_text: str,
                                              saved: Saved) -> None:
    """The counts per status and the drift shown are those of the latest run."""
    latest = saved[1][-1]
    section = _section(html_text, "readiness")
    chips = {s: int(n) for n, s in re.findall(r'class="chip rd-\w+(?: zero)?">(\d+) (\w+)<',
                                              section)}
    assert chips == latest.counts()
    md = _md_section(md_text, "readiness")
    assert f"| {' | '.join(map(str, latest.counts().values()))} |" in md
    for item in latest.drift:
        assert item.name in section and item.name in md
    assert f"Drift ({len(latest.drift)})" in section


def test_when_checked_and_how_long_before_the_report(html_text: str, md_text: str,
                                                     saved: Saved, report_dir: Path) -> None:
    """The section says when the latest run was and how long before the report's time."""
    latest = saved[1][-1]
    at = dt.datetime.fromtimestamp(latest.started_at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    hours = (WHEN.timestamp() - latest.started_at) / 3600
    said = f"Last checked {at} ({hours:g} h before this report)"
    assert said in _section(html_text, "readiness") and said in md_text
    doc = json.loads((report_dir / "report.json").read_text("utf-8"))
    assert doc["readiness"]["age_s"] == pytest.approx(hours * 3600)


def test_age_follows_the_generation_time(inputs: ReportInputs) -> None:
    """The age is counted from the report's own time stamp, also when the run came later."""
    assert inputs.readiness is not None
    started = inputs.readiness.latest.started_at
    for offset, words in ((3 * 86400, "3 d before this report"),
                          (-600, "10 min after this report's time stamp")):
        when = dt.datetime.fromtimestamp(started + offset, dt.UTC)
        data = build_report_data(inputs, generated_at=when)
        assert data.readiness_age_s == pytest.approx(offset)
        assert words in html.unescape(render_html(data, {}))


def test_trend_figure_draws_every_saved_run(html_text: str, report_dir: Path,
                                            saved: Saved) -> None:
    """The trend is an inline SVG in the HTML and a file beside the Markdown, over all runs."""
    assert 'id="fig-readiness-' in _section(html_text, "readiness")
    svg = (report_dir / "figures" / "readiness.svg").read_text("utf-8")
    assert f"{len(saved[1])} runs" in svg
    assert "](figures/readiness.svg)" in (report_dir / "report.md").read_text("utf-8")


def test_trend_figure_plots_the_fail_and_warn_counts(inputs: ReportInputs,
                                                     saved: Saved) -> None:
    """The fail and warn lines of the figure go through each run's counts, in order."""
    assert inputs.readiness is not None
    expected = {status: [r.counts()[status] for r in saved[1]] for status in ("fail", "warn")}
    drawn = {status: [r.counts[status] for r in inputs.readiness.runs]
             for status in ("fail", "warn")}
    assert drawn == expected and len(set(expected["fail"])) > 1
    figure = render_figures(build_report_data(inputs, generated_at=WHEN), inputs.topology)
    for status in ("fail", "warn", "results"):
        assert f">{status}<" in figure["readiness"].svg


def test_one_run_is_no_trend(tmp_path: Path, taiwan: Topology) -> None:
    """With a single saved run the counts are shown, and the trend is said to need a second."""
    save_readiness_runs(tmp_path, readiness_runs(taiwan.name, WHEN.timestamp() - 60, 1))
    inputs = report_inputs(taiwan, None, None, None, None,
                           readiness=readiness_evidence(taiwan, tmp_path))
    data = build_report_data(inputs, generated_at=WHEN)
    figures = render_figures(data, taiwan)
    assert "readiness" not in figures
    text, _ = render_markdown(data, figures)
    assert "Only 1 readiness run is saved: the trend appears from the second." in text
    assert EMPTY_STATE not in text


def test_empty_state_only_without_a_run(bare_report_dir: Path, html_text: str,
                                        md_text: str) -> None:
    """'No readiness run recorded' appears when no run was saved, and only then."""
    bare_html = _section((bare_report_dir / "report.html").read_text("utf-8"), "readiness")
    assert "No readiness run recorded: run <code>georesil readiness</code>" in bare_html
    assert EMPTY_STATE in (bare_report_dir / "report.md").read_text("utf-8")
    assert "No readiness run recorded" not in html_text
    assert EMPTY_STATE not in md_text


def test_no_saved_run_gives_no_evidence(tmp_path: Path, taiwan: Topology) -> None:
    """An empty working directory has no readiness evidence (None, not an empty record)."""
    assert readiness_evidence(taiwan, tmp_path) is None


def test_runs_of_another_topology_are_left_out(tmp_path: Path, taiwan: Topology) -> None:
    """Runs of another topology in the same directory are neither the latest nor the trend."""
    mine = readiness_runs(taiwan.name, WHEN.timestamp() - 7200, 3)
    other = readiness_runs("elsewhere", WHEN.timestamp() - 600, 2)
    save_readiness_runs(tmp_path, [mine[0], other[0], mine[1], mine[2], other[1]])
    assert load_latest(tmp_path) is not None  # the latest saved run is the other topology's
    evidence = readiness_evidence(taiwan, tmp_path)
    assert evidence is not None and evidence.topology == taiwan.name
    assert evidence.latest.started_at == mine[2].started_at
    assert [r.started_at for r in evidence.runs] == [r.started_at for r in mine]
    only_other = tmp_path / "other"
    save_readiness_runs(only_other, other)
    assert readiness_evidence(taiwan, only_other) is None


def test_evidence_of_another_topology_is_refused(inputs: ReportInputs) -> None:
    """Readiness evidence of another topology cannot go into the report's inputs."""
    assert inputs.readiness is not None
    foreign = dataclasses.replace(inputs.readiness, topology="elsewhere")
    with pytest.raises(InvalidInput, match=r"readiness: runs of topology 'elsewhere'"):
        dataclasses.replace(inputs, readiness=foreign)


def test_collect_inputs_reads_the_working_directory(saved: Saved, taiwan: Topology) -> None:
    """collect_inputs picks up the readiness runs saved in the working directory."""
    workdir, runs = saved
    collected = collect_inputs(taiwan, trials=0, years=0, workdir=workdir)
    assert collected.readiness is not None
    assert len(collected.readiness.runs) == len(runs)
    assert collected.readiness.latest.counts == runs[-1].counts()


def test_markdown_escapes_evidence(md_text: str) -> None:
    """Evidence full of markup renders as the text it is (GFM), its command as code."""
    rendered = MARKDOWN.render(_md_section(md_text, "readiness"))
    raw = [c for c in re.findall(r"<td>(.*?)</td>", rendered, re.S) if "~~2~~" in c]
    assert len(raw) == 1
    cell = raw[0]
    assert html.unescape(re.sub(r"</?code>", "`", cell)) == TRICKY_EVIDENCE
    tags = set(re.findall(r"<(\w+)", cell))
    assert tags == {"code"}, tags  # no bold, emphasis, link or strike-through made of it
    assert "<code>aws s3api get-bucket-versioning</code>" in cell


def test_markdown_table_keeps_its_columns(md_text: str) -> None:
    """A '|' in the evidence does not split its cell: every row has five cells."""
    rendered = MARKDOWN.render(_md_section(md_text, "readiness").split("### Drift")[0])
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, re.S)
    assert len(rows) >= 5
    assert all(len(re.findall(r"<t[dh]", row)) == 5 for row in rows[2:])


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="`"),
               min_size=1).map(str.strip).filter(bool))
def test_prose_reads_back_as_written(text: str) -> None:
    """Any printable text without backticks, escaped, renders as exactly that text."""
    assert html.unescape(MARKDOWN.renderInline(prose(text))) == text


def test_prose_keeps_code_and_escapes_a_lone_backtick() -> None:
    """Balanced backticks stay code; an unbalanced one is shown as a backtick."""
    assert MARKDOWN.renderInline(prose("run `a_b *c*` now_")) == "run <code>a_b *c*</code> now_"
    assert MARKDOWN.renderInline(prose("a ` b *c*")) == "a ` b *c*"


def test_json_readiness_keys(report_dir: Path, saved: Saved) -> None:
    """report.json's readiness has the documented keys and the latest run's results."""
    doc = json.loads((report_dir / "report.json").read_text("utf-8"))
    ready = doc["readiness"]
    assert set(ready) == {"topology", "checked_at", "started_at", "age_s", "duration_s",
                          "counts", "total", "rows", "drift", "runs"}
    latest = saved[1][-1]
    assert ready["counts"] == latest.counts() and set(ready["counts"]) == set(READINESS_STATUSES)
    assert ready["total"] == len(latest.results)
    assert [(r["check"], r["subject"], r["evidence"], r["fix"], r["status"])
            for r in ready["rows"]] == sorted(_not_ok(latest), key=lambda c: [
                "fail", "unreachable", "warn", "skipped"].index(c[4]))
    assert all(set(r) == {"check", "status", "subject", "evidence", "fix"} for r in ready["rows"])
    assert [d["name"] for d in ready["drift"]] == [d.name for d in latest.drift]
    assert all(set(d) == {"kind", "resource", "name", "site", "detail"} for d in ready["drift"])
    assert [r["started_at"] for r in ready["runs"]] == [r.started_at for r in saved[1]]
    assert all(set(r) == {"started_at", "checked_at", "counts", "drift"} for r in ready["runs"])
    assert ready["checked_at"] == ready["runs"][-1]["checked_at"]
    assert "readiness" in doc["sections"] and "readiness" not in doc["missing"]


def test_json_without_a_run_is_null_and_missing(bare_report_dir: Path) -> None:
    """With no run, report.json has readiness null and says what to run under missing."""
    doc = json.loads((bare_report_dir / "report.json").read_text("utf-8"))
    assert doc["readiness"] is None
    assert doc["missing"]["readiness"].startswith(EMPTY_STATE)


def test_drill_trend_is_referenced_not_redrawn(html_text: str, inputs: ReportInputs) -> None:
    """The section points to the drill section's trend figure instead of drawing it twice."""
    number = [sid for sid, _ in SECTIONS].index("drills") + 1
    section = _section(html_text, "readiness")
    assert f"Drill results over time are in §{number}" in section
    assert "least-squares trend for" in section
    assert 'id="fig-drills-' not in section
    no_drills = build_report_data(dataclasses.replace(inputs, drills=()), generated_at=WHEN)
    assert drill_trend_note(no_drills).startswith(f"No drill results over time yet (§{number})")
    one = build_report_data(dataclasses.replace(inputs, drills=fixture_drills()[:1]))
    assert "a trend appears once a runbook has two measured runs" in drill_trend_note(one)


def test_report_of_a_lone_readiness_run(tmp_path: Path, taiwan: Topology) -> None:
    """A report with nothing but readiness evidence renders every format."""
    save_readiness_runs(tmp_path, readiness_runs(taiwan.name, WHEN.timestamp() - 60, 2))
    inputs = report_inputs(taiwan, None, None, None, None,
                           readiness=readiness_evidence(taiwan, tmp_path))
    written = write_report(inputs, tmp_path / "out", generated_at=WHEN)
    doc = json.loads(written["json"].read_text("utf-8"))
    assert len(doc["readiness"]["runs"]) == 2
    assert (tmp_path / "out" / "figures" / "readiness.svg").is_file()
