"""Ground motion: the Lin (2009) crustal model for Taiwan, vectorised.

The median is

    ln PGA[g] = C1 + C3 (8.5 − M)² + f_M + (C4 + C5 (M − 6.3)) ln √(Rrup² + e^{2H})
                + C6 F_N + C7 F_R + C8 ln(Vs30 / 1130)

with f_M = C2 (M − 6.3) for M ≤ 6.3 and −H C5 (M − 6.3) above, F_N = 1 for normal and F_R = 1
for reverse faulting (both 0 for strike-slip). Coefficients are those of OpenQuake's
``lin_2009.py`` (Lin, P.-S., 2009, *Ground-motion attenuation relationship and path-effect study
using Taiwan Data set*, PhD thesis, National Central University), total σ_ln = 0.5363.

The lognormal scatter is split into an **inter-event** term η, drawn once per earthquake and
shared by every site, and **intra-event** terms ε, drawn per site:

    ln PGA = ln PGA_median + σ_inter η + σ_intra ε,   η, ε ~ N(0, 1)
    σ_inter = √f σ,  σ_intra = √(1 − f) σ             (f = ``inter_event_fraction``)

so that σ_inter² + σ_intra² = σ² and two sites of one event are correlated with coefficient f
(intra-event spatial correlation is not modelled: ε are independent between sites).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from georesil.errors import InvalidHazard

__all__ = [
    "LIN2009",
    "LIN2009_DOMAIN",
    "SIGMA_LN",
    "Mechanism",
    "Scatter",
    "ln_pga_median",
    "pga_median_g",
]

Mechanism = Literal["strike-slip", "normal", "reverse"]
FloatArray = npt.NDArray[np.float64]
ArrayLike = float | npt.ArrayLike

#: Lin (2009) PGA coefficients as in OpenQuake ``lin_2009.py``.
LIN2009: dict[str, float] = {
    "C1": 1.0109, "C2": 0.3822, "C3": 0.0, "C4": -1.1634, "C5": 0.1722,
    "H": 1.5184, "C6": -0.1907, "C7": 0.1322, "C8": -0.4741,
}
#: Where Lin (2009) was fitted (Taiwan's earthquakes): lat_min, lat_max, lon_min, lon_max.
#: A quake outside it is shaken with the model by extrapolation only.
LIN2009_DOMAIN = (21.0, 26.5, 119.0, 123.0)
#: Total standard deviation of ln PGA.
SIGMA_LN = 0.5363

_MECHANISMS: dict[str, tuple[float, float]] = {
    "strike-slip": (0.0, 0.0), "normal": (1.0, 0.0), "reverse": (0.0, 1.0),
}


def ln_pga_median(
    magnitude: ArrayLike,
    rrup_km: ArrayLike,
    vs30_m_s: ArrayLike = 760.0,
    mechanism: Mechanism = "strike-slip",
) -> FloatArray:
    """Median ln PGA (g) of Lin (2009); arguments broadcast against each other.

    Args:
        magnitude: Moment magnitude.
        rrup_km: Rupture distance in km (≥ 0).
        vs30_m_s: Average shear-wave velocity of the top 30 m, m/s (> 0).
        mechanism: ``strike-slip``, ``normal`` or ``reverse``.

    Raises:
        InvalidHazard: negative distance, non-positive Vs30 or an unknown mechanism.

    Notes:
        Lin (2009) as implemented in OpenQuake; check values (strike-slip, Vs30 = 760 m/s):
        M6 at 20 km → 0.075 g, M7 at 10 km → 0.227 g, M7 at 50 km → 0.047 g.
    """
    m = np.asarray(magnitude, dtype=np.float64)
    r = np.asarray(rrup_km, dtype=np.float64)
    v = np.asarray(vs30_m_s, dtype=np.float64)
    if mechanism not in _MECHANISMS:
        raise InvalidHazard(
            f"unknown faulting mechanism {mechanism!r}; allowed: {', '.join(_MECHANISMS)}",
            field="mechanism", value=mechanism,
        )
    if np.any(~np.isfinite(m)):
        raise InvalidHazard("magnitude must be a finite number", field="magnitude")
    if np.any(r < 0) or np.any(~np.isfinite(r)):
        raise InvalidHazard("rupture distance must be finite and ≥ 0 km", field="rrup_km")
    if np.any(v <= 0):
        raise InvalidHazard("vs30_m_s must be > 0 m/s", field="vs30_m_s")
    c = LIN2009
    f_n, f_r = _MECHANISMS[mechanism]
    dm = m - 6.3
    f_mag = np.where(m <= 6.3, c["C2"] * dm, -c["H"] * c["C5"] * dm)
    saturation = math.exp(c["H"]) ** 2
    f_dist = (c["C4"] + c["C5"] * dm) * 0.5 * np.log(r * r + saturation)
    f_site = c["C8"] * np.log(v / 1130.0)
    result = (c["C1"] + c["C3"] * (8.5 - m) ** 2 + f_mag + f_dist
              + c["C6"] * f_n + c["C7"] * f_r + f_site)
    return np.asarray(result, dtype=np.float64)


def pga_median_g(
    magnitude: ArrayLike,
    rrup_km: ArrayLike,
    vs30_m_s: ArrayLike = 760.0,
    mechanism: Mechanism = "strike-slip",
) -> FloatArray:
    """Median PGA in g of Lin (2009); see :func:`ln_pga_median`."""
    return np.exp(ln_pga_median(magnitude, rrup_km, vs30_m_s, mechanism))


@dataclass(frozen=True)
class Scatter:
    """Lognormal ground-motion scatter split into inter- and intra-event parts.

    Attributes:
        sigma_inter: Standard deviation of the event term, √f·σ.
        sigma_intra: Standard deviation of the per-site term, √(1 − f)·σ.
    """

    sigma_inter: float
    sigma_intra: float

    @classmethod
    def split(cls, sigma_ln: float = SIGMA_LN, inter_event_fraction: float = 0.5) -> Scatter:
        """Split a total σ_ln by the fraction ``f`` of its variance that is inter-event."""
        if not sigma_ln >= 0 or not 0 <= inter_event_fraction <= 1:
            raise InvalidHazard(
                f"need sigma_ln ≥ 0 and 0 ≤ inter_event_fraction ≤ 1; got sigma_ln={sigma_ln}, "
                f"inter_event_fraction={inter_event_fraction}",
                field="seismic",
            )
        f = inter_event_fraction
        return cls(math.sqrt(f) * sigma_ln, math.sqrt(1.0 - f) * sigma_ln)

    def sample(self, median_ln: FloatArray, rng: np.random.Generator) -> FloatArray:
        """ln PGA for each event (rows) and element (columns) around ``median_ln``."""
        median = np.atleast_2d(median_ln)
        eta = rng.standard_normal((median.shape[0], 1))
        eps = rng.standard_normal(median.shape)
        return median + self.sigma_inter * eta + self.sigma_intra * eps
