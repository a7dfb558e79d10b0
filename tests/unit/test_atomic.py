"""Atomic writes: a failed write leaves the old file and no temporary behind."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from georesil._atomic import open_private, private_dir, write_atomic


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
    target = tmp_path / "report.html"
    write_atomic(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.fixture
def umask_000() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_files_in_georesil_dir_are_private_under_umask_000(tmp_path: Path,
                                                            umask_000: None) -> None:
    """Inside .georesil: directories 0700 and files 0600, even with umask 000."""
    target = tmp_path / "work" / ".georesil" / "mirror" / "svc" / "site.json"
    write_atomic(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    for directory in (target.parent, target.parent.parent, tmp_path / "work" / ".georesil"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert stat.S_IMODE((tmp_path / "work").stat().st_mode) == 0o777  # outside: usual modes


def test_files_elsewhere_keep_the_usual_mode_under_umask_000(tmp_path: Path,
                                                             umask_000: None) -> None:
    """A report written outside .georesil is 0666 with umask 000, as open() would make it."""
    write_atomic(tmp_path / "report.md", "x")
    assert stat.S_IMODE((tmp_path / "report.md").stat().st_mode) == 0o666


def test_open_private_creates_0600_and_tightens_an_old_file(tmp_path: Path,
                                                            umask_000: None) -> None:
    """open_private makes 0600 files, and an existing 0666 file becomes 0600."""
    path = tmp_path / ".georesil" / "drills" / "run.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("old\n")
    os.chmod(path, 0o666)
    with open_private(path, "a") as fh:
        fh.write("new\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "old\nnew\n"


def test_an_existing_open_georesil_dir_is_tightened(tmp_path: Path, umask_000: None) -> None:
    """A .georesil made world-readable (older version, by hand) becomes 0700 when used."""
    root = tmp_path / ".georesil"
    root.mkdir()
    os.chmod(root, 0o777)
    private_dir(root / "lab")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_open_private_refuses_a_symlink(tmp_path: Path) -> None:
    """A symlink planted where georesil writes is refused, not followed."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    link = tmp_path / ".georesil" / "lab" / "lock"
    link.parent.mkdir(parents=True)
    link.symlink_to(victim)
    with pytest.raises(OSError):
        open_private(link, "a+")
    assert victim.read_text() == "precious"
