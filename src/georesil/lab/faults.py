"""Faults on demand: a WSGI wrapper in front of a lab site's moto app.

A share of requests is answered with a throttling error, a server error or access denied,
and every request can be delayed. Each error is written in the wire format of the protocol
the client speaks, so botocore parses it into the code a real endpoint would send:

- S3 (rest-xml): throttle 503 ``SlowDown``, error 500 ``InternalError``,
  deny 403 ``AccessDenied``;
- JSON protocols (``X-Amz-Target``): 400 ``ThrottlingException``, 500 ``InternalServerError``,
  400 ``AccessDeniedException``;
- query/XML protocols: 400 ``Throttling``, 500 ``InternalFailure``, 403 ``AccessDenied``.

The settings live in a small JSON file (:class:`FaultSettings`) that ``georesil lab fault``
rewrites atomically; the wrapper re-reads it whenever its modification time changes, so faults
change without restarting the server. ``GET /_georesil/health`` is answered by the wrapper
itself and is never faulted.

moto's own control API (``/moto-api/``: reset, seed, state transitions...) would let anyone
who can reach the port wipe a site without a signature. The wrapper refuses it (403) unless
the request carries the lab's admin token in :data:`ADMIN_HEADER`; the token is minted per
lab by ``lab up`` into ``.georesil/lab/admin-token`` (0600), so only the lab's owner holds it.
"""

from __future__ import annotations

import hmac
import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from georesil._atomic import write_atomic
from georesil.errors import InvalidInput

__all__ = [
    "ADMIN_HEADER",
    "HEALTH_PATH",
    "MOTO_API_PREFIX",
    "FaultInjector",
    "FaultSettings",
    "read_faults",
    "write_faults",
]

#: Every lab server answers ``GET HEALTH_PATH`` with its site, PID and faults (never faulted).
HEALTH_PATH = "/_georesil/health"
#: moto's unsigned control API, refused without the lab-admin token.
MOTO_API_PREFIX = "/moto-api"
#: The request header carrying the lab-admin token.
ADMIN_HEADER = "X-Georesil-Lab-Admin"
_ADMIN_ENVIRON = "HTTP_" + ADMIN_HEADER.upper().replace("-", "_")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class FaultSettings:
    """Shares of requests to fail (0..1, applied in this order) and added latency."""

    throttle: float = 0.0
    error: float = 0.0
    deny: float = 0.0
    latency_ms: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("throttle", "error", "deny"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInput(f"fault --{name}: got {value}; allowed: a share from 0 to 1",
                                   field=name, value=value)
        if self.throttle + self.error + self.deny > 1.0:
            raise InvalidInput(
                f"faults: throttle + error + deny = {self.throttle + self.error + self.deny:g}"
                " exceeds 1", field="faults")
        if self.latency_ms < 0:
            raise InvalidInput(f"fault --latency-ms: got {self.latency_ms}; must be >= 0",
                               field="latency_ms", value=self.latency_ms)

    @property
    def active(self) -> bool:
        return bool(self.throttle or self.error or self.deny or self.latency_ms)


def read_faults(path: Path) -> FaultSettings:
    """The settings in ``path``; no file means no faults."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        return FaultSettings()
    return FaultSettings(**data)


def write_faults(path: Path, settings: FaultSettings) -> None:
    """Replace the settings atomically (a server reads the old or the new, never half)."""
    write_atomic(Path(path), json.dumps(asdict(settings), indent=2) + "\n")


class FaultInjector:
    """WSGI middleware that injects the faults configured in ``path``.

    Args:
        app: The wrapped WSGI application (moto's dispatcher).
        path: The fault-settings file; read again whenever its mtime changes.
        site: The lab site this server plays (reported by the health endpoint).
        sleep: Injected for tests.
        admin_token: The token a ``/moto-api/`` request must carry in :data:`ADMIN_HEADER`;
            ``None`` refuses every such request.
    """

    def __init__(self, app: WSGIApp, path: Path, site: str,
                 sleep: Callable[[float], None] = time.sleep,
                 admin_token: str | None = None) -> None:
        self.app = app
        self.path = Path(path)
        self.site = site
        self._admin_token = admin_token
        self._sleep = sleep
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._settings = FaultSettings()
        self._rng = random.Random()

    def settings(self) -> FaultSettings:
        """The current settings, re-read when the file changed."""
        try:
            stamp: float | None = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    try:
                        self._settings = read_faults(self.path)
                    except (ValueError, TypeError, InvalidInput):
                        self._settings = FaultSettings()  # a bad file must not kill the site
                    self._rng = random.Random(self._settings.seed)
                    self._stamp = stamp
        return self._settings

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return self._health(start_response)
        if _is_moto_api(environ) and not self._is_admin(environ):
            return self._refuse_admin(environ, start_response)
        faults = self.settings()
        if not faults.active:
            return self.app(environ, start_response)
        if faults.latency_ms:
            self._sleep(faults.latency_ms / 1000.0)
        with self._lock:
            draw = self._rng.random()
        kind = ("throttle" if draw < faults.throttle else
                "error" if draw < faults.throttle + faults.error else
                "deny" if draw < faults.throttle + faults.error + faults.deny else None)
        if kind is None:
            return self.app(environ, start_response)
        _drain(environ)
        status, content_type, body = _error_response(kind, _protocol(environ))
        start_response(status, [("Content-Type", content_type),
                                ("Content-Length", str(len(body))),
                                ("x-georesil-fault", kind)])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    def _is_admin(self, environ: dict[str, Any]) -> bool:
        given = environ.get(_ADMIN_ENVIRON)
        return (self._admin_token is not None and isinstance(given, str)
                and hmac.compare_digest(given.encode(), self._admin_token.encode()))

    def _refuse_admin(self, environ: dict[str, Any],
                      start_response: StartResponse) -> Iterable[bytes]:
        _drain(environ)
        body = json.dumps({"error": "georesil lab: moto's /moto-api/ is refused without the "
                           f"lab-admin token ({ADMIN_HEADER}); see docs/security.md"}).encode()
        start_response("403 Forbidden", [("Content-Type", "application/json"),
                                         ("Content-Length", str(len(body)))])
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else body]

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        body = json.dumps({"site": self.site, "pid": os.getpid(),
                           "faults": asdict(self.settings())}).encode()
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]


def _is_moto_api(environ: dict[str, Any]) -> bool:
    """Whether moto would route this request to its control API.

    moto routes on ``PATH_INFO.startswith("/moto-api")``; routing may also collapse repeated
    slashes, so the first path segment is compared after decoding and collapsing them.
    """
    path = environ.get("PATH_INFO") or ""
    if isinstance(path, bytes):
        path = path.decode("utf-8", errors="replace")
    segments = [seg for seg in unquote(str(path)).split("/") if seg]
    return bool(segments) and segments[0].lower().startswith(MOTO_API_PREFIX.lstrip("/"))


def _drain(environ: dict[str, Any]) -> None:
    """Read the request body so a kept-alive connection stays in step."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    if environ.get("wsgi.input_terminated"):
        while stream.read(65536):
            pass
        return
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)


def _protocol(environ: dict[str, Any]) -> str:
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    auth = environ.get("HTTP_AUTHORIZATION", "")
    # Credential=AKID/20260101/region/SERVICE/aws4_request
    scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/") if "Credential=" in auth \
        else []
    service = scope[3] if len(scope) >= 5 else ""
    return "s3" if service == "s3" or not auth else "query"


_CODES = {
    "s3": {"throttle": ("503 Slow Down", "SlowDown", "Please reduce your request rate."),
           "error": ("500 Internal Server Error", "InternalError",
                     "We encountered an internal error. Please try again."),
           "deny": ("403 Forbidden", "AccessDenied", "Access Denied")},
    "json": {"throttle": ("400 Bad Request", "ThrottlingException", "Rate exceeded"),
             "error": ("500 Internal Server Error", "InternalServerError", "Internal error"),
             "deny": ("400 Bad Request", "AccessDeniedException",
                      "User is not authorized to perform this action")},
    "query": {"throttle": ("400 Bad Request", "Throttling", "Rate exceeded"),
              "error": ("500 Internal Server Error", "InternalFailure", "Internal failure"),
              "deny": ("403 Forbidden", "AccessDenied",
                       "User is not authorized to perform this action")},
}


def _error_response(kind: str, protocol: str) -> tuple[str, str, bytes]:
    status, code, message = _CODES[protocol][kind]
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, "application/x-amz-json-1.0", body
    if protocol == "s3":
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
               f"<Message>{message}</Message><RequestId>georesil-fault</RequestId></Error>")
        return status, "application/xml", xml.encode()
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
           f"<Message>{message}</Message></Error><RequestId>georesil-fault</RequestId>"
           "</ErrorResponse>")
    return status, "text/xml", xml.encode()
