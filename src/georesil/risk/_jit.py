"""Small loops compiled by numba on first use.

numba is imported inside :func:`compiled`, like the analysis kernel's ``_compiled``: importing
:mod:`georesil.risk` must stay light (``georesil --help`` never loads numba), and the loops
below are plain Python that the tests can also run uncompiled.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

__all__ = ["compiled"]


@functools.cache
def compiled(fn: Callable[..., Any], *helpers: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with ``numba.njit(cache=True)`` (machine code cached on disk).

    ``helpers`` are the plain functions ``fn`` calls: each is compiled too, and ``fn`` is
    rebuilt from its code in a namespace where their names are the compiled versions (as the
    analysis kernel does), so the plain ``fn`` keeps calling the plain helpers.
    """
    from numba import njit  # heavy (about a second): only when trials run

    if not helpers:
        return njit(cache=True)(fn)
    env = dict(fn.__globals__)
    for helper in helpers:
        env[helper.__name__] = compiled(helper)
    return njit(cache=True)(types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__,
                                               fn.__closure__))
