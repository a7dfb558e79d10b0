"""Small loops compiled by numba on first use.

numba is imported inside :func:`compiled`, like the analysis kernel's ``_compiled``: importing
:mod:`georesil.risk` must stay light (``georesil --help`` never loads numba), and the loops
below are plain Python that the tests can also run uncompiled.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["compiled", "load_numba"]

#: Imported by numba's CPU target only to learn whether np.correlate / np.convolve may call
#: BLAS; through scipy.linalg it costs about 0.2 s (pydoc, f2py, …). georesil uses neither.
_BLAS_PROBE = "scipy.linalg.cython_blas"


@functools.cache
def load_numba() -> Callable[..., Any]:
    """numba's ``njit``, with numba's CPU target loaded (about 0.3 s, once per process).

    The target is loaded as numba loads it where scipy is not installed (scipy is not a
    dependency of georesil): its BLAS probe finds no scipy, and np.correlate / np.convolve
    compiled in this process use numba's own loop. np.dot and np.linalg, when compiled,
    still import scipy's BLAS as usual. Call before the analysis kernel's first compiled
    evaluation: the first function numba loads loads the target.
    """
    hide = _BLAS_PROBE not in sys.modules
    if hide:
        sys.modules[_BLAS_PROBE] = None  # type: ignore[assignment]  # import raises
    try:
        from numba import njit  # heavy: only when trials run

        njit(cache=True)(_loaded)()
    finally:
        if hide and _BLAS_PROBE in sys.modules and sys.modules[_BLAS_PROBE] is None:
            del sys.modules[_BLAS_PROBE]
    return njit


def _loaded() -> int:
    return 0


@functools.cache
def compiled(fn: Callable[..., Any], *helpers: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled with ``numba.njit(cache=True)`` (machine code cached on disk).

    ``helpers`` are the plain functions ``fn`` calls: each is compiled too, and ``fn`` is
    rebuilt from its code in a namespace where their names are the compiled versions (as the
    analysis kernel does), so the plain ``fn`` keeps calling the plain helpers.
    """
    njit = load_numba()
    if not helpers:
        return njit(cache=True)(fn)  # type: ignore[no-any-return]
    env = dict(fn.__globals__)
    for helper in helpers:
        env[helper.__name__] = compiled(helper)
    return njit(cache=True)(  # type: ignore[no-any-return]
        types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__))
