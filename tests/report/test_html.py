"""The HTML report: self-contained, all sections present, degrading in words; Chromium test."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest

from georesil.report import ReportInputs
from georesil.report.data import SECTIONS, build_report_data
from georesil.report.figures import render_figures
from georesil.report.html import render_html
from georesil.report.markdown import render_markdown
from georesil.report.method import NO_LOSS_EXCEEDANCE
from tests.report._chromium import Chromium, chromium_binary

SECTION_IDS = [sid for sid, _ in SECTIONS]


@pytest.fixture(scope="module")
def html(report_dir: Path) -> str:
    return (report_dir / "report.html").read_text("utf-8")


def test_no_external_urls_in_src_or_href(html: str) -> None:
    """No src/href attribute points anywhere but inside the page."""
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    assert refs, "expected internal links (table of contents, SVG references)"
    assert [r for r in refs if not r.startswith(("#", "data:"))] == []


def test_no_script(html: str) -> None:
    """The page carries no script at all."""
    assert re.search(r"<script", html, re.I) is None


def test_css_loads_nothing_from_outside(html: str) -> None:
    """No @import, and every CSS url() is a fragment or inline data."""
    assert "@import" not in html
    urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", html)
    assert [u for u in urls if not u.startswith(("#", "data:"))] == []


def test_no_external_fonts(html: str) -> None:
    """No @font-face: the page uses the reader's system fonts."""
    assert "@font-face" not in html


def test_every_section_is_present(html: str) -> None:
    """Each section of the report has its anchor."""
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html


def test_figures_are_inline_svg(html: str) -> None:
    """Map, heat map, N-k, availability, PGA, drill and readiness figures are inlined."""
    for name in ("map", "impact", "nk", "availability", "pga", "drills", "readiness"):
        assert f'id="fig-{name}-' in html, name


def test_loss_exceedance_curve_needs_two_points(inputs: ReportInputs) -> None:
    """The curve is drawn from two levels seen in the simulated years, not from one."""
    assert inputs.annual is not None
    rows = [dict(r) for r in inputs.annual.loss_exceedance]
    seen = [r for r in rows if r["annual_rate"] > 0]
    one = dataclasses.replace(inputs.annual, loss_exceedance=[*seen[:1], *(
        r | {"annual_rate": 0.0, "p_per_year": 0.0, "return_period_years": None}
        for r in rows[1:])])
    two = dataclasses.replace(one, loss_exceedance=[one.loss_exceedance[0], one.loss_exceedance[0]
                                                    | {"tier1_down_at_least": 2}])
    for annual, drawn in ((one, False), (two, True)):
        data = build_report_data(dataclasses.replace(inputs, annual=annual))
        assert ("loss_exceedance" in render_figures(data, inputs.topology)) is drawn


def test_loss_exceedance_note_only_when_nothing_was_seen(inputs: ReportInputs) -> None:
    """'No tier-1 outage' is said only when no simulated year had one, never under a table
    that shows one."""
    assert inputs.annual is not None
    assert any(r["annual_rate"] > 0 for r in inputs.annual.loss_exceedance)
    quiet = dataclasses.replace(inputs.annual, loss_exceedance=[
        r | {"annual_rate": 0.0, "p_per_year": 0.0, "return_period_years": None, "events": 0,
             "dominated_by": []} for r in inputs.annual.loss_exceedance])
    for annual, said in ((inputs.annual, False), (quiet, True)):
        data = build_report_data(dataclasses.replace(inputs, annual=annual))
        html = render_html(data, {})
        text, _ = render_markdown(data, {})
        assert (NO_LOSS_EXCEEDANCE in html) is said
        assert (NO_LOSS_EXCEEDANCE in text) is said


def test_element_ids_are_unique(html: str) -> None:
    """Figures inlined side by side keep unique element ids."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_print_stylesheet(html: str) -> None:
    """The page has print rules: A4 pages and no split tables or figures."""
    assert "@media print" in html and "@page" in html and "break-inside: avoid" in html


def test_absent_data_is_said_in_words(bare_report_dir: Path) -> None:
    """With no producer output each section says what is missing instead of going blank."""
    html = (bare_report_dir / "report.html").read_text("utf-8")
    assert "No drills recorded yet" in html
    assert "<code>georesil drill run RUNBOOK</code>" in html  # commands shown as code
    assert "No analysis was supplied" in html
    assert "No snapshot simulation was supplied" in html
    assert "No annual-risk simulation was supplied" in html
    assert "No readiness run recorded" in html
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html


@pytest.mark.slow
def test_chromium_renders_without_errors_or_requests(report_dir: Path,
                                                      tmp_path: Path) -> None:
    """Headless Chromium loads the page: no console error, no request leaves the file."""
    binary = chromium_binary()
    # Not a skip: README's test command installs Chromium, so its absence is a set-up failure.
    assert binary is not None, "Chromium is not installed: apt-get install -y chromium"
    with Chromium(binary) as browser:
        page = browser.load(report_dir / "report.html")
    shot = tmp_path / "report.png"
    shot.write_bytes(page.screenshot)
    assert page.console_errors == []
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert set(SECTION_IDS) <= set(page.ids)
    assert "readiness" in page.ids  # the readiness section, with its trend figure inline
    assert any(i.startswith("fig-readiness-") for i in page.ids)
    assert page.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(page.screenshot[16:20]), int.from_bytes(page.screenshot[20:24])
    assert width == 1366 and height > 5000  # the whole page, not just the first screen
    target = _screenshot_dir()
    if target is not None:
        shutil.copy(shot, target / "report.png")


def _screenshot_dir() -> Path | None:
    import os

    value = os.environ.get("GEORESIL_SCREENSHOT_DIR")
    return Path(value) if value and Path(value).is_dir() else None
