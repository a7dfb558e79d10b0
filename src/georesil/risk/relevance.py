"""Which one-event changes can change a trial's outcome: exact pruning for importance.

Importance re-evaluates trials with one basic event cleared (repairs) or forced on (the base
sample) — :mod:`georesil.risk.criticality`. Whether a service is *down* depends only on which
**terminal** sites (client and replica sites: ``CompiledTopology.terminals``) are up and on
which of them are connected through up sites and usable links (docs/semantics.md: a link is
usable when it has not failed and both its sites are up). So most such changes provably
change nothing, and need no kernel evaluation:

* **repairing** an element that another event of the trial also failed changes nothing; nor
  does repairing a link whose end is down or whose ends are already connected, nor a
  non-terminal site whose usable-again links reach at most one component;
* **failing** an element already down changes nothing; nor does failing a link that is not
  usable or not a bridge, nor a non-terminal site that is not an articulation point (its
  component stays connected without it).

Both tests are exact (the counts equal those of evaluating every column: tested against
brute force). Cost per trial O(V + E): a union–find for repairs, one depth-first search
(Hopcroft–Tarjan low links, iterative) for articulation points and bridges.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from georesil.analysis.kernel import CompiledTopology
from georesil.risk._jit import compiled

__all__ = ["failure_relevance", "repair_relevance"]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


def repair_relevance(ct: CompiledTopology, ptr: I64, elem: I64, event: I64, col_ptr: I64,
                     col_event: I64) -> B:
    """Whether clearing each column's event can change its trial's outcome.

    Args:
        ct: The compiled topology (its links, adjacency and terminal sites).
        ptr: Trial ``g``'s failures are pairs ``ptr[g]:ptr[g + 1]`` of ``elem`` (element:
            sites, then links) and ``event`` (the basic event that failed it: an element's own
            event is its index, zone events come after the elements).
        col_ptr: Trial ``g``'s columns are ``col_ptr[g]:col_ptr[g + 1]`` of ``col_event``.

    Returns:
        One flag per column; False only where the outcome provably stays the same.
    """
    out = np.zeros(len(col_event), dtype=bool)
    if len(col_event):
        compiled(_repair_relevance, _find)(
            ct.link_a, ct.link_b, ct.adj_ptr, ct.adj_site, ct.adj_link, ct.terminals, ptr,
            elem, event, col_ptr, col_event, out)
    return out


def failure_relevance(ct: CompiledTopology, ptr: I64, elem: I64) -> B:
    """``(elements, trials)``: whether failing each element can change each trial's outcome.

    Trial ``g``'s failed elements (distinct) are ``elem[ptr[g]:ptr[g + 1]]``.
    """
    n_el = ct.n_sites + ct.n_links
    out = np.zeros((n_el, len(ptr) - 1), dtype=bool)
    if out.size:
        compiled(_failure_relevance)(ct.link_a, ct.link_b, ct.adj_ptr, ct.adj_site,
                                     ct.adj_link, ct.terminals, ptr, elem, out)
    return out


# -- compiled loops (plain Python; the tests also run them uncompiled) ----------------------


def _find(parent: I64, v: int) -> int:
    while parent[v] != v:  # path halving
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


def _repair_relevance(link_a: I64, link_b: I64, adj_ptr: I64, adj_site: I64, adj_link: I64,
                      terminal: B, ptr: I64, elem: I64, event: I64, col_ptr: I64,
                      col_event: I64, out: B) -> None:
    n_sites = terminal.shape[0]
    n_links = link_a.shape[0]
    n_el = n_sites + n_links
    first = np.full(n_el, -1, np.int64)  # an event failing the element in this trial, or -1
    multi = np.zeros(n_el, np.bool_)  # failed by two or more events: stays down when one clears
    parent = np.empty(n_sites, np.int64)
    for g in range(ptr.shape[0] - 1):
        for k in range(ptr[g], ptr[g + 1]):
            x = elem[k]
            if first[x] < 0:
                first[x] = event[k]
            elif first[x] != event[k]:
                multi[x] = True
        for v in range(n_sites):
            parent[v] = v
        for e in range(n_links):
            a, b = link_a[e], link_b[e]
            if first[n_sites + e] < 0 and first[a] < 0 and first[b] < 0:
                ra, rb = _find(parent, a), _find(parent, b)
                if ra < rb:  # link by index: deterministic, and shallow on average
                    parent[rb] = ra
                elif rb < ra:
                    parent[ra] = rb
        for c in range(col_ptr[g], col_ptr[g + 1]):
            ev = col_event[c]
            relevant = False
            if ev >= n_el:  # a zone: relevant when it alone failed some element
                for k in range(ptr[g], ptr[g + 1]):
                    if event[k] == ev and not multi[elem[k]]:
                        relevant = True
                        break
            elif multi[ev] or first[ev] != ev:
                relevant = False  # the element stays down
            elif ev >= n_sites:  # a link: ends up and in different components
                a, b = link_a[ev - n_sites], link_b[ev - n_sites]
                relevant = first[a] < 0 and first[b] < 0 and _find(parent, a) != _find(parent, b)
            elif terminal[ev]:
                relevant = True
            else:  # a site: its usable-again links reach two components
                label = -1
                for k in range(adj_ptr[ev], adj_ptr[ev + 1]):
                    u = adj_site[k]
                    if u == ev or first[u] >= 0 or first[n_sites + adj_link[k]] >= 0:
                        continue
                    r = _find(parent, u)
                    if label < 0:
                        label = r
                    elif r != label:
                        relevant = True
                        break
            out[c] = relevant
        for k in range(ptr[g], ptr[g + 1]):
            first[elem[k]] = -1
            multi[elem[k]] = False


def _failure_relevance(link_a: I64, link_b: I64, adj_ptr: I64, adj_site: I64, adj_link: I64,
                       terminal: B, ptr: I64, elem: I64, out: B) -> None:
    n_sites = terminal.shape[0]
    n_links = link_a.shape[0]
    down = np.zeros(n_sites + n_links, np.bool_)
    disc = np.empty(n_sites, np.int64)
    low = np.empty(n_sites, np.int64)
    via = np.empty(n_sites, np.int64)  # the tree link a site was reached by
    nxt = np.empty(n_sites, np.int64)  # next adjacency entry to scan
    stack = np.empty(n_sites, np.int64)
    art = np.zeros(n_sites, np.bool_)
    bridge = np.zeros(n_links, np.bool_)
    for g in range(ptr.shape[0] - 1):
        for k in range(ptr[g], ptr[g + 1]):
            down[elem[k]] = True
        disc[:] = -1
        art[:] = False
        bridge[:] = False
        clock = 0
        for r in range(n_sites):
            if down[r] or disc[r] >= 0:
                continue
            disc[r] = low[r] = clock
            clock += 1
            via[r] = -1
            nxt[r] = adj_ptr[r]
            stack[0] = r
            top = 1
            children = 0
            while top > 0:
                v = stack[top - 1]
                if nxt[v] < adj_ptr[v + 1]:
                    k = nxt[v]
                    nxt[v] += 1
                    e, u = adj_link[k], adj_site[k]
                    if e == via[v] or u == v or down[n_sites + e] or down[u]:
                        continue
                    if disc[u] < 0:
                        disc[u] = low[u] = clock
                        clock += 1
                        via[u] = e
                        nxt[u] = adj_ptr[u]
                        stack[top] = u
                        top += 1
                        if v == r:
                            children += 1
                    elif disc[u] < low[v]:
                        low[v] = disc[u]
                else:
                    top -= 1
                    if top > 0:
                        p = stack[top - 1]
                        if low[v] < low[p]:
                            low[p] = low[v]
                        if low[v] > disc[p]:
                            bridge[via[v]] = True
                        if p != r and low[v] >= disc[p]:
                            art[p] = True
            art[r] = children >= 2
        for v in range(n_sites):
            out[v, g] = not down[v] and (terminal[v] or art[v])
        for e in range(n_links):
            out[n_sites + e, g] = bridge[e]  # a bridge is usable, so not down
        for k in range(ptr[g], ptr[g + 1]):
            down[elem[k]] = False
