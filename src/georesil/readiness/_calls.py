"""How a check turns a cloud call's outcome into a verdict, in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from georesil.errors import AccessDenied, CloudError, NotFound, Throttled, Unavailable
from georesil.readiness.results import CheckResult, CheckStatus

__all__ = ["Outcome", "attempt"]


class Outcome:
    """The answer of one cloud call, or the :class:`CheckResult` that replaces it."""

    def __init__(self, value: Any = None, result: CheckResult | None = None,
                 missing: bool = False) -> None:
        self.value = value
        self.result = result
        self.missing = missing


def attempt(check: str, service: str | None, site: str | None, call: Callable[[], Any],
            *, what: str) -> Outcome:
    """Run ``call``; a missing resource is ``missing``, an unreachable site a result row.

    Args:
        check: The check id the result rows carry.
        service: The service the call is about.
        site: The site it went to.
        call: The call (through :class:`~georesil.cloud.SiteClients`).
        what: What was asked, for the evidence ("versioning of bucket b").
    """
    try:
        return Outcome(call())
    except NotFound:
        return Outcome(missing=True)
    except (Unavailable, Throttled) as exc:
        return Outcome(result=CheckResult(
            check, CheckStatus.UNREACHABLE, service, site, f"cannot read {what}: {exc}",
            f"check that {site or 'the endpoint'} is up (`georesil lab status` in a lab)"))
    except AccessDenied as exc:
        return Outcome(result=CheckResult(
            check, CheckStatus.FAIL, service, site, f"access denied reading {what}: {exc}",
            "give the readiness credentials read access (s3:Get*, route53:Get*/List*, "
            "dynamodb:GetItem/Scan/DescribeTable, ssm:GetParameter)"))
    except CloudError as exc:
        return Outcome(result=CheckResult(
            check, CheckStatus.FAIL, service, site, f"reading {what} failed: {exc}",
            "see the error; the resource may be misconfigured"))
