"""Sources resolve inside the repository: every ``docs/sources.md#anchor`` cited exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "docs" / "sources.md"
#: Where citations live: code, data, docs, runbooks, examples, tests, the top-level files.
SEARCHED = ("src", "docs", "tests", "examples", "runbooks", "bench", "infra")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".j2", ".toml", ".json", ".txt", ".cfg"}
#: The domain notes the data once cited by file name, a file outside the repository.
OLD_REFERENCE = "REFERENCE" + ".md"
CITATION = re.compile(r"(?:docs/)?sources\.md#([A-Za-z0-9_-]+)")
#: How the docs write a citation in general ("cite as docs/sources.md#anchor").
PLACEHOLDER = "anchor"


def anchors() -> set[str]:
    """The anchors docs/sources.md defines (``<a id="...">``)."""
    return set(re.findall(r'<a id="([^"]+)"></a>', SOURCES.read_text("utf-8")))


def repository_texts() -> dict[Path, str]:
    files = [p for top in SEARCHED for p in (ROOT / top).rglob("*")
             if p.is_file() and p.suffix in TEXT_SUFFIXES and "__pycache__" not in p.parts]
    files += [p for p in ROOT.iterdir() if p.is_file() and p.suffix in TEXT_SUFFIXES]
    return {p: p.read_text("utf-8", errors="replace") for p in files}


def test_every_cited_anchor_exists() -> None:
    """Each docs/sources.md#anchor cited anywhere in the repository is defined there."""
    known = anchors()
    missing = sorted({f"{path.relative_to(ROOT)}: {anchor}"
                      for path, text in repository_texts().items()
                      for anchor in CITATION.findall(text) if anchor not in known | {PLACEHOLDER}})
    assert missing == []


def test_internal_links_of_sources_resolve() -> None:
    """Links between entries of docs/sources.md ((#anchor)) point at entries that exist."""
    links = set(re.findall(r"\]\(#([A-Za-z0-9_-]+)\)", SOURCES.read_text("utf-8")))
    assert links - anchors() == set()


def test_no_citation_of_a_file_outside_the_repository() -> None:
    """Nothing cites the old domain notes by file name any more."""
    stale = sorted(str(p.relative_to(ROOT)) for p, text in repository_texts().items()
                   if OLD_REFERENCE in text)
    assert stale == []


def test_the_data_cites_sources() -> None:
    """The bundled topology cites docs/sources.md (so the first test has something to check)."""
    text = (ROOT / "src" / "georesil" / "data" / "taiwan.yaml").read_text("utf-8")
    assert len(CITATION.findall(text)) >= 50
    assert {"lin-2009", "uptime-tiers", "fibre-cut-rates"} <= set(CITATION.findall(text))


def test_each_entry_names_author_title_publication_and_value() -> None:
    """Every entry of the bibliography states who, what, where and the value taken."""
    entries = re.split(r'<a id="[^"]+"></a>', SOURCES.read_text("utf-8"))[1:]
    assert len(entries) == len(anchors())
    for entry in entries:
        head = entry.strip().splitlines()[0]
        assert "**Value taken:**" in entry, head
        assert "**Author" in entry, head
        if "computed by georesil" not in entry and "research notes (2025), WGS84" not in entry:
            assert "**Published:**" in entry, head
