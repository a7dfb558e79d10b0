"""Capacity check: when any one site is lost, the sites left can carry what fails over to them."""

from __future__ import annotations

from collections.abc import Iterator

from georesil.analysis import inject
from georesil.readiness.context import ReadinessContext
from georesil.readiness.registry import check
from georesil.readiness.results import CheckResult, CheckStatus

__all__: list[str] = []


@check("capacity.site_loss", "the surviving sites absorb the loss of any one replica site")
def site_loss(ctx: ReadinessContext) -> Iterator[CheckResult]:
    topo = ctx.topology
    hosting = dict.fromkeys(r.site for s in topo.services.values() for r in s.replicas)
    for site in hosting:
        impact = inject(topo, [f"site:{site}"])
        if not impact.capacity_overflow:
            yield CheckResult("capacity.site_loss", CheckStatus.OK, None, site,
                              f"losing {site}: every site left stays within its capacity")
            continue
        worst = max(impact.capacity_overflow, key=lambda o: o.demand / max(o.capacity, 1e-12))
        short = ", ".join(f"{o.site} {o.resource} {o.demand:g}/{o.capacity:g}"
                          for o in impact.capacity_overflow)
        yield CheckResult(
            "capacity.site_loss", CheckStatus.FAIL, None, site,
            f"losing {site} overflows {short} (demand/capacity)",
            f"add {worst.demand - worst.capacity:g} {worst.resource} at {worst.site}, or move a "
            f"replica elsewhere (`georesil inject --fail site:{site}` shows the detail)",
            value=worst.demand - worst.capacity)
