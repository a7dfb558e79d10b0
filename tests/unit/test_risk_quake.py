"""Scenario quakes for ``inject --quake``."""

from __future__ import annotations

import pytest

from georesil.errors import InvalidHazard
from georesil.risk.quake import inject_quake, parse_quake
from tests.unit._risk_build import site, topology


def _topo() -> object:
    return topology([site("tainan", 23.10, 120.28, fragility={"median_g": 0.15, "beta": 0.5}),
                     site("taipei", 25.03, 121.56)],
                    [{"id": "l", "a": "tainan", "b": "taipei"}])


def test_parse_default_depth() -> None:
    """LAT,LON,MAG parses with a 10 km default depth."""
    assert parse_quake("22.93, 120.54, 6.4") == (22.93, 120.54, 6.4, 10.0)


@pytest.mark.parametrize("text", ["22.9,120.5", "a,b,c", "1,2,3,4,5"])
def test_parse_malformed(text: str) -> None:
    """Malformed --quake text names the expected form."""
    with pytest.raises(InvalidHazard, match="expected LAT,LON,MAG"):
        parse_quake(text)


def test_parse_out_of_range() -> None:
    """An out-of-range magnitude is rejected with the allowed range."""
    with pytest.raises(InvalidHazard, match="quake magnitude: got 12.0; allowed 3 to 9.5"):
        parse_quake("23,120,12")


def test_inject_meinong_like() -> None:
    """A Meinong-like M6.4 under Tainan breaks the fragile Tainan site only."""
    failures, rows = inject_quake(_topo(), 23.10, 120.30, 6.4, 15.0)
    assert failures.sites == frozenset({"tainan"})
    by = {r.element: r for r in rows}
    assert by["site:tainan"].fails and not by["site:taipei"].fails
    assert by["site:tainan"].pga_g > by["site:taipei"].pga_g
    assert set(by) == {"site:tainan", "site:taipei", "link:l"}
