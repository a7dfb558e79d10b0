"""Network-level findings, without services: which failures split the network itself.

What a network engineer asks first: the articulation sites and bridge links, the SRLGs and
zones whose loss partitions the network, and an N-k ranking of failure sets by the share of
site pairs they disconnect. A failure set **disconnects** a pair of sites when both sites are
up, they were connected with nothing failed, and no path of up sites and usable links joins
them now; its **share** is the number of such pairs over all V·(V-1)/2 pairs of sites. (A
failed site's own pairs are not counted: losing a leaf site disconnects nothing else.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import networkx as nx

from georesil.analysis._sweep import Progress
from georesil.analysis.spof import shared_risk_groups
from georesil.model import FailureSet, Topology

__all__ = ["MAX_NETWORK_ORDER", "NetworkAnalysis", "NetworkFinding", "network_analysis"]

#: N-k of the network goes to pairs: deeper sets are left to ``georesil simulate``.
MAX_NETWORK_ORDER = 2

#: Work the pair search may do — sites plus links of the block, summed over the elements
#: probed — before it stops and reports ``exact: false`` (about 10 s of pure Python).
MAX_PAIR_WORK = 5_000_000


@dataclass(frozen=True)
class NetworkFinding:
    """A failure set and the site pairs it disconnects.

    Attributes:
        elements: References, sorted (one for an articulation site, bridge, SRLG or zone).
        pairs: Site pairs disconnected.
        share: ``pairs`` over all pairs of sites.
        components: Connected components of the up sites afterwards.
    """

    elements: tuple[str, ...]
    pairs: int
    share: float
    components: int

    def to_json(self) -> dict[str, Any]:
        return {"elements": list(self.elements), "pairs_disconnected": self.pairs,
                "share": round(self.share, 6), "components": self.components}


@dataclass(frozen=True)
class NetworkAnalysis:
    """Network-level findings; :meth:`to_json` is the documented format.

    Attributes:
        sites, site_pairs, components: Sites, pairs of sites and connected components with
            nothing failed.
        articulation_sites: Sites whose loss disconnects some pair (most pairs first).
        bridges: Links whose loss disconnects some pair (most pairs first).
        partitioning_groups: SRLGs and zones whose loss disconnects some pair.
        max_order: Largest failure-set size of the N-k ranking.
        nk: The top failure sets of 1..max_order sites and links by pairs disconnected:
            single elements, and pairs inside one biconnected block that disconnect more
            than either element alone (a pair from two blocks combines what each does alone).
        exact: False when the pair search stopped at :data:`MAX_PAIR_WORK`.
    """

    sites: int
    site_pairs: int
    components: int
    articulation_sites: tuple[NetworkFinding, ...]
    bridges: tuple[NetworkFinding, ...]
    partitioning_groups: tuple[NetworkFinding, ...]
    max_order: int
    nk: tuple[NetworkFinding, ...]
    exact: bool

    def to_json(self) -> dict[str, Any]:
        return {"sites": self.sites, "site_pairs": self.site_pairs,
                "components": self.components,
                "articulation_sites": [f.to_json() for f in self.articulation_sites],
                "bridges": [f.to_json() for f in self.bridges],
                "partitioning_groups": [f.to_json() for f in self.partitioning_groups],
                "max_order": self.max_order, "exact": self.exact,
                "nk": [f.to_json() for f in self.nk]}


class _Counter:
    """Connected site pairs of the network minus a failure set (union-find over the links)."""

    def __init__(self, topology: Topology) -> None:
        self.sites = list(topology.sites)
        self.index = {s: i for i, s in enumerate(self.sites)}
        self.links = [(k.id, self.index[k.a], self.index[k.b]) for k in topology.links.values()]
        self.n_pairs = len(self.sites) * (len(self.sites) - 1) // 2
        self.base_root = self.roots(FailureSet())[0]

    def roots(self, failure: FailureSet) -> tuple[list[int], set[int]]:
        parent = list(range(len(self.sites)))
        down = {self.index[s] for s in failure.sites}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for lid, a, b in self.links:
            if lid not in failure.links and a not in down and b not in down:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[ra] = rb
        return [find(x) for x in range(len(self.sites))], down

    def measure(self, elements: Iterable[str], failure: FailureSet) -> NetworkFinding:
        """Pairs of up sites connected with nothing failed but not under ``failure``."""
        roots, down = self.roots(failure)
        before: dict[int, int] = {}
        after: dict[int, int] = {}
        for v, (r0, r1) in enumerate(zip(self.base_root, roots, strict=True)):
            if v not in down:
                before[r0] = before.get(r0, 0) + 1
                after[r1] = after.get(r1, 0) + 1
        pairs = sum(n * (n - 1) // 2 for n in before.values()) - \
            sum(n * (n - 1) // 2 for n in after.values())
        return NetworkFinding(tuple(sorted(elements)), pairs,
                              pairs / self.n_pairs if self.n_pairs else 0.0, len(after))


def network_analysis(topology: Topology, max_order: int = 2, top: int = 20,
                     progress: Progress | None = None) -> NetworkAnalysis:
    """Articulation sites, bridges, partitioning SRLGs and zones, and the network N-k.

    Args:
        topology: The model.
        max_order: Largest failure-set size ranked, capped at :data:`MAX_NETWORK_ORDER`.
        top: How many N-k sets to keep.
        progress: Called with (elements probed, elements) during the pair search.

    Notes:
        Articulation sites and bridges by Hopcroft–Tarjan depth-first search (networkx),
        O(V + E); each of them and each SRLG and zone is then measured by a union-find over
        the surviving links, O(E·α(V)). Pairs: only a pair inside one biconnected block can
        disconnect more than its elements alone, so for each site and link x of a block with
        three or more sites, the block without x is searched for articulation sites and
        bridges y by one depth-first search that also sums, per subtree, the sites hanging off
        it (O(B) for a block of B sites and links), which gives every pair {x, y}'s pieces:
        O(B²) per block, within :data:`MAX_PAIR_WORK`.
    """
    counter = _Counter(topology)
    graph: nx.MultiGraph[str] = topology.graph
    singles = [counter.measure([f"site:{s}"], FailureSet(sites=frozenset([s])))
               for s in nx.articulation_points(graph)]
    bridges = [counter.measure([f"link:{k}"], FailureSet(links=frozenset([k])))
               for k in _bridge_links(graph)]
    groups = [counter.measure([ref], members)
              for ref, members in shared_risk_groups(topology).items()]
    order = min(max_order, MAX_NETWORK_ORDER)
    single_pairs = {f.elements[0]: f.pairs for f in [*singles, *bridges]}
    pairs, exact = ([], True) if order < 2 else _pairs(topology, counter, graph, single_pairs,
                                                       progress)
    ranked = sorted((f for f in [*singles, *bridges, *pairs] if f.pairs > 0),
                    key=lambda f: (-f.pairs, len(f.elements), f.elements))
    return NetworkAnalysis(
        sites=len(counter.sites), site_pairs=counter.n_pairs,
        components=len(set(counter.base_root)),
        articulation_sites=tuple(_by_pairs(f for f in singles if f.pairs > 0)),
        bridges=tuple(_by_pairs(f for f in bridges if f.pairs > 0)),
        partitioning_groups=tuple(_by_pairs(f for f in groups if f.pairs > 0)),
        max_order=order, nk=tuple(ranked[:top]), exact=exact)


def _by_pairs(findings: Iterable[NetworkFinding]) -> list[NetworkFinding]:
    return sorted(findings, key=lambda f: (-f.pairs, f.elements))


def _bridge_links(graph: nx.MultiGraph[str]) -> list[str]:
    """Links whose loss alone splits a component (a parallel link is never one)."""
    ends = cast("Iterable[tuple[str, str]]", nx.bridges(graph))  # the stubs say str
    return [str(next(iter(graph[u][v]))) for u, v in ends]


def _pairs(topology: Topology, counter: _Counter, graph: nx.MultiGraph[str],
           singles: dict[str, int], progress: Progress | None
           ) -> tuple[list[NetworkFinding], bool]:
    """Pairs of sites/links inside one biconnected block that disconnect more than either alone.

    Returns the pairs and whether the search finished within :data:`MAX_PAIR_WORK`.
    """
    components = cast("Iterable[set[str]]", nx.biconnected_components(graph))
    blocks = [_Block(topology, b, counter) for b in components if len(b) >= 3]
    total = sum(len(b.elements) for b in blocks)
    found: list[NetworkFinding] = []
    work, done = 0, 0
    for block in blocks:
        for x in block.elements:
            work += len(block.sites) + len(block.links)
            if work > MAX_PAIR_WORK:
                return found, False
            for y, pieces in block.pair_pieces(x).items():
                if y < x:
                    continue  # each pair once: it is found from both ends
                finding = block.pieces_measure(x, y, pieces)
                if finding.pairs > max(singles.get(x, 0), singles.get(y, 0)):
                    found.append(finding)
            done += 1
            if progress is not None:
                progress(done, total)
    return found, True


class _Block:
    """A biconnected block, each site weighted by the sites that hang off it outside the block.

    Every site outside the block reaches it through exactly one block site; failing elements
    inside the block only splits the block, so a pair is measured on the block alone: O(B).
    """

    def __init__(self, topology: Topology, block: set[str], counter: _Counter) -> None:
        self.sites = [s for s in topology.sites if s in block]
        self.links = [(k.id, k.a, k.b) for k in topology.links.values()
                      if k.a in block and k.b in block]
        self.elements = [f"site:{s}" for s in self.sites] + [f"link:{k}" for k, _, _ in
                                                              self.links]
        self.counter = counter
        self.adjacent: dict[str, list[tuple[str, str]]] = {s: [] for s in self.sites}
        for k, a, b in self.links:
            self.adjacent[a].append((b, k))
            self.adjacent[b].append((a, k))
        inner = {k for k, _, _ in self.links}
        outside = counter.roots(FailureSet(links=frozenset(inner)))[0]
        hang = counter.roots(FailureSet(sites=frozenset(self.sites), links=frozenset(inner)))[0]
        size: dict[int, int] = {}
        for root in outside:
            size[root] = size.get(root, 0) + 1
        ix = counter.index
        self.weight = {s: size[outside[ix[s]]] for s in self.sites}
        # When a block site fails, what hung off it falls apart into these pieces.
        pieces: dict[str, dict[int, int]] = {s: {} for s in self.sites}
        owner = {outside[ix[s]]: s for s in self.sites}
        for v, (r_out, r_hang) in enumerate(zip(outside, hang, strict=True)):
            s = owner.get(r_out)
            if s is not None and counter.sites[v] != s:
                pieces[s][r_hang] = pieces[s].get(r_hang, 0) + 1
        self.hanging = {s: list(p.values()) for s, p in pieces.items()}
        self.component = sum(self.weight.values())  # sites of the block's component
        self.base_components = len(set(counter.base_root))

    def cut_elements(self, element: str) -> dict[str, list[int]]:
        """Articulation sites and bridge links of the block without ``element``, each with the
        weights (sites, hanging ones included) of the pieces its failure leaves.

        Hopcroft–Tarjan low points by one iterative depth-first search, O(B), summing the
        weights of each subtree on the way back; a link is skipped by id, so parallel links
        are never bridges. A block of three or more sites stays connected without one
        element, so the search has one root.
        """
        kind, ident = element.split(":", 1)
        gone_site = ident if kind == "site" else None
        gone_link = ident if kind == "link" else None
        alive = [s for s in self.sites if s != gone_site]
        total = sum(self.weight[s] for s in alive)
        root = alive[0]
        disc, low, sub = {root: 0}, {root: 0}, {root: self.weight[root]}
        split: dict[str, list[int]] = {}  # site -> weights of the subtrees its loss cuts off
        cuts: dict[str, list[int]] = {}
        stack = [(root, "", iter(self.adjacent[root]))]
        while stack:
            u, via, todo = stack[-1]
            for v, k in todo:
                if k in (via, gone_link) or v == gone_site:
                    continue
                if v in disc:
                    low[u] = min(low[u], disc[v])
                    continue
                disc[v] = low[v] = len(disc)
                sub[v] = self.weight[v]
                stack.append((v, k, iter(self.adjacent[v])))
                break
            else:
                stack.pop()
                if not stack:
                    continue
                parent = stack[-1][0]
                low[parent] = min(low[parent], low[u])
                sub[parent] += sub[u]
                if low[u] > disc[parent]:
                    cuts[f"link:{via}"] = [sub[u], total - sub[u]]
                if low[u] >= disc[parent]:
                    split.setdefault(parent, []).append(sub[u])
        for site, parts in split.items():
            rest = total - self.weight[site] - sum(parts)
            if site == root and len(parts) >= 2:
                cuts[f"site:{site}"] = parts
            elif site != root:
                cuts[f"site:{site}"] = [*parts, rest]
        return cuts

    def pair_pieces(self, element: str) -> dict[str, list[int]]:
        """Every partner ``y`` of ``element`` whose joint failure can disconnect more than
        either alone, with the pieces of the block left: the cut elements of the block without
        ``element``, and every other block site with sites hanging off it (its loss cuts those
        off even where the rest of the block stays whole)."""
        cuts = self.cut_elements(element)
        gone = element[5:] if element.startswith("site:") else None
        total = sum(w for s, w in self.weight.items() if s != gone)
        for site in self.sites:
            ref = f"site:{site}"
            if site != gone and ref not in cuts and self.hanging[site]:
                cuts[ref] = [total - self.weight[site]]
        return cuts

    def pieces_measure(self, x: str, y: str, pieces: list[int]) -> NetworkFinding:
        """:meth:`measure` from the weights of the pieces (from :meth:`cut_elements`)."""
        dead = [r[5:] for r in (x, y) if r.startswith("site:")]
        hanging = [h for s in dead for h in self.hanging[s]]
        before = self.component - len(dead)
        after = sum(w * (w - 1) // 2 for w in pieces) + sum(h * (h - 1) // 2 for h in hanging)
        pairs = before * (before - 1) // 2 - after
        n_pairs = self.counter.n_pairs
        return NetworkFinding(tuple(sorted((x, y))), pairs, pairs / n_pairs if n_pairs else 0.0,
                              self.base_components - 1 + len(pieces) + len(hanging))
