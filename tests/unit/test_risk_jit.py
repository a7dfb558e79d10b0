"""numba is loaded for the risk loops without scipy's BLAS probe, and still works."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CHECK = textwrap.dedent("""
    import sys
    import numpy as np
    from georesil.risk._bits import popcount
    assert "numba" not in sys.modules
    assert popcount(np.array([[3, 1]], np.uint64), np.uint64(2**64 - 1)).tolist() == [3]
    print("scipy.linalg" in sys.modules, "scipy.linalg.cython_blas" in sys.modules)
    from numba import njit
    x = np.arange(4.0)
    assert njit(lambda a: np.dot(a, a))(x) == 14.0  # BLAS, imported when compiled
""")


def test_numba_loaded_without_blas_probe() -> None:
    """The first compiled loop loads numba without scipy.linalg; np.dot still compiles."""
    pytest.importorskip("scipy")
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
