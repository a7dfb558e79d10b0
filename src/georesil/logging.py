"""Logging set-up: structlog, console on a TTY and JSON otherwise, with secrets redacted.

Libraries only do ``log = structlog.get_logger(__name__)``; the CLI calls
:func:`configure_logging` once.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

__all__ = ["REDACTED", "configure_logging", "redact_secrets"]

REDACTED = "***"
_SECRET_KEY = re.compile(r"secret|token|password|passwd|authorization|credential|session_key",
                         re.IGNORECASE)
# AWS-style secret values that might hide inside strings (e.g. in an exception message).
_SECRET_VALUE = re.compile(
    r"(?i)(aws_secret_access_key|secret_access_key|SecretAccessKey|x-amz-security-token)"
    r"(['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"
)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SECRET_VALUE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub(v) for v in value)
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace values of secret-looking keys, and secrets inside strings."""
    for key in list(event_dict):
        if _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(
    fmt: Literal["auto", "console", "json"] = "auto",
    level: str = "warning",
    stream: TextIO | None = None,
) -> None:
    """Configure structlog for the process.

    Args:
        fmt: ``console`` (coloured, for people), ``json`` (one object per line), or ``auto``:
            console on a TTY, JSON otherwise.
        level: minimum level name (``debug``, ``info``, ``warning``, ``error``).
        stream: where logs go (standard error by default, keeping standard output for results).
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
