"""What a report is rendered from: typed results, never JSON.

:class:`ReportInputs` holds the topology, the analysis, the two simulations, the drill
evidence and the advice derived from them, each ``None`` (or empty) where it was not produced.
:mod:`georesil.app.report` collects them; the renderers read them as they are.
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

__all__ = ["DrillEvidence", "ReportInputs"]


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

    def __post_init__(self) -> None:
        problems = []
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
