"""The runbook format, as pydantic v2 models.

A runbook names the services it moves, where from and where to, the mode, the recovery
targets, and three lists of steps: ``steady_state`` probes (checked before and after the
method), the ``method`` and the ``rollback``. A step names an entry of the step registry
(:mod:`georesil.drills.registry`) under ``probe:`` or ``action:``; its ``args`` are validated
against that entry's own args model by :mod:`georesil.drills.loader`, which also checks every
site and service against the topology. This module only knows the shape of each record.

Every model forbids unknown keys and is frozen, like the topology schema.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from georesil.drills.parameters import ParamType

__all__ = [
    "ACTIVE",
    "FROM",
    "PLACEHOLDERS",
    "TO",
    "Mode",
    "ParameterSpec",
    "RollbackPolicy",
    "RollbackSpec",
    "RunbookDoc",
    "StepSpec",
    "Targets",
    "Tolerance",
]

#: Placeholders a site argument may use: the service's from-site and the runbook's to-site.
FROM = "$from"
TO = "$to"
#: The site a service is active at when the step runs (the control plane's register).
ACTIVE = "$active"
PLACEHOLDERS = (FROM, TO, ACTIVE)

Id = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=63),
]
NonNeg = Annotated[float, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)


class Mode(enum.StrEnum):
    """How the drill treats production (VMware SRM's modes).

    ``test`` calls no action that changes which site serves (probes, waits and mirror syncs
    only); ``planned`` is a graceful switch (freeze writes, sync, cut over: RPO 0 expected);
    ``unplanned`` starts from a fault (the from-site is taken out) and measures what was lost.
    """

    TEST = "test"
    PLANNED = "planned"
    UNPLANNED = "unplanned"


class RollbackPolicy(enum.StrEnum):
    """When rollback steps run."""

    DEFAULT = "default"  # unless the drill completed
    ALWAYS = "always"
    NEVER = "never"
    ON_DEVIATION = "on-deviation"  # only when a probe left its tolerance


class Tolerance(_Model):
    """What a probe result must look like.

    ``path`` picks a key of the probe's result (dotted for nested keys; default ``value``);
    every bound given must hold. String bounds may use ``$from`` / ``$to``.
    """

    path: str = "value"
    equals: Any = None
    one_of: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Tolerance:
        if self.equals is None and self.one_of is None and self.min is None and self.max is None:
            raise ValueError("a tolerance needs at least one of 'equals', 'one_of', 'min', 'max'")
        return self


class ParameterSpec(_Model):
    """A declared runbook parameter (:mod:`georesil.drills.parameters` binds it)."""

    type: ParamType = ParamType.STRING
    default: Any = None
    description: str | None = None


class StepSpec(_Model):
    """One step: a registered probe or action with its arguments."""

    id: Id | None = None
    probe: str | None = None
    action: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    timeout_s: Annotated[float, Field(gt=0)] = 120.0
    safe_to_repeat: bool | None = None
    approval: Annotated[str, StringConstraints(min_length=1)] | None = None
    tolerance: Tolerance | None = None

    @model_validator(mode="after")
    def _probe_or_action(self) -> StepSpec:
        if (self.probe is None) == (self.action is None):
            raise ValueError("a step names exactly one of 'probe' or 'action'")
        if self.action is not None and self.tolerance is not None:
            raise ValueError("only probes have a 'tolerance'; this step is an action")
        return self

    @property
    def name(self) -> str:
        """The registry name this step runs."""
        return self.probe or self.action or ""

    @property
    def kind(self) -> Literal["probe", "action"]:
        return "probe" if self.probe is not None else "action"


class Targets(_Model):
    """Recovery objectives; a missing one defaults to the strictest of the services' own."""

    rto_s: NonNeg | None = None
    rpo_s: NonNeg | None = None


class RollbackSpec(_Model):
    """Rollback steps and when they run."""

    policy: RollbackPolicy = RollbackPolicy.DEFAULT
    steps: tuple[StepSpec, ...] = ()


class RunbookDoc(_Model):
    """A whole runbook file."""

    version: Literal[1]
    name: Id
    description: str | None = None
    parameters: dict[Id, ParameterSpec] = Field(default_factory=dict)
    topology: str | None = None
    services: Annotated[tuple[str, ...], Field(min_length=1)]
    from_sites: Annotated[tuple[str, ...], Field(alias="from", min_length=1)]
    to_site: Annotated[str, Field(alias="to")]
    mode: Mode
    targets: Targets = Targets()
    recovery_timeout_s: Annotated[float, Field(gt=0)] = 120.0
    stop_conditions: tuple[StepSpec, ...] = ()
    steady_state: tuple[StepSpec, ...] = ()
    method: Annotated[tuple[StepSpec, ...], Field(min_length=1)]
    rollback: RollbackSpec = RollbackSpec()

    @model_validator(mode="before")
    @classmethod
    def _from_as_list(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("from"), str):
            data = {**data, "from": [data["from"]]}
        return data
