"""README.md's promises: two set-up commands, and .ci/run runs the second one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _sh_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [b.strip() for b in re.findall(r"^ *```sh\n(.*?)^ *```", text, re.M | re.S)]


def test_readme_opens_with_install_and_test_commands() -> None:
    """The first two sh blocks install + run the main job, then install + run the tests."""
    first, second = _sh_blocks()[:2]
    assert first.startswith("python -m pip install -e .") and "georesil" in first
    assert 'python -m pip install -e ".[test]"' in second and "pytest" in second
    assert "chromium" in second  # the report test renders in headless Chromium


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run takes its command from README.md rather than repeating it."""
    script = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in script and "pytest" not in script.split("awk", 1)[0]
