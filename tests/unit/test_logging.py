"""Logging: secrets never reach a log line; JSON output is one object per line."""

from __future__ import annotations

import io
import json

import structlog

from georesil.logging import REDACTED, configure_logging

FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def _log_to_buffer(**event: object) -> str:
    buf = io.StringIO()
    configure_logging("json", "debug", stream=buf)
    try:
        structlog.get_logger("test").info("cloud.client_created", **event)
    finally:
        structlog.reset_defaults()
    return buf.getvalue()


def test_secret_keys_are_redacted() -> None:
    """Values under secret-looking keys are replaced, at any depth."""
    out = _log_to_buffer(aws_secret_access_key=FAKE_SECRET,
                         config={"session_token": FAKE_SECRET, "region": "ap-east-2"})
    assert FAKE_SECRET not in out
    record = json.loads(out)
    assert record["aws_secret_access_key"] == REDACTED
    assert record["config"] == {"session_token": REDACTED, "region": "ap-east-2"}


def test_secrets_inside_strings_are_redacted() -> None:
    """A secret embedded in a message string (an exception text, say) is masked."""
    out = _log_to_buffer(error=f"bad credentials aws_secret_access_key={FAKE_SECRET} for x")
    assert FAKE_SECRET not in out
    assert "aws_secret_access_key=***" in out


def test_json_logs_are_one_object_per_line() -> None:
    """Each event is a JSON object with the event name, level and timestamp."""
    out = _log_to_buffer(site="tainan-ngcc", duration_s=1.5)
    (line,) = out.splitlines()
    record = json.loads(line)
    assert record["event"] == "cloud.client_created"
    assert record["level"] == "info"
    assert record["site"] == "tainan-ngcc" and "timestamp" in record


def test_level_filters_events() -> None:
    """Events below the configured level are dropped."""
    buf = io.StringIO()
    configure_logging("json", "warning", stream=buf)
    try:
        structlog.get_logger("test").info("drill.started")
        structlog.get_logger("test").warning("drill.deviated")
    finally:
        structlog.reset_defaults()
    assert [json.loads(x)["event"] for x in buf.getvalue().splitlines()] == ["drill.deviated"]
