"""Assign imported sites to regions: by latitude, by longitude, by clustering, or by attribute.

Each rule returns a region per located (or attributed) site and a sentence that says how the
regions were made; sites it cannot place get none (the topology's "unassigned").
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from georesil.errors import InvalidInput
from georesil.hazards.geometry import central_meridian
from georesil.inventory.records import RawSite

__all__ = ["RegionRule", "assign_regions", "parse_region_rule"]

_MAX_CLUSTERS = 64


@dataclass(frozen=True)
class RegionRule:
    """How to make regions: ``none``, ``lat``, ``lon``, ``cluster`` (with ``count``) or
    ``attr`` (with ``attribute``)."""

    kind: str
    count: int = 0
    attribute: str = ""


def parse_region_rule(text: str | None) -> RegionRule:
    """``lat``, ``lon``, ``cluster:N`` or ``attr:NAME`` (``None``: no regions).

    Raises:
        InvalidInput: anything else, naming what is allowed.
    """
    allowed = "allowed: lat, lon, cluster:N (N from 2 to 64), attr:NAME"
    if text is None:
        return RegionRule("none")
    value = text.strip()
    if value in ("lat", "lon"):
        return RegionRule(value)
    if value.startswith("cluster:"):
        count = value.split(":", 1)[1]
        if count.isdigit() and 2 <= int(count) <= _MAX_CLUSTERS:
            return RegionRule("cluster", count=int(count))
    elif value.startswith("attr:") and value.split(":", 1)[1].strip():
        return RegionRule("attr", attribute=value.split(":", 1)[1].strip())
    raise InvalidInput(f"--region-by: got {text!r}; {allowed}", field="region_by", value=text)


def assign_regions(sites: Sequence[RawSite], rule: RegionRule) -> tuple[list[str | None], str]:
    """A region (or ``None``) per site, in order, and a sentence describing the rule applied."""
    if rule.kind == "none":
        return [None] * len(sites), ("none assigned (give --region-by lat, lon, cluster:N or "
                                     "attr:NAME); every site is 'unassigned'")
    if rule.kind == "attr":
        regions = [_slug_region(s.attr(rule.attribute)) for s in sites]
        found = sum(r is not None for r in regions)
        return regions, (f"from the attribute {rule.attribute!r} ({found} of {len(sites)} sites "
                         "have it)")
    if rule.kind in ("lat", "lon"):
        return _split(sites, rule.kind)
    return _clusters(sites, rule.count)


def _slug_region(value: str | None) -> str | None:
    if value is None:
        return None
    return re.sub(r"\s+", " ", value).strip() or None


def _split(sites: Sequence[RawSite], axis: str) -> tuple[list[str | None], str]:
    if axis == "lon":  # longitudes unwrapped around the sites' centre (a Pacific network)
        mid = central_meridian(s.lon for s in sites if s.lon is not None and s.located)
        values = [((s.lon - mid + 180.0) % 360.0) - 180.0 + mid
                  if s.located and s.lon is not None else None for s in sites]
    else:
        values = [s.lat if s.located else None for s in sites]
    known = [v for v in values if v is not None]
    if not known:
        return [None] * len(sites), f"by {axis}: no site has a location, so none assigned"
    cut = statistics.median(known)
    low, high = ("south", "north") if axis == "lat" else ("west", "east")
    regions = [None if v is None else high if v >= cut else low for v in values]
    unit = "°N" if axis == "lat" else "°E"
    return regions, (f"by {'latitude' if axis == 'lat' else 'longitude'}, split at the median "
                     f"{cut:.2f}{unit}: {high} (≥) and {low}")


def _unit_vectors(sites: Sequence[RawSite]) -> np.ndarray:
    lat = np.radians([s.lat for s in sites if s.lat is not None and s.lon is not None])
    lon = np.radians([s.lon for s in sites if s.lat is not None and s.lon is not None])
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def kmeans(points: np.ndarray, k: int, rounds: int = 100) -> np.ndarray:
    """Labels (0..k-1) of a deterministic k-means (farthest-point start, Lloyd iterations).

    Notes:
        Farthest-point initialisation from the first point makes the result depend only on
        the input order; O(rounds · n · k).
    """
    centres = [points[0]]
    dist = np.sum((points - points[0]) ** 2, axis=1)
    for _ in range(1, k):
        centres.append(points[int(np.argmax(dist))])
        dist = np.minimum(dist, np.sum((points - centres[-1]) ** 2, axis=1))
    c = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(rounds):
        d = ((points[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)
        new = np.argmin(d, axis=1)
        for j in range(k):
            members = points[new == j]
            if len(members):
                c[j] = members.mean(axis=0)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def _clusters(sites: Sequence[RawSite], k: int) -> tuple[list[str | None], str]:
    located = [s for s in sites if s.located]
    distinct = len({(s.lat, s.lon) for s in located})
    if distinct < k:
        raise InvalidInput(f"--region-by cluster:{k}: only {distinct} distinct site locations; "
                           f"give N ≤ {distinct}", field="region_by", value=f"cluster:{k}")
    labels = kmeans(_unit_vectors(located), k)
    # Number the clusters west to east by their mean longitude, so names read like a map.
    mean_lon = {j: math.degrees(math.atan2(
        sum(math.sin(math.radians(s.lon or 0)) for s, lab in zip(located, labels, strict=True)
            if lab == j),
        sum(math.cos(math.radians(s.lon or 0)) for s, lab in zip(located, labels, strict=True)
            if lab == j))) for j in set(labels.tolist())}
    order = {j: i + 1 for i, j in enumerate(sorted(mean_lon, key=mean_lon.__getitem__))}
    by_key = {s.key: f"cluster-{order[int(lab)]}" for s, lab in zip(located, labels, strict=True)}
    regions = [by_key.get(s.key) for s in sites]
    return regions, (f"{k} clusters of site locations (k-means on the sphere, numbered west to "
                     "east)")
