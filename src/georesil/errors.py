"""The whole georesil exception tree.

::

    GeoresilError                      root: everything georesil raises on purpose
    ├── InvalidInput                   bad input from a person (exit code 2)
    │   ├── InvalidTopology            a topology file with one or more problems
    │   ├── InvalidRunbook             a runbook file with one or more problems
    │   ├── InvalidInventory           an inventory (GML, GraphML, CSV) that cannot be imported
    │   ├── InvalidHazard              hazard parameters that cannot be evaluated
    │   ├── InputRefused               a file past a reading limit (size, kind, depth, aliases)
    │   └── InvalidReference           a failure reference (site:X, ...) that does not resolve
    ├── AnalysisError                  an analysis could not be completed (exit code 1)
    ├── DrillError                     a drill did not complete as planned (exit code 1)
    │   ├── StepFailed
    │   ├── DrillInterrupted
    │   ├── RollbackFailed
    │   └── SafetyViolation            lock held, split-brain, world does not match journal
    ├── CloudError                     a cloud call failed (exit code 3)
    │   ├── Throttled
    │   ├── Unavailable
    │   ├── AccessDenied
    │   └── NotFound
    ├── ProvisionError                 provisioning failed or a policy check failed (exit code 3)
    │   ├── PolicyViolation
    │   └── ToolMissing                a required tool (the Pulumi CLI) is absent (exit code 2)
    └── Interrupted                    a workflow stopped by Ctrl-C or SIGTERM (exit code 130)

Exceptions carry their context as keyword attributes so that the CLI and the logs never parse
message strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "AccessDenied",
    "AnalysisError",
    "CloudError",
    "DrillError",
    "DrillInterrupted",
    "Interrupted",
    "GeoresilError",
    "InvalidHazard",
    "InvalidInput",
    "InvalidInventory",
    "InvalidReference",
    "InvalidRunbook",
    "InvalidTopology",
    "InputRefused",
    "NotFound",
    "PolicyViolation",
    "Problem",
    "ProvisionError",
    "RollbackFailed",
    "SafetyViolation",
    "StepFailed",
    "Throttled",
    "ToolMissing",
    "Unavailable",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem found in an input file.

    Attributes:
        path: The file it was found in (or ``None`` for input built in Python).
        line: 1-based line, or ``None`` when the position is unknown.
        column: 1-based column, or ``None``.
        field: The field path, e.g. ``links[3].b``.
        message: What is wrong, the offending value and what is allowed.
    """

    path: str | None
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        prefix = f"{self.field}: " if self.field else ""
        return f"{where}: {prefix}{self.message}"


class GeoresilError(Exception):
    """Root of every exception georesil raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


class InvalidInput(GeoresilError):
    """Bad input from a person: a file, an argument, a parameter."""

    exit_code = 2


class _FileProblems(InvalidInput):
    """An input file with one or more problems, all reported at once."""

    kind = "input"

    def __init__(self, problems: list[Problem], path: str | None = None) -> None:
        self.problems = sorted(problems, key=_problem_order)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        header = f"{path or '<input>'}: {count} {noun} in {self.kind}"
        body = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{header}\n{body}", path=path)


def _problem_order(p: Problem) -> tuple[int, int, str, str]:
    return (p.line or 0, p.column or 0, p.field, p.message)


class InvalidTopology(_FileProblems):
    """A topology file with one or more problems."""

    kind = "topology"


class InvalidRunbook(_FileProblems):
    """A runbook file with one or more problems."""

    kind = "runbook"


class InputRefused(InvalidInput):
    """A file georesil will not read: too large, not a regular file, nested too deeply,
    aliases expanding past the budget, a non-finite number where JSON is read.

    Attributes:
        problem: The located problem (path, line, column, message).
        limit: Which limit: ``size``, ``file-kind``, ``depth``, ``aliases``, ``non-finite``,
            ``encoding``.
    """

    def __init__(self, problem: Problem, limit: str) -> None:
        super().__init__(str(problem), path=problem.path, line=problem.line,
                         column=problem.column, limit=limit)
        self.problem = problem


class InvalidInventory(_FileProblems):
    """A network inventory (GML, GraphML, CSV) with one or more problems."""

    kind = "inventory"


class InvalidHazard(InvalidInput):
    """Hazard parameters that cannot be evaluated."""


class InvalidReference(InvalidInput):
    """A failure reference such as ``site:X`` that does not resolve."""


class AnalysisError(GeoresilError):
    """An analysis could not be completed."""


class DrillError(GeoresilError):
    """A drill did not complete as planned."""


class StepFailed(DrillError):
    """A drill step failed."""


class DrillInterrupted(DrillError):
    """A drill was interrupted by a signal or an abort request."""


class RollbackFailed(DrillError):
    """A rollback step failed: the world may be in an intermediate state."""


class SafetyViolation(DrillError):
    """A safety rule was broken: lock held, split-brain, world differs from the journal."""


class CloudError(GeoresilError):
    """A cloud call failed."""

    exit_code = 3


class Throttled(CloudError):
    """The endpoint throttled the request."""


class Unavailable(CloudError):
    """The endpoint could not be reached or answered with a server error."""


class AccessDenied(CloudError):
    """The credentials may not do this."""


class NotFound(CloudError):
    """The named resource does not exist."""


class ProvisionError(GeoresilError):
    """Provisioning failed."""

    exit_code = 3


class PolicyViolation(ProvisionError):
    """A provisioned resource breaks a policy rule."""


class ToolMissing(ProvisionError):
    """A required external tool is not installed."""

    exit_code = 2


class Interrupted(GeoresilError):
    """A workflow (e.g. ``georesil demo``) stopped by Ctrl-C or SIGTERM; the message names
    the drill run in flight and what to do next."""

    exit_code = 130
