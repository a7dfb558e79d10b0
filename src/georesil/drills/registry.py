"""The explicit step registry: name -> (kind, args model, function, flags).

Runbooks name steps from this table only; nothing in a YAML file is ever imported. The table
is filled by the decorators below in :mod:`georesil.drills.probes` and
:mod:`georesil.drills.actions`, which the package (:mod:`georesil.drills`) imports — explicitly,
by name — so the table is complete whenever any part of drills is in use.

Each step function is called as ``fn(ctx, args)`` with a :class:`~georesil.drills.context.
DrillContext` and an instance of its args model, and returns a JSON-ready ``dict`` (a probe's
result has a ``value`` key that tolerances look at by default).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from georesil.errors import InvalidInput
from georesil.model._positions import did_you_mean, quoted_list

if TYPE_CHECKING:
    from georesil.drills.context import DrillContext

__all__ = ["Kind", "StepArgs", "StepDef", "get_step", "steps"]


class Kind(enum.StrEnum):
    PROBE = "probe"
    ACTION = "action"


class StepArgs(BaseModel):
    """Base of every step's args model.

    ``site_fields`` and ``service_fields`` name the fields holding a site (or ``$from`` /
    ``$to``) and a service id; the loader checks them against the topology and the runbook.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    site_fields: ClassVar[tuple[str, ...]] = ()
    service_fields: ClassVar[tuple[str, ...]] = ()


StepFn = Callable[["DrillContext", Any], dict[str, Any]]
F = TypeVar("F", bound=StepFn)


@dataclass(frozen=True)
class StepDef:
    """One registered step.

    Attributes:
        name: The name runbooks use, e.g. ``dns.set_primary``.
        kind: probe (reads the world) or action (changes it).
        args: The pydantic model of its ``args``.
        fn: ``fn(ctx, args) -> dict``.
        idempotent: Running it twice has the effect of running it once (the default of a
            step's ``safe_to_repeat``; what lets ``drill resume`` repeat a step in flight).
        mutating: It changes which site serves or what clients see (refused in ``test`` mode).
        lab_only: It needs the lab (kills or revives a lab site).
        summary: One line for ``drill plan`` and the docs.
    """

    name: str
    kind: Kind
    args: type[StepArgs]
    fn: StepFn
    idempotent: bool
    mutating: bool
    lab_only: bool
    summary: str


_REGISTRY: dict[str, StepDef] = {}


def _register(definition: StepDef) -> None:
    if definition.name in _REGISTRY:
        raise RuntimeError(f"step {definition.name!r} is registered twice")
    _REGISTRY[definition.name] = definition


def probe(name: str, args: type[StepArgs], *, lab_only: bool = False) -> Callable[[F], F]:
    """Register a probe (reads the world; always safe to repeat)."""
    def decorate(fn: F) -> F:
        _register(StepDef(name, Kind.PROBE, args, fn, True, False, lab_only, _first_line(fn)))
        return fn
    return decorate


def action(name: str, args: type[StepArgs], *, idempotent: bool, mutating: bool = True,
           lab_only: bool = False) -> Callable[[F], F]:
    """Register an action (changes the world)."""
    def decorate(fn: F) -> F:
        _register(StepDef(name, Kind.ACTION, args, fn, idempotent, mutating, lab_only,
                          _first_line(fn)))
        return fn
    return decorate


def _first_line(fn: Callable[..., Any]) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def steps() -> Mapping[str, StepDef]:
    """Every registered step, by name (sorted)."""
    return MappingProxyType(dict(sorted(_REGISTRY.items())))


def get_step(name: str) -> StepDef:
    """The step registered under ``name``.

    Raises:
        InvalidInput: unknown name, with the known names and a near match.
    """
    table = steps()
    try:
        return table[name]
    except KeyError:
        raise InvalidInput(f"unknown step {name!r}; known steps: {quoted_list(table, 40)}"
                           + did_you_mean(name, table), step=name) from None
