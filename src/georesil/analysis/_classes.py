"""Failure classes: the sites and links whose failure can change an outcome, chains merged.

Everything the kernel computes for a failure set (down, breach and failover of every service)
is a function of which **terminal** sites are up and which pairs of up terminals are
connected; the terminals are the sites a service names: its replica sites and its client
sites (docs/semantics.md). Two facts follow, and the exact sweep of
:mod:`georesil.analysis._class_sweep` rests on them:

* **Irrelevant elements.** A site or link that is not a terminal and lies on no simple path
  between two distinct terminals never changes an outcome, whatever else fails: every path
  joining two terminals in a damaged network is a simple path of the whole network, so it
  avoids that element. These are the sites and links outside the blocks of the block-cut tree
  that lie between terminals (pendant trees, hanging blocks without a terminal).
* **Series classes.** Among the remaining (relevant) links, a non-terminal site with exactly
  two of them is a pass-through site. A maximal chain of pass-through sites with their links
  is one class: a simple path between terminals that uses any element of the chain enters at
  one end and leaves at the other, so it uses all of them, and failing any non-empty part of
  the chain has the effect of failing all of it. Parallel links are not in series: each is
  its own class.

Every other relevant site and link is a class of its own. The **reduced topology** has one
element per class: the relevant sites that are not pass-through, their direct links, and one
link per chain joining its two ends. It has the same services, so a set of classes fails in
it exactly as the set of all their members fails in the full topology.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

import networkx as nx
import numpy as np

from georesil.analysis.kernel import compile_topology
from georesil.model import Topology

__all__ = ["FailureClasses", "failure_classes", "identity_classes", "sweep_classes",
           "terminal_sites"]


@dataclass(frozen=True, eq=False)  # arrays do not compare with ==
class FailureClasses:
    """A topology's failure classes.

    Attributes:
        topology: The reduced topology: class ``i`` is its element ``i`` (sites, then links,
            in its file order).
        members: Per class, the indices of its elements in the full topology's
            ``elements`` (sites then links, file order), ascending.
        irrelevant: Indices of the elements that never change an outcome, ascending.
        of_element: ``int64 (n_elements,)``: the class of each element, ``-1`` if irrelevant.
    """

    topology: Topology
    members: tuple[tuple[int, ...], ...]
    irrelevant: tuple[int, ...]
    of_element: np.ndarray

    def __len__(self) -> int:
        return len(self.members)

    @property
    def first_member(self) -> np.ndarray:
        """``int64 (n_classes,)``: the smallest element index of each class."""
        return np.array([m[0] for m in self.members], dtype=np.int64)


def sweep_classes(topology: Topology, max_order: int) -> FailureClasses:
    """The classes a sweep of sets of at most ``max_order`` uses: :func:`failure_classes`,
    or for single failures (``max_order`` 1) :func:`identity_classes`, since sweeping every
    element once costs less than reducing."""
    return failure_classes(topology) if max_order > 1 else identity_classes(topology)


def identity_classes(topology: Topology) -> FailureClasses:
    """Every site and link its own class, the topology itself as the reduced one."""
    n = len(topology.elements)
    members: tuple[tuple[int, ...], ...] = tuple((i,) for i in range(n))
    return FailureClasses(topology, members, (), np.arange(n, dtype=np.int64))


def terminal_sites(topology: Topology) -> set[str]:
    """Every site a service names: its replica sites and its client sites
    (:attr:`CompiledTopology.terminals <georesil.analysis.kernel.CompiledTopology.terminals>`)."""
    ct = compile_topology(topology)
    return {ct.site_ids[i] for i in np.flatnonzero(ct.terminals)}


def failure_classes(topology: Topology) -> FailureClasses:
    """Irrelevant elements, series classes and the reduced topology (module docstring).

    Notes:
        Biconnected components by Hopcroft–Tarjan (networkx; articulation sites are those in
        two blocks), the block-cut tree pruned of leaves holding no terminal, then one walk
        along each chain: O(V + E).
    """
    terminals = terminal_sites(topology)
    sites, links = _relevant(topology, terminals)
    degree = dict.fromkeys(sites, 0)
    for k in links:
        degree[topology.links[k].a] += 1
        degree[topology.links[k].b] += 1
    passing = {s for s in sites if s not in terminals and degree[s] == 2}
    chains = _chains(topology, links, passing)
    return _assemble(topology, sites, links, passing, chains)


def _relevant(topology: Topology, terminals: set[str]) -> tuple[set[str], set[str]]:
    """Terminals, and the sites and links of the blocks lying between two terminals."""
    simple: nx.Graph[str] = nx.Graph()
    simple.add_nodes_from(topology.sites)
    simple.add_edges_from((k.a, k.b) for k in topology.links.values())
    terminals_with: dict[str, int] = {}  # site -> terminals in its connected component
    for component in nx.connected_components(simple):
        count = len(component & terminals)
        terminals_with.update(dict.fromkeys(component, count))
    # networkx yields each block as a set of sites (its stubs say a list of sets)
    found = cast("Iterator[set[str]]", nx.biconnected_components(simple))
    blocks = [frozenset(b) for b in found
              if terminals_with[next(iter(b))] >= 2]  # one terminal alone joins nothing
    sites = set(terminals)
    block_of: dict[str, set[int]] = {}
    for i, block in enumerate(_blocks_between(blocks, terminals)):
        sites |= block
        for v in block:
            block_of.setdefault(v, set()).add(i)
    links = {k for k, spec in topology.links.items()
             if block_of.get(spec.a, set()) & block_of.get(spec.b, set())}
    return sites, links


def _blocks_between(blocks: list[frozenset[str]], terminals: set[str]) -> list[frozenset[str]]:
    """The blocks on the block-cut tree paths between terminals.

    The block-cut forest's leaves without a terminal are pruned until none is left: what
    remains of each tree is the smallest subtree spanning its terminals.
    """
    seen: set[str] = set()
    cuts: set[str] = set()  # the articulation sites: in more than one block
    for block in blocks:
        cuts |= block & seen
        seen |= block
    tree: nx.Graph[tuple[str, int | str]] = nx.Graph()
    for i, block in enumerate(blocks):
        tree.add_node(("block", i))
        tree.add_edges_from((("block", i), ("cut", v)) for v in block & cuts)

    def holds_terminal(node: tuple[str, int | str]) -> bool:
        kind, ident = node
        if kind == "cut":
            return ident in terminals
        return any(v in terminals and v not in cuts for v in blocks[int(ident)])

    leaves = [x for x in tree if tree.degree(x) <= 1 and not holds_terminal(x)]
    while leaves:
        node = leaves.pop()
        neighbours = list(tree.neighbors(node))
        tree.remove_node(node)
        leaves += [y for y in neighbours if tree.degree(y) <= 1 and not holds_terminal(y)]
    return [blocks[int(ident)] for kind, ident in tree if kind == "block"]


def _chains(topology: Topology, links: set[str], passing: set[str]) -> list[list[str]]:
    """Each maximal chain of pass-through sites: its sites and links, as element references."""
    incident: dict[str, list[str]] = {s: [] for s in passing}
    for k in links:
        spec = topology.links[k]
        for end in (spec.a, spec.b):
            if end in passing:
                incident[end].append(k)
    seen: set[str] = set()
    chains = []
    for start in topology.sites:  # file order, so the classes come out the same every time
        if start not in passing or start in seen:
            continue
        seen.add(start)
        chain = [f"site:{start}"]
        for first in incident[start]:
            here, via = start, first
            while via not in seen:
                seen.add(via)
                chain.append(f"link:{via}")
                spec = topology.links[via]
                here = spec.b if spec.a == here else spec.a
                if here not in passing or here in seen:
                    break
                seen.add(here)
                chain.append(f"site:{here}")
                via = next(k for k in incident[here] if k != via)
        chains.append(chain)
    return chains


def _assemble(topology: Topology, sites: set[str], links: set[str], passing: set[str],
              chains: list[list[str]]) -> FailureClasses:
    """The reduced topology and the members of each of its elements."""
    index = {ref: i for i, ref in enumerate(topology.elements)}
    kept_sites = [s for s in topology.doc.sites if s.id in sites and s.id not in passing]
    classes: list[tuple[int, tuple[int, ...]]] = []  # (first link's position, members)
    reduced_links = []
    for spec in topology.doc.links:
        if spec.id in links and spec.a not in passing and spec.b not in passing:
            reduced_links.append(spec)
            classes.append((index[f"link:{spec.id}"], (index[f"link:{spec.id}"],)))
    for chain in chains:
        members = tuple(sorted(index[ref] for ref in chain))
        a, b = _chain_ends(topology, chain, passing)
        # The chain's first link in file order stands for it (its id stays unique).
        first = min(index[ref] for ref in chain if ref.startswith("link:"))
        spec = topology.links[topology.elements[first].removeprefix("link:")]
        reduced_links.append(spec.model_copy(update={"a": a, "b": b}))
        classes.append((first, members))
    order = sorted(range(len(classes)), key=lambda i: classes[i][0])
    doc = topology.doc.model_copy(update={
        "sites": tuple(kept_sites), "links": tuple(reduced_links[i] for i in order)})
    members_all: list[tuple[int, ...]] = [(index[f"site:{s.id}"],) for s in kept_sites]
    members_all += [classes[i][1] for i in order]
    of_element = np.full(len(index), -1, dtype=np.int64)
    for c, members in enumerate(members_all):
        of_element[list(members)] = c
    return FailureClasses(
        topology=Topology(doc, source=topology.source),
        members=tuple(members_all),
        irrelevant=tuple(int(i) for i in np.nonzero(of_element < 0)[0]),
        of_element=of_element,
    )


def _chain_ends(topology: Topology, chain: Iterable[str], passing: set[str]
                ) -> tuple[str, str]:
    """The two sites a chain joins: the ends of its links that are not pass-through.

    They are distinct: a chain lies on a simple path between terminals, which passes
    through it from one end to the other.
    """
    ends = []
    for ref in chain:
        if ref.startswith("link:"):
            spec = topology.links[ref.removeprefix("link:")]
            ends += [v for v in (spec.a, spec.b) if v not in passing]
    a, b = ends
    return a, b
