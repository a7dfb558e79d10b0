"""Atomic writes: a failed write leaves the old file and no temporary behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from georesil._atomic import write_atomic


def test_write_creates_parents_and_content(tmp_path: Path) -> None:
    """A new file appears with its content, parent folders created."""
    target = tmp_path / "a" / "b" / "out.json"
    write_atomic(target, '{"ok": true}')
    assert target.read_text() == '{"ok": true}'


def test_failed_write_keeps_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the final rename fails, the old file is intact and no temporary is left."""
    target = tmp_path / "state.json"
    target.write_text("old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("georesil._atomic.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_written_file_has_the_usual_mode(tmp_path: Path) -> None:
    """The file is readable by others as with open(), not 0600 like a temporary."""
    import os

    target = tmp_path / "report.html"
    write_atomic(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
