"""A scenario of the topology file as a failure set, and its impact.

The one definition of "what a scenario fails": its ``fail`` list, plus, when it has a
``quake:``, every site and link that quake breaks at median ground motion (failure probability
at least ½, :func:`georesil.hazards.earthquakes.quake_impact`).
"""

from __future__ import annotations

from georesil.analysis.impact import Impact
from georesil.analysis.reference import inject
from georesil.hazards.earthquakes import quake_impact
from georesil.model import FailureSet, Topology

__all__ = ["run_scenario", "scenario_failure"]


def scenario_failure(topology: Topology, scenario: str) -> FailureSet:
    """The base elements (and services) a scenario fails: its list, plus what its quake breaks.

    Raises:
        InvalidReference: an unknown scenario.
    """
    spec = topology.scenario(scenario)
    failure = topology.expand(spec.fail)
    if spec.quake is not None:
        q = spec.quake
        failure = failure | quake_impact(topology, q.lat, q.lon, q.magnitude, q.depth_km).failures
    return failure


def run_scenario(topology: Topology, scenario: str) -> Impact:
    """The impact of :func:`scenario_failure`, as ``georesil inject --scenario`` shows it."""
    return inject(topology, scenario_failure(topology, scenario))
