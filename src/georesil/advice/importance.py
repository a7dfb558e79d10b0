"""The importance ranking the report shows and the map colours derived from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from georesil.model import Topology
from georesil.risk import TIER1, Importance, SnapshotResult

__all__ = ["importance_ranking", "map_criticality"]


def importance_ranking(snapshot: SnapshotResult) -> tuple[Importance, ...]:
    """Importance for "any tier-1 service down" (every target when there is no tier 1),
    by Fussell–Vesely then Birnbaum; elements with no measurable importance are left out."""
    rows = [r for r in snapshot.importance if r.target == TIER1] or list(snapshot.importance)
    rows.sort(key=lambda r: (-(r.fussell_vesely or 0.0), -r.birnbaum, r.element))
    return tuple(r for r in rows if (r.fussell_vesely or 0.0) > 0 or r.birnbaum)


def map_criticality(topology: Topology, ranking: Sequence[Importance]) -> Mapping[str, float]:
    """Per site and link, criticality scaled to [0, 1] by the largest (zones are spread out)."""
    raw: dict[str, float] = {}
    for row in ranking:
        crit = float(row.criticality or 0.0)
        kind, _, ident = row.element.partition(":")
        if kind == "zone":
            members = topology.zone_members(ident)
            targets = [f"site:{s}" for s in members.sites] + [f"link:{k}" for k in members.links]
        elif kind in ("site", "link"):
            targets = [row.element]
        else:
            continue
        for t in targets:
            raw[t] = max(raw.get(t, 0.0), crit)
    top = max(raw.values(), default=0.0)
    if top <= 0:
        return {}
    return {k: round(v / top, 4) for k, v in raw.items() if v > 0}
