"""Small loops compiled by numba on first use.

numba is imported inside :func:`compiled`, like the analysis kernel's ``_compiled``: importing
:mod:`georesil.risk` must stay light (``georesil --help`` never loads numba), and the loops
below are plain Python that the tests can also run uncompiled.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = ["compiled"]


@functools.cache
def compiled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with ``numba.njit(cache=True)`` (machine code cached on disk)."""
    from numba import njit  # heavy (about a second): only when trials run

    return njit(cache=True)(fn)
