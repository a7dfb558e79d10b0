"""The readiness check registry: every check is one function, registered by id.

A check takes the :class:`~georesil.readiness.context.ReadinessContext` and yields
:class:`~georesil.readiness.results.CheckResult` rows (one per subject). Like the drill step
registry, the set of checks is explicit: ``georesil readiness --check ID`` names entries here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from georesil.readiness.context import ReadinessContext
    from georesil.readiness.results import CheckResult

__all__ = ["REGISTRY", "CheckFn", "CheckSpec", "check"]

CheckFn = Callable[["ReadinessContext"], Iterable["CheckResult"]]


@dataclass(frozen=True)
class CheckSpec:
    """A registered check.

    Attributes:
        id: ``area.name``, stable (metrics and ``--check`` use it).
        area: storage, dns, control, capacity or drills.
        title: One line for docs and ``--help``.
        fn: The check function.
        needs_control: The check reads the control plane; it is skipped when the control
            plane cannot be reached (``control.reachable`` then says why).
    """

    id: str
    area: str
    title: str
    fn: CheckFn
    needs_control: bool = False


REGISTRY: dict[str, CheckSpec] = {}


def check(check_id: str, title: str, *, needs_control: bool = False) -> Callable[[CheckFn],
                                                                                 CheckFn]:
    """Register ``fn`` as the check ``check_id`` (``area.name``)."""

    def register(fn: CheckFn) -> CheckFn:
        if check_id in REGISTRY:
            raise ValueError(f"readiness check {check_id!r} registered twice")
        REGISTRY[check_id] = CheckSpec(check_id, check_id.split(".", 1)[0], title, fn,
                                       needs_control)
        return fn

    return register
