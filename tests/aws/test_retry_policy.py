"""The shared retry policy: what it retries, when it stops, what it logs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from structlog.testing import capture_logs
from tenacity import wait_exponential_jitter, wait_none

from georesil.cloud import retry_policy
from georesil.errors import AccessDenied, CloudError, NotFound, Throttled, Unavailable


def flaky(errors: list[Exception], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """A function raising ``errors`` one per call, then returning ``result``."""
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return fn, calls


def throttled() -> Throttled:
    return Throttled("slow down", site="south", service="s3", operation="PutObject",
                     code="SlowDown")


def test_transient_errors_are_retried_until_success() -> None:
    """Throttled and Unavailable are retried; the eventual result is returned."""
    fn, calls = flaky([throttled(), Unavailable("5xx", sent=True), throttled()])
    assert retry_policy(wait=wait_none())(fn) == "ok"
    assert len(calls) == 4


def test_every_retry_is_logged_with_attempt_and_sleep() -> None:
    """Each retry logs retry.scheduled with attempt, sleep_s, error, operation and site."""
    fn, _ = flaky([throttled(), throttled()])
    with capture_logs() as logs:
        retry_policy(wait=wait_none())(fn)
    events = [e for e in logs if e["event"] == "retry.scheduled"]
    assert [e["attempt"] for e in events] == [1, 2]
    assert events[0]["sleep_s"] == 0.0 and events[0]["error"] == "Throttled"
    assert events[0]["operation"] == "PutObject" and events[0]["site"] == "south"


@pytest.mark.parametrize("error", [AccessDenied("no"), NotFound("gone"), CloudError("invalid"),
                                   ValueError("bug")])
def test_permanent_errors_are_never_retried(error: Exception) -> None:
    """Access denied, not found, validation errors and bugs fail on the first attempt."""
    fn, calls = flaky([error, error])
    with pytest.raises(type(error)):
        retry_policy(wait=wait_none())(fn)
    assert len(calls) == 1


def test_gives_up_after_the_attempt_budget_with_the_last_error() -> None:
    """After ``attempts`` failures the last error itself is raised (reraise=True)."""
    errors = [throttled() for _ in range(10)]
    fn, calls = flaky(errors)
    with pytest.raises(Throttled) as info:
        retry_policy(attempts=3, wait=wait_none())(fn)
    assert len(calls) == 3 and info.value is errors[2]


def test_deadline_bounds_retries() -> None:
    """A zero deadline stops after the first failure whatever the attempt budget."""
    fn, calls = flaky([throttled() for _ in range(10)])
    with pytest.raises(Throttled):
        retry_policy(attempts=10, deadline_s=0, wait=wait_none())(fn)
    assert len(calls) == 1


def test_non_idempotent_calls_are_not_retried_after_midflight_failure() -> None:
    """A non-idempotent call that may have reached the server is not retried."""
    fn, calls = flaky([Unavailable("reset", sent=True)])
    with pytest.raises(Unavailable):
        retry_policy(idempotent=False, wait=wait_none())(fn)
    assert len(calls) == 1


def test_non_idempotent_calls_are_retried_when_never_sent() -> None:
    """A refused connection (sent=False) or a throttle is safe to retry for any call."""
    fn, calls = flaky([Unavailable("refused", sent=False), throttled()])
    assert retry_policy(idempotent=False, wait=wait_none())(fn) == "ok"
    assert len(calls) == 3


def test_default_wait_is_capped_exponential_backoff_with_jitter() -> None:
    """By default the policy backs off exponentially with jitter, capped at max_wait_s."""
    policy = retry_policy(max_wait_s=2.5)
    assert isinstance(policy.wait, wait_exponential_jitter)
    assert policy.wait.max == 2.5
