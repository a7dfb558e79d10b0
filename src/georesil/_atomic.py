"""Files on disk: atomic writes, and georesil's private state directory ``.georesil/``.

Everything georesil keeps for itself (lab state, locks, server logs, mirror checkpoints,
drill journals) lives under a ``.georesil`` directory. Whatever the umask, that directory and
every directory georesil creates inside it are ``0700``, and every file georesil writes there
is ``0600``: other local users can neither read the state (endpoints, run ids) nor plant a
file that a later command would trust. Files written elsewhere (reports, figures) get the
usual mode, ``0666`` minus the umask, as with ``open()``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Any

__all__ = ["STATE_DIR_NAME", "is_private", "open_private", "private_dir", "write_atomic"]

#: georesil's own state directory, created in the directory a command runs in.
STATE_DIR_NAME = ".georesil"
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_OPEN_FLAGS = {
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
    "a+": os.O_RDWR | os.O_CREAT | os.O_APPEND,
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,
}


def is_private(path: str | Path) -> bool:
    """Whether ``path`` lies inside a ``.georesil`` directory (or is one)."""
    return STATE_DIR_NAME in Path(path).parts


def private_dir(path: str | Path) -> Path:
    """Create directory ``path`` with its parents; those from ``.georesil`` down are 0700.

    An existing ``.georesil`` directory that others can read (made by an older version, or
    by hand) is tightened to 0700 when the caller owns it. Outside ``.georesil`` this is
    ``mkdir -p`` with the usual modes.
    """
    path = Path(path)
    parts = path.parts
    if STATE_DIR_NAME not in parts:
        path.mkdir(parents=True, exist_ok=True)
        return path
    cut = parts.index(STATE_DIR_NAME)
    current = Path(*parts[:cut]) if cut else Path()
    current.mkdir(parents=True, exist_ok=True)
    for part in parts[cut:]:
        current = current / part
        try:
            os.mkdir(current, _DIR_MODE)
        except FileExistsError:
            if part == STATE_DIR_NAME:
                _tighten(current)
            continue
        os.chmod(current, _DIR_MODE)  # the umask may have taken bits away; never adds any
    return path


def _tighten(directory: Path) -> None:
    with contextlib.suppress(OSError):
        st = os.stat(directory, follow_symlinks=False)
        if st.st_uid == os.geteuid() and st.st_mode & 0o077:
            os.chmod(directory, _DIR_MODE)


def open_private(path: str | Path, mode: str = "a", *, encoding: str | None = None) -> IO[Any]:
    """Open a file georesil keeps for itself as ``0600`` (``mode``: ``a``, ``a+``, ``w`` or
    ``x``, with an optional ``b``), creating its directory (0700 inside ``.georesil``).

    A symlink in its place is refused (``OSError``), so nobody can redirect georesil's
    writes to another file; ``x`` raises ``FileExistsError`` when the file exists.
    """
    path = Path(path)
    flags = _OPEN_FLAGS[mode.replace("b", "")] | os.O_NOFOLLOW | os.O_CLOEXEC
    private_dir(path.parent)
    fd = os.open(path, flags, _FILE_MODE)
    try:
        os.fchmod(fd, _FILE_MODE)  # an existing file keeps its old mode otherwise
        return os.fdopen(fd, mode, encoding=encoding)
    except BaseException:
        os.close(fd)
        raise


def write_atomic(path: str | Path, data: bytes | str, *, private: bool | None = None) -> None:
    """Write a file so that readers see the old content or the new, never half of it.

    Args:
        path: The file to replace.
        data: Its new content.
        private: ``0600`` in a ``0700`` directory (``True``) or the usual mode
            (``False``); by default private exactly when ``path`` is inside ``.georesil``.
    """
    path = Path(path)
    private = is_private(path) if private is None else private
    if private:
        private_dir(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp makes 0600: keep it for private files, give others the usual mode
        os.fchmod(fd, _FILE_MODE if private else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
