"""The JSON examples of docs/lab.md, docs/mirror.md and docs/readiness.md against real runs in
a lab: the same keys, the same kinds of values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from georesil.lab import LabState
from tests._docs_json import examples, fits

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def _run(workdir: Path, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "georesil", *args, "--json"], cwd=workdir,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def test_lab_mirror_and_readiness_examples_fit(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    (status_doc,) = examples("lab.md")
    assert fits(status_doc, _run(workdir, "lab", "status")) == []
    (verify_doc,) = examples("mirror.md")
    assert fits(verify_doc, _run(workdir, "mirror", "verify", "store")) == []
    (readiness_doc,) = examples("readiness.md")
    assert fits(readiness_doc, _run(workdir, "readiness")) == []
