"""The one retry policy for calls that cross the cloud boundary (tenacity).

Only transient errors are retried: :class:`~georesil.errors.Throttled` and
:class:`~georesil.errors.Unavailable`; never access denied, not found or a validation error.
Retries back off exponentially with jitter and stop at whichever comes first, a number of
attempts or a deadline. Every retry is logged as ``retry.scheduled``.

Non-idempotent calls (a delete marker, a DNS flip, a promotion) are never retried blindly:
they are retried only when the request certainly had no effect, that is

- the connection was never made (``Unavailable`` with ``sent=False``), or
- the endpoint throttled it: a throttling answer means the request was rejected before it
  was executed (the AWS SDKs retry throttles for every operation for the same reason).

A request that failed mid-flight (connection reset, read timeout, 5xx) may have taken effect,
so the caller must check the outcome (a probe) before trying again.
"""

from __future__ import annotations

from typing import Any

import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from georesil.errors import Throttled, Unavailable

__all__ = ["TRANSIENT", "is_retryable", "retry_policy"]

log = structlog.get_logger(__name__)

#: Errors that are worth another attempt.
TRANSIENT: tuple[type[Exception], ...] = (Throttled, Unavailable)


def is_retryable(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Whether ``exc`` may be retried, for an idempotent call or not."""
    if not isinstance(exc, TRANSIENT):
        return False
    if idempotent or isinstance(exc, Throttled):
        return True
    return getattr(exc, "sent", True) is False


def retry_policy(
    attempts: int = 6,
    deadline_s: float = 30.0,
    idempotent: bool = True,
    *,
    wait: wait_base | None = None,
    initial_s: float = 0.1,
    max_wait_s: float = 5.0,
) -> Retrying:
    """Build the shared retry policy.

    Args:
        attempts: At most this many attempts in all (the first call included).
        deadline_s: Stop retrying once this many seconds have passed since the first attempt.
        idempotent: ``False`` for calls that must not run twice; see the module docstring.
        wait: Override the wait strategy (tests pass ``tenacity.wait_none()``).
        initial_s: First backoff, doubled per attempt, plus up to ``initial_s`` of jitter.
        max_wait_s: Cap on one backoff.

    Returns:
        A fresh ``tenacity.Retrying``; use it as ``policy(fn, *args)`` or in a
        ``for attempt in policy`` loop. The last error is re-raised when it gives up.
    """
    return Retrying(
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline_s),
        wait=wait if wait is not None else wait_exponential_jitter(
            multiplier=initial_s, max=max_wait_s, jitter=initial_s),
        retry=retry_if_exception(lambda exc: is_retryable(exc, idempotent=idempotent)),
        before_sleep=_log_retry,
        reraise=True,
    )


def _log_retry(state: RetryCallState) -> None:
    exc: Any = state.outcome.exception() if state.outcome else None
    log.warning(
        "retry.scheduled",
        attempt=state.attempt_number,
        sleep_s=round(state.next_action.sleep if state.next_action else 0.0, 3),
        error=type(exc).__name__ if exc else None,
        code=getattr(exc, "code", None),
        operation=getattr(exc, "operation", None),
        site=getattr(exc, "site", None),
        service=getattr(exc, "service", None),
    )
