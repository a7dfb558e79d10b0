"""Independent failures of sites and links: steady-state unavailability and event rates.

Every element follows an alternating-renewal process: it fails λ times a year and stays down
D hours on average, so at a random instant it is down with probability

    U = λD / (8760 + λD).

Inputs, in order of precedence:

* ``unavailability`` — used as is; the event rate for ``--years`` follows by inverting the
  formula, λ = 8760·U / ((1 − U)·D), with D = ``mttr_h`` or the default repair time;
* ``mtbf_h`` + ``mttr_h`` — U = mttr / (mtbf + mttr), λ = 8760 / (mtbf + mttr);
* links only: a cut rate × length — λ = ``cut_rate_per_1000km_yr`` × ``length_km`` / 1000 with
  D = ``mttr_h``, falling back to the defaults of the link's kind below;
* otherwise a site never fails by itself (U = 0).

Link defaults by kind (see docs/hazards.md):

=============  ==============================  =========  =====================================
kind           rate                            repair     source
=============  ==============================  =========  =====================================
terrestrial    2.13 cuts / 1000 km / yr        12 h       Bellcore via Alcoa Fujikura (2001);
                                                          repair ≥ 6 h buried, > 22 h real cases
submarine      0.72 / yr per cable             720 h      36 cases / 5 yr / 10 cables, Chunghwa
                                                          (National Audit Office 2024); weeks
microwave      0.5 / yr per link               4 h        [est.] hardware/rain-fade outages
satellite      1.0 / yr per link               2 h        [est.] terminal/weather outages
=============  ==============================  =========  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass

from georesil.hazards.geometry import polyline_length_km
from georesil.model.schema import LinkKind, LinkSpec, SiteSpec
from georesil.model.topology import Topology

__all__ = [
    "HOURS_PER_YEAR",
    "LINK_DEFAULTS",
    "SITE_DEFAULT_MTTR_H",
    "ElementReliability",
    "KindDefault",
    "element_reliabilities",
    "link_length_km",
    "link_reliability",
    "never_failing",
    "renewal_unavailability",
    "site_reliability",
]

HOURS_PER_YEAR = 8760.0
#: Repair time assumed for a site given only an ``unavailability`` [est.].
SITE_DEFAULT_MTTR_H = 24.0


@dataclass(frozen=True)
class KindDefault:
    """Failure defaults for one kind of link."""

    rate_per_yr: float
    per_1000_km: bool
    mttr_h: float
    source: str


LINK_DEFAULTS: dict[LinkKind, KindDefault] = {
    LinkKind.TERRESTRIAL: KindDefault(
        2.13, True, 12.0, "buried fibre 2.13 cuts/1000 km/yr (Bellcore via Alcoa Fujikura 2001); "
        "repair 12 h (buried >= 6 h, real cases > 22 h)"),
    LinkKind.SUBMARINE: KindDefault(
        0.72, False, 720.0, "36 domestic cable damage cases / 5 yr / 10 cables (National Audit "
        "Office, Taipei Times 2024-08-05); repair ~30 days"),
    LinkKind.MICROWAVE: KindDefault(0.5, False, 4.0, "[est.] microwave hop outages"),
    LinkKind.SATELLITE: KindDefault(1.0, False, 2.0, "[est.] satellite terminal outages"),
}


@dataclass(frozen=True)
class ElementReliability:
    """Independent-failure model of one site or link.

    Attributes:
        ref: ``site:ID`` or ``link:ID``.
        unavailability: Steady-state probability of being down.
        rate_per_yr: Failures per year.
        mttr_h: Mean time to repair, hours.
        basis: Where the numbers came from (for reports).
    """

    ref: str
    unavailability: float
    rate_per_yr: float
    mttr_h: float
    basis: str


def renewal_unavailability(rate_per_yr: float, mean_duration_h: float) -> float:
    """Alternating-renewal steady-state unavailability λD / (8760 + λD)."""
    down = rate_per_yr * mean_duration_h
    return down / (HOURS_PER_YEAR + down) if down > 0 else 0.0


def _rate_from_unavailability(u: float, mttr_h: float) -> float:
    return HOURS_PER_YEAR * u / ((1.0 - u) * mttr_h) if u > 0 and mttr_h > 0 else 0.0


def _explicit(
    ref: str, spec: SiteSpec | LinkSpec, default_mttr_h: float
) -> ElementReliability | None:
    if spec.unavailability is not None:
        mttr = spec.mttr_h if spec.mttr_h is not None else default_mttr_h
        rate = _rate_from_unavailability(spec.unavailability, mttr)
        return ElementReliability(ref, spec.unavailability, rate, mttr, "unavailability")
    if spec.mtbf_h is not None and spec.mttr_h is not None:
        cycle = spec.mtbf_h + spec.mttr_h
        return ElementReliability(ref, spec.mttr_h / cycle, HOURS_PER_YEAR / cycle, spec.mttr_h,
                                  "mtbf_h/mttr_h")
    return None


def site_reliability(site: SiteSpec) -> ElementReliability:
    """A site's independent-failure model (perfect when it gives none)."""
    ref = f"site:{site.id}"
    found = _explicit(ref, site, SITE_DEFAULT_MTTR_H)
    return found or ElementReliability(ref, 0.0, 0.0, site.mttr_h or 0.0, "none")


def link_length_km(topology: Topology, link: LinkSpec) -> float:
    """``length_km`` when given, else the great-circle length of (a, waypoints…, b).

    A link with no ``length_km`` and an end without a location has length 0 (validation
    warns that such a link never fails by itself).
    """
    if link.length_km is not None:
        return link.length_km
    a, b = topology.sites[link.a].location, topology.sites[link.b].location
    if a is None or b is None:
        return 0.0
    points = [(a.lat, a.lon), *((p.lat, p.lon) for p in link.path), (b.lat, b.lon)]
    return polyline_length_km(points)


def link_reliability(topology: Topology, link: LinkSpec) -> ElementReliability:
    """A link's independent-failure model, with the defaults of its kind."""
    ref = f"link:{link.id}"
    default = LINK_DEFAULTS[link.kind]
    found = _explicit(ref, link, default.mttr_h)
    if found is not None:
        return found
    mttr = link.mttr_h if link.mttr_h is not None else default.mttr_h
    if link.cut_rate_per_1000km_yr is not None:
        rate = link.cut_rate_per_1000km_yr * link_length_km(topology, link) / 1000.0
        basis = "cut_rate_per_1000km_yr x length"
    elif default.per_1000_km:
        rate = default.rate_per_yr * link_length_km(topology, link) / 1000.0
        basis = f"default ({default.source})"
    else:
        rate, basis = default.rate_per_yr, f"default ({default.source})"
    return ElementReliability(ref, renewal_unavailability(rate, mttr), rate, mttr, basis)


def never_failing(topology: Topology) -> tuple[str, ...]:
    """Sites and links that no failure model can take down, as references in file order.

    An element can fail by itself (its own or its kind's failure data, see the module
    docstring), with a zone that has an outage model (``annual_rate`` or ``unavailability``),
    or in a quake when the topology has seismic sources and the element has a location.
    Scenarios do not count: they are what-ifs, not failure data.
    """
    zones = {z.id for z in topology.zones.values()
             if z.annual_rate or z.unavailability}
    seismic = topology.doc.seismic is not None and bool(topology.doc.seismic.sources)
    out = []
    for ref, rel in element_reliabilities(topology).items():
        kind, ident = ref.split(":", 1)
        spec: SiteSpec | LinkSpec = (topology.sites[ident] if kind == "site"
                                     else topology.links[ident])
        if rel.unavailability > 0 or rel.rate_per_yr > 0 or zones.intersection(spec.zones):
            continue
        if seismic and _located(topology, spec):
            continue
        out.append(ref)
    return tuple(out)


def _located(topology: Topology, spec: SiteSpec | LinkSpec) -> bool:
    if isinstance(spec, SiteSpec):
        return spec.location is not None
    return bool(spec.path) or any(topology.sites[e].location is not None
                                  for e in (spec.a, spec.b))


def element_reliabilities(topology: Topology) -> dict[str, ElementReliability]:
    """Every site's and link's model, keyed by reference, sites then links in file order."""
    out = {f"site:{s.id}": site_reliability(s) for s in topology.sites.values()}
    out.update({f"link:{k.id}": link_reliability(topology, k) for k in topology.links.values()})
    return out
