"""One lab site: a moto server on 127.0.0.1 behind the fault wrapper, that can go dark.

Run as ``python -m georesil.lab.server --site S --state-dir D [--port P] [--port-file F]``
(``georesil lab up`` does this, detached). ``--port 0`` binds a free port and writes the
number to ``--port-file``.

Outages (``lab kill`` / ``lab revive``): moto keeps its state in memory, so the process must
live through an outage. On ``SIGUSR1`` the process closes its listening socket and shuts down
every open connection — clients see *connection refused* (new connections) or a reset
(kept-alive ones), exactly like a dead site — while the moto backends stay in memory. On
``SIGUSR2`` it binds the same port again and serves the same data. ``SIGTERM``/``SIGINT``
end the process (the data is gone with it: ``lab down``).

Signal handlers only record the wish; the main thread applies it, because a serving loop
cannot be shut down from inside itself.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import ThreadedWSGIServer

from georesil._atomic import write_atomic
from georesil.lab.faults import FaultInjector
from georesil.lab.state import PROCESS_MARKER, faults_path, read_admin_token

__all__ = ["SiteServer", "TrackingServer", "build_app", "main"]


class SiteServer:
    """A werkzeug server for one WSGI app that can stop listening and start again.

    Args:
        app: The WSGI application (kept across outages).
        host: Address to bind.
        port: Port to bind; 0 picks a free one, kept for every later :meth:`listen`.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: TrackingServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None

    def listen(self) -> int:
        """Bind and serve in a background thread; returns the port."""
        if self._server is not None:
            return self.port
        server = TrackingServer(self.host, self.port, self.app)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="lab-http",
                                        daemon=True)
        self._thread.start()
        return self.port

    def go_dark(self) -> None:
        """Stop listening and cut every open connection; the app (and its data) stays."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.cut_connections()
        if self._thread is not None:
            self._thread.join(timeout=10)


class TrackingServer(ThreadedWSGIServer):
    """A threaded werkzeug server that remembers its open connections, to cut them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self._open_lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


def build_app(site: str, state_dir: Path) -> FaultInjector:
    """moto's multi-service WSGI app behind the fault wrapper (``/moto-api/`` only with the
    lab's admin token)."""
    return FaultInjector(DomainDispatcherApplication(create_backend_app),
                         faults_path(state_dir, site), site,
                         admin_token=read_admin_token(state_dir))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m georesil.lab.server``."""
    parser = argparse.ArgumentParser(prog=f"python -m {PROCESS_MARKER}")
    parser.add_argument("--site", required=True)
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    # Sovereign sites sign for regions AWS does not have (e.g. 'tw-north-1').
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "true")

    server = SiteServer(build_app(args.site, args.state_dir), port=args.port)
    wishes: list[str] = []
    wake = threading.Event()

    def wish(name: str) -> Any:
        def handler(_signum: int, _frame: Any) -> None:
            wishes.append(name)
            wake.set()
        return handler

    signal.signal(signal.SIGUSR1, wish("dark"))
    signal.signal(signal.SIGUSR2, wish("listen"))
    signal.signal(signal.SIGTERM, wish("exit"))
    signal.signal(signal.SIGINT, wish("exit"))

    port = server.listen()
    if args.port_file:
        write_atomic(args.port_file, f"{port}\n")
    while True:
        if not wake.wait(timeout=1.0):
            continue
        wake.clear()
        while wishes:
            what = wishes.pop(0)
            if what == "exit":
                server.go_dark()
                os._exit(0)  # daemon threads and moto need no orderly teardown
            if what == "dark":
                server.go_dark()
            elif what == "listen":
                server.listen()


if __name__ == "__main__":
    main()
