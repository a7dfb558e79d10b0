"""Region cuts: how few links, SRLGs or zones separate two regions.

For the link and SRLG cuts only links fail (sites stay up) and paths may pass through sites of
any region. For the zone cut a zone fails its sites and links, and two regions are separated
when no surviving site of one reaches a surviving site of the other (failing every site of a
region separates it too). A region pair with no path at all needs 0 of anything. Sites without
a region ("unassigned") belong to no pair.

The fewest links is a maximum flow. The fewest SRLGs and the fewest zones are integer programs
solved by HiGHS (``highspy``: the solver scipy bundles, without scipy's import cost) within a
work budget: when the budget runs out the cut found so far is reported with a proven lower
bound and ``exact`` false.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations as pairs_of
from math import comb
from typing import Any

import highspy
import networkx as nx
import numpy as np
import structlog

from georesil.analysis._sweep import Progress, combinations
from georesil.analysis.kernel import CompiledTopology, compile_topology, evaluate_packed, unpack
from georesil.model import Topology

__all__ = ["Budget", "GroupCut", "RegionCut", "min_group_cut", "min_link_cut",
           "min_srlg_cut", "min_zone_cut", "region_cuts", "region_pairs", "srlg_groups"]

log = structlog.get_logger(__name__)

_CHUNK = 64 * 64  # zone subsets per kernel call


@dataclass(frozen=True)
class Budget:
    """The work one integer program may do before it reports what it has.

    Attributes:
        nodes: Branch-and-bound nodes (deterministic: the same answer on a busy machine).
        seconds: Wall-clock seconds, a safety net against a slow root LP.
        subsets: Zone subsets the exhaustive zone-cut search may try before the integer
            program takes over.
        total_seconds: Wall-clock seconds for all region pairs together (many regions):
            later programs get what is left, down to none (then only presolve runs).
    """

    nodes: int = 5_000
    seconds: float = 10.0
    subsets: int = 1 << 16
    total_seconds: float = 60.0


@dataclass(frozen=True)
class GroupCut:
    """The fewest groups (SRLGs or zones) found to separate two regions.

    Attributes:
        size: Groups in ``cut`` (``None``: no combination of groups separates the regions).
        cut: The groups, as ``srlg:ID`` / ``link:ID`` / ``zone:ID`` references, sorted.
        lower: A proven lower bound on the fewest groups (``size`` when exact).
        exact: False when the work budget ran out before ``size`` was proven minimal.
    """

    size: int | None
    cut: tuple[str, ...]
    lower: int | None
    exact: bool = True


@dataclass(frozen=True)
class RegionCut:
    """The fewest links, SRLG groups and zones whose failure separates two regions.

    Attributes:
        from_region, to_region: The two region labels (in order of first appearance).
        links: Size of a minimum link cut (always exact).
        srlgs: Fewest SRLG groups found (a link without an SRLG is a group of its own).
        link_cut: One minimum link cut, sorted link ids.
        srlg_cut: The SRLG groups found: ``srlg:ID`` or ``link:ID`` references, sorted.
        srlgs_lower: Proven lower bound on the fewest SRLG groups (= ``srlgs`` when exact).
        zones: Fewest zones found (``None``: failing every zone does not separate them).
        zone_cut: The zones found, ``zone:ID`` references, sorted.
        zones_lower: Proven lower bound on the fewest zones (``None`` with ``zones``).
        exact: True when both ``srlgs`` and ``zones`` are proven minimal.
    """

    from_region: str
    to_region: str
    links: int
    srlgs: int
    link_cut: tuple[str, ...]
    srlg_cut: tuple[str, ...]
    srlgs_lower: int = 0
    zones: int | None = None
    zone_cut: tuple[str, ...] = ()
    zones_lower: int | None = None
    exact: bool = True
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_region, "to": self.to_region, "exact": self.exact,
                "links": self.links, "link_cut": list(self.link_cut),
                "srlgs": self.srlgs, "srlg_cut": list(self.srlg_cut),
                "srlgs_lower_bound": self.srlgs_lower,
                "zones": self.zones, "zone_cut": list(self.zone_cut),
                "zones_lower_bound": self.zones_lower}


def region_pairs(topology: Topology) -> list[tuple[str, str]]:
    """Every pair of region labels (order of first appearance), unassigned sites left out."""
    regions = [r for r in topology.regions if r is not None]
    return list(pairs_of(regions, 2))


def region_cuts(topology: Topology, budget: Budget | None = None,
                progress: Progress | None = None,
                ct: CompiledTopology | None = None) -> list[RegionCut]:
    """For each pair of regions, the fewest links, SRLG groups and zones separating them.

    Args:
        topology: The model.
        budget: Work allowed per integer program (default :class:`Budget`).
        progress: Called with (pairs done, pairs) after each pair.
        ct: The compiled topology, if already built.

    Notes:
        Per pair one maximum flow and two integer programs; see :func:`min_link_cut` and
        :func:`min_group_cut`.
    """
    budget = budget or Budget()
    pairs = region_pairs(topology)
    if pairs:
        ct = ct or compile_topology(topology)
    cuts = []
    deadline = time.monotonic() + budget.total_seconds
    for done, (a, b) in enumerate(pairs, 1):
        links = min_link_cut(topology, a, b)
        left = dataclasses.replace(
            budget, seconds=max(0.0, min(budget.seconds, deadline - time.monotonic())))
        srlg = min_srlg_cut(topology, a, b, left, upper=links)
        zone = min_zone_cut(topology, a, b, left, ct)
        cut = RegionCut(a, b, len(links), srlg.size or 0, tuple(sorted(links)), srlg.cut,
                        srlg.lower or 0, zone.size, zone.cut, zone.lower,
                        srlg.exact and zone.exact)
        if not cut.exact:
            log.warning("region_cut.budget_exhausted", from_region=a, to_region=b,
                        srlgs=cut.srlgs, srlgs_lower=cut.srlgs_lower, zones=cut.zones,
                        zones_lower=cut.zones_lower, nodes=budget.nodes,
                        seconds=budget.seconds)
        cuts.append(cut)
        if progress is not None:
            progress(done, len(pairs))
    return cuts


def _members(topology: Topology, region: str) -> set[str]:
    return {s.id for s in topology.sites.values() if s.region == region}


def min_link_cut(topology: Topology, a: str, b: str) -> set[str]:
    """A minimum set of links whose failure leaves no path between regions ``a`` and ``b``.

    Notes:
        Each region is contracted into a super-node; parallel links add up as capacities;
        the minimum cut is a maximum flow (networkx's preflow-push, O(V²·√E)). The links
        crossing the cut are read off the residual network.
    """
    side = {s: a for s in _members(topology, a)} | {s: b for s in _members(topology, b)}
    flow: nx.DiGraph[str] = nx.DiGraph()
    flow.add_nodes_from([a, b])
    for link in topology.links.values():
        u, v = side.get(link.a, link.a), side.get(link.b, link.b)
        if u == v:
            continue
        for x, y in ((u, v), (v, u)):
            capacity = flow.edges[x, y]["capacity"] + 1 if flow.has_edge(x, y) else 1
            flow.add_edge(x, y, capacity=capacity)
    _, (reachable, _) = nx.minimum_cut(flow, a, b)
    return {link.id for link in topology.links.values()
            if (side.get(link.a, link.a) in reachable) != (side.get(link.b, link.b) in reachable)}


def srlg_groups(topology: Topology) -> dict[str, list[str]]:
    """Per link, its SRLG groups (``srlg:ID``), or ``link:ID`` for a link without an SRLG."""
    return {k.id: [f"srlg:{g}" for g in k.srlg] or [f"link:{k.id}"]
            for k in topology.links.values()}


def min_srlg_cut(topology: Topology, a: str, b: str, budget: Budget | None = None,
                 upper: set[str] | None = None) -> GroupCut:
    """The fewest SRLG groups whose failure leaves no path between regions ``a`` and ``b``.

    Groups are the SRLGs (``srlg:ID``) plus, for each link without one, the link itself
    (``link:ID``). A link fails when any of its groups fails. Sites never fail.

    Args:
        upper: A link cut (e.g. :func:`min_link_cut`): one group of each of its links is the
            fallback answer when the budget runs out before any cut is found.
    """
    groups_of = srlg_groups(topology)
    source, target = _members(topology, a), _members(topology, b)
    node = {s: "\0a" for s in source} | {s: "\0b" for s in target}
    arcs = [(node.get(k.a, k.a), node.get(k.b, k.b), groups_of[k.id])
            for k in topology.links.values()]
    arcs = [arc for arc in arcs if arc[0] != arc[1]]
    links = upper if upper is not None else min_link_cut(topology, a, b)
    fallback = sorted({groups_of[k][0] for k in links})
    return min_group_cut(arcs, ["\0a"], ["\0b"], budget or Budget(), fallback)


def min_zone_cut(topology: Topology, a: str, b: str, budget: Budget | None = None,
                 ct: CompiledTopology | None = None) -> GroupCut:
    """The fewest zones whose failure leaves no surviving site of ``a`` reaching one of ``b``.

    A zone fails every site and link in it; a link also fails with either end site. Returns
    ``size=None`` when failing every zone still leaves the regions connected.

    Args:
        ct: The compiled topology, if already built.

    Notes:
        Zones are usually few, so the subsets of 0, 1, 2, ... zones are tried in turn, 64 per
        machine word, by the bit-parallel kernel (a service whose clients are the sites of
        ``a`` and whose replicas are those of ``b`` is down exactly when the regions are
        separated): the first size with a separating subset is the minimum. When more than
        :attr:`Budget.subsets` subsets would be needed, the integer program of
        :func:`min_group_cut` takes over (each link an arc that fails with its own zones and
        its end sites' zones: a failed site loses all its links).
    """
    budget = budget or Budget()
    source, target = _members(topology, a), _members(topology, b)
    zones = list(topology.zones)
    ct = ct or compile_topology(topology)
    probe = _separation_probe(ct, source, target)
    site_in = np.array([[z in s.zones for z in zones] for s in topology.sites.values()],
                       dtype=bool).reshape(len(topology.sites), len(zones))
    link_in = np.array([[z in k.zones for z in zones] for k in topology.links.values()],
                       dtype=bool).reshape(len(topology.links), len(zones))
    if not _separated_by(probe, site_in, link_in, np.arange(len(zones))[None, :]).any():
        return GroupCut(None, (), None)
    tried, k = 0, 0
    while tried + comb(len(zones), k) <= budget.subsets:
        combos = combinations(len(zones), k)
        for start in range(0, len(combos), _CHUNK):
            part = combos[start : start + _CHUNK]
            hit = np.flatnonzero(_separated_by(probe, site_in, link_in, part))
            if len(hit):
                cut = sorted(f"zone:{zones[int(i)]}" for i in part[hit[0]])
                return GroupCut(k, tuple(cut), k)
        tried += len(combos)
        k += 1
    site_zones = {s.id: {f"zone:{z}" for z in s.zones} for s in topology.sites.values()}
    arcs = [(k.a, k.b, sorted(site_zones[k.a] | site_zones[k.b] | {f"zone:{z}" for z in k.zones}))
            for k in topology.links.values()]
    found = min_group_cut(arcs, sorted(source), sorted(target), budget,
                          [f"zone:{z}" for z in zones])
    lower = max(k, found.lower or 0)  # no subset of fewer than k zones separates them
    return GroupCut(found.size, found.cut, lower, lower >= (found.size or 0))


def _separation_probe(ct: CompiledTopology, source: set[str], target: set[str]
                      ) -> CompiledTopology:
    """``ct`` with one service, down exactly when no up site of ``source`` reaches one of
    ``target`` (its clients and its replicas)."""
    index = {s: i for i, s in enumerate(ct.site_ids)}
    src = np.array(sorted(index[s] for s in source), dtype=np.int64)
    dst = np.array(sorted(index[s] for s in target), dtype=np.int64)
    zero, one = np.zeros(1, np.int64), np.array([0, 0], np.int64)
    return dataclasses.replace(
        ct, service_ids=("separated",), cs_ptr=np.array([0, len(src)], np.int64), cs_site=src,
        order=zero, svc_client_set=zero, svc_primary=dst[:1],
        sec_ptr=np.array([0, len(dst) - 1], np.int64), sec_site=dst[1:],
        sec_lag=np.zeros(len(dst) - 1), sec_within_rpo=np.ones(len(dst) - 1, dtype=bool),
        dep_ptr=one, dep_svc=np.zeros(0, np.int64), slow_ptr=one, slow_svc=np.zeros(0, np.int64),
        tier=np.ones(1, np.int64), rto_s=np.full(1, np.inf), rpo_s=np.full(1, np.inf),
        failover_s=np.zeros(1))


def _separated_by(probe: CompiledTopology, site_in: np.ndarray, link_in: np.ndarray,
                  combos: np.ndarray) -> np.ndarray:
    """``bool (m,)``: failing the zones of row t of ``combos`` separates the probe's regions."""
    m = len(combos)
    site_down = np.zeros((site_in.shape[0], m), dtype=bool)
    link_down = np.zeros((link_in.shape[0], m), dtype=bool)
    for column in combos.T:  # a set fails what any of its zones fails
        site_down |= site_in[:, column]
        link_down |= link_in[:, column]
    out = evaluate_packed(probe, _pack(site_down), _pack(link_down))
    separated: np.ndarray = unpack(out.down, m)[0]
    return separated


def _pack(rows: np.ndarray) -> np.ndarray:
    """``bool (r, m)`` to ``uint64 (r, ceil(m / 64))``: column t is bit t % 64 of word t // 64."""
    width = -(-rows.shape[1] // 64) * 64
    padded = np.zeros((rows.shape[0], width), dtype=bool)
    padded[:, : rows.shape[1]] = rows
    return np.packbits(padded, axis=1, bitorder="little").view("<u8").astype(np.uint64)


def _separated(arcs: Sequence[tuple[str, str, list[str]]], source: set[str], target: set[str],
               failed: set[str]) -> bool:
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(source | target)
    graph.add_edges_from((u, v) for u, v, gs in arcs if not failed.intersection(gs))
    reach = set().union(*(nx.node_connected_component(graph, s) for s in source))
    return not reach & target


def min_group_cut(arcs: Sequence[tuple[str, str, list[str]]], source: Sequence[str],
                  target: Sequence[str], budget: Budget, fallback: Sequence[str]) -> GroupCut:
    """The fewest groups whose failure disconnects every ``source`` node from every ``target``.

    Args:
        arcs: Undirected arcs ``(u, v, groups)``: the arc fails when any of its groups fails
            (an arc with no group never fails).
        source, target: Node sets to separate.
        budget: Work allowed to the integer program.
        fallback: A cut known to separate them, returned when the budget runs out first.

    Notes:
        Integer program: a binary y_g per group and a potential p_v in [0, 1] per node, with
        p = 1 on the sources and 0 on the targets; minimise sum y_g subject to, for every arc,
        |p_u - p_v| <= sum of y_g over its groups. With y fixed, such p exist iff the failed
        groups separate the nodes (the potential is 1 on the sources' side), so p need not be
        integer. n + G variables and 2 constraints per arc; HiGHS branch and bound (one thread,
        seeded: the same input gives the same answer) is exponential in the worst case (the
        minimum label cut is NP-hard) but usually proves the optimum at the root; when the
        budget runs out, its dual bound is the proven lower bound.
    """
    if _separated(arcs, set(source), set(target), set()):
        return GroupCut(0, (), 0)
    names = sorted({g for _, _, gs in arcs for g in gs})
    group_ix = {g: i for i, g in enumerate(names)}
    nodes = sorted({x for u, v, _ in arcs for x in (u, v)} | set(source) | set(target))
    node_ix = {v: len(names) + i for i, v in enumerate(nodes)}
    n = len(names) + len(nodes)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = 2 * len(arcs)
    lp.col_cost_ = np.r_[np.ones(len(names)), np.zeros(len(nodes))]
    lower, upper = np.zeros(n), np.ones(n)
    lower[[node_ix[s] for s in source]] = 1.0
    upper[[node_ix[t] for t in target]] = 0.0
    lp.col_lower_, lp.col_upper_ = lower, upper
    lp.row_lower_ = np.full(lp.num_row_, -highspy.kHighsInf)
    lp.row_upper_ = np.zeros(lp.num_row_)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * len(names) + \
        [highspy.HighsVarType.kContinuous] * len(nodes)
    starts, index, value = [0], [], []
    for u, v, gs in arcs:
        for sign in (1.0, -1.0):  # ±(p_u - p_v) - sum of y over the arc's groups <= 0
            index += [node_ix[u], node_ix[v], *(group_ix[g] for g in gs)]
            value += [sign, -sign, *([-1.0] * len(gs))]
            starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, lp.num_row_
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    solver = _solver()
    solver.setOptionValue("time_limit", float(budget.seconds))
    solver.setOptionValue("mip_max_nodes", int(budget.nodes))
    solver.passModel(lp)
    solver.run()
    return _read_solution(solver, names, arcs, set(source), set(target), fallback)


def _solver() -> highspy.Highs:
    """A quiet HiGHS instance, single-threaded.

    HiGHS prints a banner on C-level standard output when the first solver of a process is
    made; ``--json`` owns standard output, so that one construction writes to /dev/null.
    """
    sys.stdout.flush()
    try:
        saved, sink = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no usable fd 1: nothing to protect
        solver = highspy.Highs()  # type: ignore[no-untyped-call]  # __init__ unannotated
    else:
        try:
            os.dup2(sink, 1)
            solver = highspy.Highs()  # type: ignore[no-untyped-call]  # __init__ unannotated
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(sink)
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("threads", 1)
    solver.setOptionValue("random_seed", 0)
    return solver


def _read_solution(solver: highspy.Highs, names: list[str],
                   arcs: Sequence[tuple[str, str, list[str]]], source: set[str],
                   target: set[str], fallback: Sequence[str]) -> GroupCut:
    info = solver.getInfo()
    bound = float(info.mip_dual_bound)
    lower = max(1, math.ceil(bound - 1e-6)) if math.isfinite(bound) else 1
    best = list(fallback)
    if info.primal_solution_status == 2:  # a feasible solution exists
        values = solver.getSolution().col_value[: len(names)]
        chosen = [g for g, y in zip(names, values, strict=True) if y > 0.5]
        if _separated(arcs, source, target, set(chosen)) and len(chosen) <= len(best):
            best = chosen
    exact = lower >= len(best)  # a bound that meets the cut proves it, whatever the status
    return GroupCut(len(best), tuple(sorted(best)), len(best) if exact else min(lower, len(best)),
                    exact)
