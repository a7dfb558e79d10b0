"""Runbooks by name: the ones bundled with georesil and the ones in ``./runbooks/``.

``georesil drill run storage-failover-planned`` finds ``runbooks/storage-failover-planned.yaml``
in the working directory first (a team's own runbooks, or its edited copy of a bundled one),
then the bundled runbook of that name. A path (anything with a ``/`` or a ``.yaml`` /
``.yml`` / ``.json`` suffix) is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from georesil._read import RUNBOOK, read_text
from georesil.errors import InvalidInput
from georesil.model._positions import did_you_mean, quoted_list, to_plain
from georesil.model.loader import parse_document

__all__ = ["BUNDLED_DIR", "LOCAL_DIR", "RunbookEntry", "find_runbook", "list_runbooks"]

#: Where the bundled runbooks live (``runbooks/`` of the source tree links here).
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "runbooks"
#: A working directory's own runbooks.
LOCAL_DIR = "runbooks"
_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class RunbookEntry:
    """A runbook ``drill list`` shows.

    Attributes:
        name: What ``drill run NAME`` takes (the file's stem).
        path: The file.
        source: ``bundled`` or ``./runbooks``.
        description: Its ``description``, mode and parameters (``None``/empty if unreadable).
        parameters: ``{name: {type, default, description}}`` as declared.
        error: Why the file could not be read as a runbook, if it could not.
    """

    name: str
    path: Path
    source: str
    description: str | None
    mode: str | None
    parameters: dict[str, dict[str, Any]]
    error: str | None = None


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith(_SUFFIXES)


def _candidates(directory: Path) -> dict[str, Path]:
    if not directory.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix in _SUFFIXES and path.is_file():
            found.setdefault(path.stem, path)
    return found


def find_runbook(ref: str | Path, workdir: str | Path = ".") -> Path:
    """The runbook file ``ref`` names: a path, or a name in ``./runbooks/`` or the bundle.

    Raises:
        InvalidInput: no runbook of that name (the message lists the known names).
    """
    text = str(ref)
    if isinstance(ref, Path) or _looks_like_path(text):
        path = Path(ref)
        if not path.is_file():
            raise InvalidInput(f"{path}: no such runbook file; give a runbook name (see "
                               "`georesil drill list`) or the path of a file", path=str(path))
        return path
    local = _candidates(Path(workdir) / LOCAL_DIR)
    bundled = _candidates(BUNDLED_DIR)
    if text in local:
        return local[text]
    if text in bundled:
        return bundled[text]
    known = sorted(set(local) | set(bundled))
    raise InvalidInput(f"no runbook named {text!r} in {Path(workdir).resolve() / LOCAL_DIR} or "
                       f"among the bundled ones; known runbooks: {quoted_list(known, 20)}"
                       + did_you_mean(text, known) + " (see `georesil drill list`)",
                       value=text)


def list_runbooks(workdir: str | Path = ".") -> list[RunbookEntry]:
    """Every runbook ``find_runbook`` can find by name, local ones first (a local runbook
    hides a bundled one of the same name)."""
    local_dir = (Path(workdir) / LOCAL_DIR).resolve()
    entries: dict[str, RunbookEntry] = {}
    same = local_dir == BUNDLED_DIR
    for source, directory in (("./runbooks", local_dir), ("bundled", BUNDLED_DIR)):
        label = "bundled" if same else source
        for name, path in _candidates(directory).items():
            entries.setdefault(name, _entry(name, path, label))
    return sorted(entries.values(), key=lambda e: (e.source != "./runbooks", e.name))


def _entry(name: str, path: Path, source: str) -> RunbookEntry:
    try:
        root, _ = parse_document(read_text(path, RUNBOOK), str(path))
    except (OSError, UnicodeDecodeError, InvalidInput) as exc:
        return RunbookEntry(name, path, source, None, None, {}, str(exc).splitlines()[0])
    plain = to_plain(root)
    doc: dict[str, Any] = plain if isinstance(plain, dict) else {}
    params = doc.get("parameters")
    declared = {str(k): {"type": v.get("type", "string"), "default": v.get("default"),
                         "description": v.get("description")}
                for k, v in (params.items() if isinstance(params, dict) else [])
                if isinstance(v, dict)}
    description, mode = doc.get("description"), doc.get("mode")
    return RunbookEntry(name, path, source, str(description) if description else None,
                        str(mode) if mode else None, declared)
