"""Zone outages and power zones with backup power."""

from __future__ import annotations

import math

import pytest

from georesil.hazards.zones import outage_failures, p_down_given_outage, zone_models
from tests.unit._risk_build import backup_zone, site, topology


def test_zone_renewal_unavailability() -> None:
    """A zone out twice a year for 10 h is out with probability 20/8780."""
    [zone] = zone_models(backup_zone(rate=2.0, mean_h=10.0))
    assert zone.unavailability == pytest.approx(20 / 8780)


def test_backup_outlasted_probability() -> None:
    """With exponential durations P(down | outage) = exp(−backup/mean)."""
    assert p_down_given_outage(12.0, 10.0) == pytest.approx(math.exp(-1.2))


def test_levels_chain_to_the_marginals() -> None:
    """The chained level probabilities multiply up to each site's exp(−backup/mean)."""
    [zone] = zone_models(backup_zone(backup_a=5.0, backup_b=12.0, mean_h=10.0))
    backups, passes, index = zone.levels()
    assert backups == (5.0, 12.0)
    assert passes[0] * passes[1] == pytest.approx(math.exp(-1.2))
    assert index == (0, 1)


def test_elapsed_time_shared_by_sites() -> None:
    """Seven hours into an outage the 5 h site is down and the 12 h site is not."""
    [zone] = zone_models(backup_zone(backup_a=5.0, backup_b=12.0))
    assert outage_failures(zone, 7.0).sites == frozenset({"a"})


def test_non_power_zone_fails_everything() -> None:
    """A seismic zone ignores backup power."""
    t = topology([site("a", zones=["z"], backup_power_h=100.0)],
                 zones=[{"id": "z", "kind": "seismic", "unavailability": 0.1}])
    [zone] = zone_models(t)
    assert outage_failures(zone, 0.1).sites == frozenset({"a"})
