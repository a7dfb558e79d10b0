"""What a readiness run finds: one :class:`CheckResult` per check and subject, drift, a verdict."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckResult", "CheckStatus", "DriftItem", "ReadinessReport"]


class CheckStatus(enum.StrEnum):
    """A check's verdict, from best to worst; ``skipped`` when what it needs was unavailable."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"

    @property
    def gauge(self) -> int:
        """The value exported as ``georesil_readiness_status`` (0 ok … 3 unreachable, 4 skipped)."""
        return list(CheckStatus).index(self)


@dataclass(frozen=True)
class CheckResult:
    """One check of one subject (a bucket, a record, a service's register entry, ...).

    Attributes:
        check: The registered check id, e.g. ``storage.versioning``.
        status: The verdict.
        service: The service checked, when the check is per service.
        site: The site checked, when the check is per site.
        evidence: What was seen, in words.
        fix: What to do when the status is not ok (``None`` when ok).
        value: A number behind the verdict, exported as a metric where one is defined
            (replication lag seconds, drill age seconds, ...).
    """

    check: str
    status: CheckStatus
    service: str | None
    site: str | None
    evidence: str
    fix: str | None = None
    value: float | None = None

    @property
    def subject(self) -> str:
        """``service@site``, ``service``, ``site`` or ``-``."""
        if self.service and self.site:
            return f"{self.service}@{self.site}"
        return self.service or self.site or "-"

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "status": self.status.value, "service": self.service,
                "site": self.site, "evidence": self.evidence, "fix": self.fix,
                "value": self.value}


@dataclass(frozen=True)
class DriftItem:
    """A difference between the model and what is deployed.

    Attributes:
        kind: ``unmanaged`` (deployed, unknown to the model) or ``missing`` (in the model,
            nothing deployed).
        resource: What kind of resource (``bucket``, ``dns-record``, ``health-check``, ...).
        name: Its name or id.
        site: Where, when it belongs to a site.
        detail: Why it counts as drift.
    """

    kind: str
    resource: str
    name: str
    site: str | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "resource": self.resource, "name": self.name,
                "site": self.site, "detail": self.detail}


@dataclass(frozen=True)
class ReadinessReport:
    """A whole readiness run."""

    topology: str
    started_at: float
    duration_s: float
    results: tuple[CheckResult, ...]
    drift: tuple[DriftItem, ...]

    def counts(self) -> dict[str, int]:
        """How many results have each status (every status present, zero or not)."""
        seen = Counter(r.status for r in self.results)
        return {status.value: seen.get(status, 0) for status in CheckStatus}

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, 1 when a check failed, 3 when only reachability stopped it."""
        statuses = {r.status for r in self.results}
        if CheckStatus.FAIL in statuses:
            return 1
        if CheckStatus.UNREACHABLE in statuses:
            return 3
        return 0

    def failing(self) -> list[CheckResult]:
        """Results that are not ok or skipped, worst first."""
        order = [CheckStatus.FAIL, CheckStatus.UNREACHABLE, CheckStatus.WARN]
        bad = [r for r in self.results if r.status in order]
        return sorted(bad, key=lambda r: order.index(r.status))

    def to_json(self) -> dict[str, Any]:
        return {"topology": self.topology, "started_at": self.started_at,
                "duration_s": round(self.duration_s, 3), "exit_code": self.exit_code,
                "counts": self.counts(), "checks": [r.to_json() for r in self.results],
                "drift": [d.to_json() for d in self.drift]}
