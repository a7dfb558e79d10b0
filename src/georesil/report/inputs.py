"""What a report is rendered from: typed results, never JSON.

:class:`ReportInputs` holds the topology, the analysis, the two simulations, the drill
evidence, the readiness evidence and the advice derived from them, each ``None`` (or empty)
where it was not produced. :mod:`georesil.app.report` collects them; the renderers read them as
they are. The readiness evidence has its own types here (:class:`ReadinessEvidence`): the
report imports only the core, so :mod:`georesil.app.report` copies the saved readiness runs
into them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from georesil.advice import Advice
from georesil.analysis import Analysis
from georesil.errors import InvalidInput
from georesil.model import Topology
from georesil.risk import AnnualResult, SnapshotResult

__all__ = [
    "READINESS_STATUSES",
    "DrillEvidence",
    "ReadinessDrift",
    "ReadinessEvidence",
    "ReadinessRow",
    "ReadinessRun",
    "ReportInputs",
]

#: The readiness statuses, best to worst then ``skipped`` (``georesil readiness``'s own words,
#: docs/readiness.md).
READINESS_STATUSES = ("ok", "warn", "fail", "unreachable", "skipped")


@dataclass(frozen=True)
class DrillEvidence:
    """One past drill as the report shows it: what was measured, targeted and predicted.

    The fields are those of ``georesil drill history --json`` (docs/runbooks.md); ``mode`` and
    ``status`` are the drill's own words (``planned``, ``completed``, ...).
    """

    run_id: str
    runbook: str
    mode: str
    status: str
    started_at: str
    rto_s: float | None
    rpo_s: float | None
    rpo_objects: int | None
    rto_target_s: float | None
    rpo_target_s: float | None
    predicted_rto_s: float | None
    predicted_rpo_s: float | None
    split_brain: bool

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> DrillEvidence:
        """One entry of the drill history (read back from a journal file)."""
        return cls(
            run_id=str(record["run_id"]), runbook=str(record.get("runbook") or "?"),
            mode=str(record.get("mode") or "?"), status=str(record.get("status") or "?"),
            started_at=str(record.get("started_at") or ""),
            rto_s=_float(record.get("rto_s")), rpo_s=_float(record.get("rpo_s")),
            rpo_objects=(None if record.get("rpo_objects") is None
                         else int(record["rpo_objects"])),
            rto_target_s=_float(record.get("rto_target_s")),
            rpo_target_s=_float(record.get("rpo_target_s")),
            predicted_rto_s=_float(record.get("predicted_rto_s")),
            predicted_rpo_s=_float(record.get("predicted_rpo_s")),
            split_brain=bool(record.get("split_brain")),
        )

    @property
    def rto_ok(self) -> bool | None:
        """Whether the measured RTO met its target (``None``: either is unknown)."""
        return _le(self.rto_s, self.rto_target_s)

    @property
    def rpo_ok(self) -> bool | None:
        """Whether the measured RPO met its target (``None``: either is unknown)."""
        return _le(self.rpo_s, self.rpo_target_s)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReadinessRow:
    """One readiness result that is not ok: what was checked, what was seen, what to do.

    The fields are those of ``georesil readiness --json`` (docs/readiness.md); ``subject`` is
    ``service@site``, ``service``, ``site`` or ``-``.
    """

    check: str
    status: str
    subject: str
    evidence: str
    fix: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReadinessDrift:
    """A difference between the model and what is deployed (``unmanaged`` or ``missing``)."""

    kind: str
    resource: str
    name: str
    site: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReadinessRun:
    """One saved readiness run, as the trend shows it: when, and how many results per status.

    Attributes:
        started_at: When it started (seconds since the epoch, UTC).
        counts: Results per status; every status of :data:`READINESS_STATUSES` is a key.
        drift: How many drift items it found.
    """

    started_at: float
    counts: Mapping[str, int]
    drift: int

    def __post_init__(self) -> None:
        unknown = sorted(set(self.counts) - set(READINESS_STATUSES))
        if unknown:
            raise InvalidInput(f"readiness run: unknown status(es) {', '.join(map(repr, unknown))}"
                               f"; allowed: {', '.join(READINESS_STATUSES)}", field="counts")
        object.__setattr__(self, "counts",
                           {s: int(self.counts.get(s, 0)) for s in READINESS_STATUSES})

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "counts": dict(self.counts),
                "drift": self.drift}


@dataclass(frozen=True)
class ReadinessEvidence:
    """The latest readiness run in full, and the counts of every saved run for the trend.

    Attributes:
        topology: The topology the runs checked.
        latest: The latest run's time and counts.
        duration_s: How long the latest run took.
        rows: Every result of the latest run that is not ok, worst first (fail, unreachable,
            warn, then skipped).
        drift: The latest run's drift.
        runs: Every saved run, oldest first; the latest is the last one.
    """

    topology: str
    latest: ReadinessRun
    duration_s: float
    rows: tuple[ReadinessRow, ...]
    drift: tuple[ReadinessDrift, ...]
    runs: tuple[ReadinessRun, ...] = ()

    def __post_init__(self) -> None:
        runs = sorted({r.started_at: r for r in (*self.runs, self.latest)}.values(),
                      key=lambda r: r.started_at)
        object.__setattr__(self, "runs", tuple(runs))

    def to_json(self) -> dict[str, Any]:
        return {"topology": self.topology, "started_at": self.latest.started_at,
                "duration_s": self.duration_s, "counts": dict(self.latest.counts),
                "total": self.latest.total, "rows": [r.to_json() for r in self.rows],
                "drift": [d.to_json() for d in self.drift],
                "runs": [r.to_json() for r in self.runs]}


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows, typed; ``None`` where a producer was skipped.

    Raises:
        InvalidInput: a result that names services or scenarios the topology does not have
            (it was computed from another topology).
    """

    topology: Topology
    analysis: Analysis | None
    snapshot: SnapshotResult | None
    annual: AnnualResult | None
    drills: tuple[DrillEvidence, ...] | None
    advice: Advice
    readiness: ReadinessEvidence | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.readiness is not None and self.readiness.topology != self.topology.name:
            problems.append(f"readiness: runs of topology {self.readiness.topology!r}")
        known = set(self.topology.services)
        for name, services in (("snapshot", self.snapshot and self.snapshot.services),
                               ("annual", self.annual and self.annual.services)):
            stray = sorted(set(services or ()) - known)
            if stray:
                problems.append(f"{name}: unknown service(s) {', '.join(map(repr, stray))}")
        stray = sorted(set(self.analysis.scenarios if self.analysis else ()) -
                       set(self.topology.scenarios))
        if stray:
            problems.append(f"analysis: unknown scenario(s) {', '.join(map(repr, stray))}")
        if problems:
            raise InvalidInput(
                f"report inputs do not belong to topology {self.topology.name!r}: "
                + "; ".join(problems) + "; compute them from the same topology",
                field=problems[0].split(":")[0])


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _le(value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    return value <= target
