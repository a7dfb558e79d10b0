"""Progress of long-running work, and stopping it with Ctrl-C.

Commands pass the callback of :func:`progress` as the ``progress(done, total)`` parameter of
the library functions that take one (``simulate_snapshot``, ``simulate_years``, ...):

    with progress("simulating", "trials") as tick:
        result = simulate_snapshot(topology, trials, progress=tick)

Where the progress goes (standard error only, so ``--json`` output stays clean):

* standard error is a terminal: a rich progress bar, shown once the work has taken
  :data:`SHOW_AFTER_S` and removed when it ends;
* the ``CI`` environment variable is set (a CI log): one plain line per 10 %;
* otherwise: nothing.

Ctrl-C: :func:`interruptible` (installed by ``georesil.cli.main``) turns SIGINT into
:class:`Interrupted`, a ``BaseException`` that no ``except Exception`` swallows and that
typer does not turn into a silent exit; the code in flight unwinds (engines stop their
worker processes on the way out) and ``main`` prints one line and exits with 130.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["EXIT_INTERRUPTED", "SHOW_AFTER_S", "Interrupted", "interruptible", "progress"]

#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: A bar appears only for work that has already taken this long.
SHOW_AFTER_S = 0.5
_CI_STEP = 10  # percent between plain progress lines

Tick = Callable[[int, int], None]


class Interrupted(BaseException):  # noqa: N818 - named after what happened, like KeyboardInterrupt
    """The user pressed Ctrl-C (SIGINT): stop and exit with :data:`EXIT_INTERRUPTED`."""


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGINT raises :class:`Interrupted` (main thread only)."""
    try:
        previous = signal.signal(signal.SIGINT, _raise_interrupted)
    except ValueError:  # not the main thread: leave Ctrl-C to whoever owns it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def progress(description: str, unit: str = "") -> Iterator[Tick]:
    """A ``tick(done, total)`` callback showing progress on standard error (see the module)."""
    if sys.stderr.isatty():
        with _bar(description) as tick:
            yield tick
    elif os.environ.get("CI"):
        yield _lines(description, unit)
    else:
        yield _quiet


def _quiet(done: int, total: int) -> None:
    return None


def _lines(description: str, unit: str) -> Tick:
    shown = [-1]

    def tick(done: int, total: int) -> None:
        step = _CI_STEP * (100 * done // max(total, 1) // _CI_STEP)
        if step > shown[0]:
            shown[0] = step
            what = f" {unit}" if unit else ""
            sys.stderr.write(f"{description}: {step}% ({done:,}/{total:,}{what})\n")
            sys.stderr.flush()

    return tick


@contextmanager
def _bar(description: str) -> Iterator[Tick]:
    from rich.console import Console  # rich's progress machinery: only when it is shown
    from rich.progress import Progress

    start = time.monotonic()
    state: dict[str, Any] = {}

    def tick(done: int, total: int) -> None:
        if "bar" not in state:
            if time.monotonic() - start < SHOW_AFTER_S:
                return
            state["bar"] = Progress(console=Console(stderr=True), transient=True)
            state["bar"].start()
            state["task"] = state["bar"].add_task(description, total=total)
        state["bar"].update(state["task"], completed=done, total=total)

    try:
        yield tick
    finally:
        if "bar" in state:
            state["bar"].stop()
