"""The compiled evaluator: 64 failure sets per machine word, exactly the reference semantics.

Bit ``j`` of word ``w`` of every array is failure set (or Monte Carlo trial) ``64 * w + j``.
The kernel takes the words 8 at a time (512 trials: one 64-byte cache line of each site's and
link's row, so one walk over the adjacency moves the bits of 512 trials and the loops over
the 8 lanes compile to vector instructions). For each block it

1. computes up sites and usable links (not failed, both ends up) as bit masks;
2. labels each trial's main component: one label propagation from the trial's root, its
   best-connected up site, by a worklist over a CSR adjacency
   (``reach[v] |= reach[u] & usable[e]`` until nothing changes);
3. for every distinct client set, the trials in which each site is reached from an up client:
   the whole main component where a client lies in it, plus a propagation from the clients
   outside it, which only spreads through their own small components (kept apart, so a
   client set costs nothing per site unless one of its clients is cut off);
4. walks the services in dependency order: down, served by a secondary, breach.

Breach needs no per-trial numbers: a served service loses more than its RPO iff no reachable
secondary with ``data loss <= rpo_s`` exists (the chosen one has the least data loss), and its
recovery exceeds its RTO iff some service in its dependency closure (itself included) whose
``failover_s > rto_s`` is served by a secondary. Both reduce to ORs of precomputed masks.

The kernel functions are plain Python; :func:`evaluate_packed` compiles them with numba on
first use when the work is large enough to repay numba's start-up, and interprets them
otherwise. Importing this module does not import numba.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from georesil.analysis.reference import data_loss
from georesil.model import FailureSet, Topology

__all__ = [
    "CompiledTopology",
    "PackedOutcome",
    "compile_topology",
    "evaluate_packed",
    "evaluate_sets",
    "pack_rows",
    "pack_sets",
    "unpack",
]

_I = np.int64


@dataclass(frozen=True, eq=False)  # arrays do not compare with ==
class CompiledTopology:
    """A topology flattened into integer arrays for the kernel.

    Attributes:
        site_ids: Site ids in topology file order (row ``i`` of ``site_down`` is site ``i``).
        link_ids: Link ids in file order.
        service_ids: Service ids in file order (rows of every outcome array).
        link_a, link_b: End sites of each link.
        adj_ptr, adj_site, adj_link: CSR adjacency; the neighbours of site ``u`` are
            ``adj_site[adj_ptr[u]:adj_ptr[u + 1]]`` over links ``adj_link[...]``.
        root_order: Sites by decreasing degree (file order on ties): candidate roots.
        cs_ptr, cs_site: CSR of the distinct client sets.
        order: Service indices in evaluation (dependency) order.
        svc_client_set: Client-set index of each service.
        svc_primary: Site index of each service's primary.
        sec_ptr, sec_site, sec_lag, sec_within_rpo: Secondaries of each service sorted by data
            loss then file order, with their data loss and whether it is ``<= rpo_s``.
        dep_ptr, dep_svc: Direct dependencies of each service.
        slow_ptr, slow_svc: Services in each service's dependency closure (itself included)
            whose ``failover_s`` exceeds the service's ``rto_s``.
        tier, rto_s, rpo_s, failover_s: Per-service objectives.
    """

    site_ids: tuple[str, ...]
    link_ids: tuple[str, ...]
    service_ids: tuple[str, ...]
    link_a: np.ndarray
    link_b: np.ndarray
    adj_ptr: np.ndarray
    adj_site: np.ndarray
    adj_link: np.ndarray
    root_order: np.ndarray
    cs_ptr: np.ndarray
    cs_site: np.ndarray
    order: np.ndarray
    svc_client_set: np.ndarray
    svc_primary: np.ndarray
    sec_ptr: np.ndarray
    sec_site: np.ndarray
    sec_lag: np.ndarray
    sec_within_rpo: np.ndarray
    dep_ptr: np.ndarray
    dep_svc: np.ndarray
    slow_ptr: np.ndarray
    slow_svc: np.ndarray
    tier: np.ndarray
    rto_s: np.ndarray
    rpo_s: np.ndarray
    failover_s: np.ndarray

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_links(self) -> int:
        return len(self.link_ids)

    @property
    def n_services(self) -> int:
        return len(self.service_ids)

    @property
    def terminals(self) -> np.ndarray:
        """``bool (n_sites,)``: the sites an outcome reads — every client and replica site.

        Every outcome is a function of which of them are up and which of them are connected
        through up sites and usable links; any other site or link matters only through that.
        """
        mask = np.zeros(self.n_sites, dtype=np.bool_)
        for sites in (self.cs_site, self.svc_primary, self.sec_site):
            mask[sites] = True
        return mask


class PackedOutcome(NamedTuple):
    """Outcome bits, each ``uint64 (n_services, W)``.

    ``down``: the service is down. ``breach``: not down, and data loss > RPO or recovery > RTO.
    ``failover``: not down and served by a secondary. Bits of trials that were not filled in
    describe the trial in which nothing failed: mask them out before counting.
    """

    down: np.ndarray
    breach: np.ndarray
    failover: np.ndarray


def _csr(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=_I)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    flat = np.fromiter((x for r in rows for x in r), dtype=_I, count=int(ptr[-1]))
    return ptr, flat


def compile_topology(topology: Topology) -> CompiledTopology:
    """Flatten ``topology`` into the arrays the kernel reads.

    Notes:
        O(V + E + N²) for V sites, E links and N services (dependency closures).
    """
    site_ix = {s: i for i, s in enumerate(topology.sites)}
    svc_ix = {s: i for i, s in enumerate(topology.services)}
    link_a, link_b, adj_ptr, adj_site, adj_link = _adjacency(topology, site_ix)
    client_sets: dict[tuple[int, ...], int] = {}
    svc_cs, secondaries = [], []
    for sid in topology.services:
        clients = tuple(sorted({site_ix[c] for c in topology.clients(sid)}))
        svc_cs.append(client_sets.setdefault(clients, len(client_sets)))
        rpo = topology.service(sid).rpo_s
        losses = [(data_loss(topology, sid, r), i, r)
                  for i, r in enumerate(topology.secondaries(sid))]
        secondaries.append([(site_ix[r.site], loss, loss <= rpo) for loss, _, r in
                            sorted(losses, key=lambda x: (x[0], x[1]))])
    cs_ptr, cs_site = _csr(list(client_sets))
    sec_ptr, sec_site = _csr([[s for s, _, _ in row] for row in secondaries])
    dep_ptr, dep_svc = _csr([[svc_ix[d] for d in v.depends_on] for v in topology.services.values()])
    slow_ptr, slow_svc = _csr(_slow_closures(topology, svc_ix))
    specs = list(topology.services.values())
    return CompiledTopology(
        site_ids=tuple(topology.sites), link_ids=tuple(topology.links),
        service_ids=tuple(topology.services),
        link_a=link_a, link_b=link_b, adj_ptr=adj_ptr, adj_site=adj_site, adj_link=adj_link,
        root_order=np.argsort(-np.diff(adj_ptr), kind="stable").astype(_I),
        cs_ptr=cs_ptr, cs_site=cs_site,
        order=np.array([svc_ix[s] for s in topology.service_order], dtype=_I),
        svc_client_set=np.array(svc_cs, dtype=_I),
        svc_primary=np.array([site_ix[topology.primary(s).site] for s in topology.services],
                             dtype=_I),
        sec_ptr=sec_ptr, sec_site=sec_site,
        sec_lag=np.array([lag for row in secondaries for _, lag, _ in row], dtype=np.float64),
        sec_within_rpo=np.array([ok for row in secondaries for _, _, ok in row], dtype=np.bool_),
        dep_ptr=dep_ptr, dep_svc=dep_svc, slow_ptr=slow_ptr, slow_svc=slow_svc,
        tier=np.array([s.tier for s in specs], dtype=_I),
        rto_s=np.array([s.rto_s for s in specs], dtype=np.float64),
        rpo_s=np.array([s.rpo_s for s in specs], dtype=np.float64),
        failover_s=np.array([s.failover_s for s in specs], dtype=np.float64),
    )


def _adjacency(topology: Topology, site_ix: dict[str, int]) -> tuple[np.ndarray, ...]:
    """``(link_a, link_b, adj_ptr, adj_site, adj_link)``: link ends and the CSR adjacency."""
    links = list(topology.links.values())
    link_a = np.array([site_ix[k.a] for k in links], dtype=_I)
    link_b = np.array([site_ix[k.b] for k in links], dtype=_I)
    neighbours: list[list[tuple[int, int]]] = [[] for _ in site_ix]
    for e, (a, b) in enumerate(zip(link_a.tolist(), link_b.tolist(), strict=True)):
        neighbours[a].append((b, e))
        neighbours[b].append((a, e))
    adj_ptr, adj_site = _csr([[v for v, _ in row] for row in neighbours])
    _, adj_link = _csr([[e for _, e in row] for row in neighbours])
    return link_a, link_b, adj_ptr, adj_site, adj_link


def _slow_closures(topology: Topology, svc_ix: dict[str, int]) -> list[list[int]]:
    """Per service: the services of its dependency closure (itself included) whose failover
    takes longer than its RTO; if any of them fails over, its recovery breaches."""
    closure: dict[str, set[str]] = {}
    for sid in topology.service_order:  # dependencies first, so their closures exist
        closure[sid] = {sid}.union(*(closure[d] for d in topology.service(sid).depends_on))
    return [sorted(svc_ix[t] for t in closure[sid]
                   if topology.service(t).failover_s > svc.rto_s)
            for sid, svc in topology.services.items()]


# -- the kernel: plain Python, compiled by numba on demand (see _compiled) ----------------
#
# The kernel works on a block of _LANES words at a time (64·_LANES trials): every per-site
# and per-link array has a row of _LANES words, one 64-byte cache line, so one walk over the
# adjacency moves the bits of 512 trials, and the inner loops over the lanes compile to
# vector instructions.

#: Words evaluated together: 8 uint64 words are one 64-byte cache line of each row.
_LANES = 8


def _spread(reach: np.ndarray, queue: np.ndarray, count: int, queued: np.ndarray,
        adj_ptr: np.ndarray, adj_site: np.ndarray, adj_link: np.ndarray, usable: np.ndarray
        ) -> None:
    """Propagate trial bits from the ``count`` sites queued until nothing changes.

    ``reach`` and ``usable`` have one row of :data:`_LANES` words per site and per link.
    First in, first out: bits travel in breadth-first layers, so a site seldom gains bits
    (and re-enters the queue) after it was processed. ``queued`` keeps each site in the ring
    buffer at most once, so ``len(queue)`` = number of sites always suffices.
    """
    size = queue.shape[0]
    head = 0
    while count > 0:
        u = queue[head]
        head = head + 1 if head + 1 < size else 0
        count -= 1
        queued[u] = False
        for k in range(adj_ptr[u], adj_ptr[u + 1]):
            v = adj_site[k]
            e = adj_link[k]
            gained = np.uint64(0)
            for b in range(_LANES):
                new = reach[u, b] & usable[e, b] & ~reach[v, b]
                reach[v, b] |= new
                gained |= new
            if gained != 0 and not queued[v]:
                queued[v] = True
                tail = head + count
                queue[tail if tail < size else tail - size] = v
                count += 1


def _main_component(up: np.ndarray, usable: np.ndarray, root: np.ndarray, root_order: np.ndarray,
        queue: np.ndarray, queued: np.ndarray, adj_ptr: np.ndarray, adj_site: np.ndarray,
        adj_link: np.ndarray) -> None:
    """``root[v]``: the trials in which site v is connected to that trial's root.

    A trial's root is its first up site in ``root_order`` (breadth-first from the
    best-connected site), so the root's component is, almost always, the big one.
    """
    assigned = np.zeros(_LANES, np.uint64)
    count = 0
    for v in root_order:
        seeded = np.uint64(0)
        for b in range(_LANES):
            root[v, b] = up[v, b] & ~assigned[b]
            assigned[b] |= up[v, b]
            seeded |= root[v, b]
        if seeded != 0:
            queue[count] = v
            queued[v] = True
            count += 1
    _spread(root, queue, count, queued, adj_ptr, adj_site, adj_link, usable)


def _reach_from_clients(extra: np.ndarray, in_main: np.ndarray, spread: np.ndarray,
        up: np.ndarray, usable: np.ndarray, root: np.ndarray, cs_ptr: np.ndarray,
        cs_site: np.ndarray, queue: np.ndarray, queued: np.ndarray, adj_ptr: np.ndarray,
        adj_site: np.ndarray, adj_link: np.ndarray) -> None:
    """For each client set c, the trials in which each site is reached from an up client.

    Site v is reached in ``(root[v] & in_main[c]) | extra[c, v]``: the whole main component
    where a client lies in it, plus what the clients outside it reach, which only spreads
    through their own small components (never into the main one), so ``extra`` stays zero
    but where some client is cut off (``spread[c]``; the caller clears those rows).
    """
    for c in range(cs_ptr.shape[0] - 1):
        for b in range(_LANES):
            in_main[c, b] = 0
        count = 0
        for k in range(cs_ptr[c], cs_ptr[c + 1]):
            s = cs_site[k]
            outside = np.uint64(0)
            for b in range(_LANES):
                in_main[c, b] |= root[s, b]
                cut_off = up[s, b] & ~root[s, b]
                extra[c, s, b] |= cut_off
                outside |= cut_off
            if outside != 0 and not queued[s]:
                queued[s] = True
                queue[count] = s
                count += 1
        spread[c] = count > 0
        if count > 0:
            _spread(extra[c], queue, count, queued, adj_ptr, adj_site, adj_link, usable)


def _services(first: int, words: int, root: np.ndarray, in_main: np.ndarray,
        extra: np.ndarray, service_fail: np.ndarray, down: np.ndarray, breach: np.ndarray,
        failover: np.ndarray, order: np.ndarray, svc_cs: np.ndarray, svc_primary: np.ndarray,
        sec_ptr: np.ndarray, sec_site: np.ndarray, sec_within_rpo: np.ndarray,
        dep_ptr: np.ndarray, dep_svc: np.ndarray, slow_ptr: np.ndarray, slow_svc: np.ndarray
        ) -> None:
    for i in range(order.shape[0]):
        s = order[i]
        c = svc_cs[s]
        p = svc_primary[s]
        for b in range(words):
            w = first + b
            main = in_main[c, b]
            dead = service_fail[s, w]
            for k in range(dep_ptr[s], dep_ptr[s + 1]):
                dead |= down[dep_svc[k], w]
            primary = (root[p, b] & main) | extra[c, p, b]
            anywhere = primary
            within_rpo = np.uint64(0)
            for k in range(sec_ptr[s], sec_ptr[s + 1]):
                x = sec_site[k]
                bits = (root[x, b] & main) | extra[c, x, b]
                anywhere |= bits
                if sec_within_rpo[k]:
                    within_rpo |= bits
            dead |= ~anywhere
            moved = ~dead & ~primary
            down[s, w] = dead
            failover[s, w] = moved
            slow = np.uint64(0)
            for k in range(slow_ptr[s], slow_ptr[s + 1]):
                slow |= failover[slow_svc[k], w]
            breach[s, w] = ~dead & ((moved & ~within_rpo) | slow)


def _evaluate(site_down: np.ndarray, link_down: np.ndarray, service_fail: np.ndarray,
        link_a: np.ndarray, link_b: np.ndarray, adj_ptr: np.ndarray, adj_site: np.ndarray,
        adj_link: np.ndarray, root_order: np.ndarray, cs_ptr: np.ndarray, cs_site: np.ndarray,
        order: np.ndarray, svc_cs: np.ndarray, svc_primary: np.ndarray, sec_ptr: np.ndarray,
        sec_site: np.ndarray, sec_within_rpo: np.ndarray, dep_ptr: np.ndarray,
        dep_svc: np.ndarray, slow_ptr: np.ndarray, slow_svc: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_sites, n_words = site_down.shape
    n_links = link_down.shape[0]
    n_svc = svc_cs.shape[0]
    n_cs = cs_ptr.shape[0] - 1
    down = np.zeros((n_svc, n_words), np.uint64)
    breach = np.zeros((n_svc, n_words), np.uint64)
    failover = np.zeros((n_svc, n_words), np.uint64)
    up = np.empty((n_sites, _LANES), np.uint64)
    usable = np.empty((n_links, _LANES), np.uint64)
    root = np.empty((n_sites, _LANES), np.uint64)
    in_main = np.empty((n_cs, _LANES), np.uint64)
    extra = np.zeros((n_cs, n_sites, _LANES), np.uint64)
    spread = np.zeros(n_cs, np.bool_)
    queue = np.empty(n_sites, np.int64)
    queued = np.zeros(n_sites, np.bool_)
    for first in range(0, n_words, _LANES):
        words = min(_LANES, n_words - first)
        for v in range(n_sites):  # lanes past the last word: every site down
            for b in range(_LANES):
                up[v, b] = ~site_down[v, first + b] if b < words else np.uint64(0)
        for e in range(n_links):
            a = link_a[e]
            z = link_b[e]
            for b in range(_LANES):
                failed = link_down[e, first + b] if b < words else np.uint64(0)
                usable[e, b] = ~failed & up[a, b] & up[z, b]
        _main_component(up, usable, root, root_order, queue, queued, adj_ptr, adj_site,
                        adj_link)
        _reach_from_clients(extra, in_main, spread, up, usable, root, cs_ptr, cs_site, queue,
                            queued, adj_ptr, adj_site, adj_link)
        _services(first, words, root, in_main, extra, service_fail, down, breach, failover,
                  order, svc_cs, svc_primary, sec_ptr, sec_site, sec_within_rpo, dep_ptr,
                  dep_svc, slow_ptr, slow_svc)
        for c in range(n_cs):
            if spread[c]:
                extra[c] = 0
    return down, breach, failover


_KERNEL_FUNCTIONS = ("_spread", "_main_component", "_reach_from_clients", "_services",
                     "_evaluate")


@functools.cache
def _compiled() -> Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The kernel compiled by numba (``njit(cache=True)``), built on first use.

    The functions above are plain Python so that importing this module, and evaluating a few
    words, never pays numba's start-up (about a second: its import, type registries and cached
    machine code). Each is recompiled from its own code object in a namespace where its
    callees are the compiled versions, so both engines run exactly the same code.
    """
    from numba import njit

    env: dict[str, Any] = dict(globals())
    for name in _KERNEL_FUNCTIONS:
        f = globals()[name]
        env[name] = njit(cache=True)(
            types.FunctionType(f.__code__, env, f.__name__, f.__defaults__, f.__closure__))
    return env["_evaluate"]  # type: ignore[no-any-return]


#: Below this many word-element operations the interpreter beats numba's start-up cost.
SMALL_WORK = 40_000


# -- the Python surface --------------------------------------------------------------------


def _words(array: np.ndarray, rows: int, name: str) -> np.ndarray:
    out = np.ascontiguousarray(array, dtype=np.uint64)
    if out.ndim != 2 or out.shape[0] != rows:
        raise ValueError(f"{name} must be uint64 of shape ({rows}, W); got {array.shape}")
    return out


def evaluate_packed(
    ct: CompiledTopology,
    site_down: np.ndarray,
    link_down: np.ndarray,
    service_fail: np.ndarray | None = None,
    *,
    engine: Literal["auto", "numba", "python"] = "auto",
) -> PackedOutcome:
    """Evaluate 64·W failure sets at once.

    Args:
        ct: From :func:`compile_topology`.
        site_down: ``uint64 (n_sites, W)``; bit j of word w set = site down in trial 64w + j.
        link_down: ``uint64 (n_links, W)``.
        service_fail: ``uint64 (n_services, W)`` services failing by themselves, or ``None``.
        engine: ``numba`` (compiled), ``python`` (the same code, interpreted: no start-up
            cost) or ``auto``: the interpreter below :data:`SMALL_WORK`, numba above.

    Returns:
        ``PackedOutcome(down, breach, failover)``, each ``uint64 (n_services, W)`` with rows
        in ``ct.service_ids`` order.

    Notes:
        Per block of 8 words O(V + E) for the main component (a site re-enters the worklist
        only when it gains a bit: at most 512 times, typically once or twice), plus per
        distinct client set O(C) for its C clients and O(size of their components) where a
        client is cut off from the main component, plus O(N·(R + D)) per word for N services
        with R replicas and D dependencies. Words are padded to a whole block.
    """
    if engine not in ("auto", "numba", "python"):
        raise ValueError(f"engine must be 'auto', 'numba' or 'python'; got {engine!r}")
    site_down = _words(site_down, ct.n_sites, "site_down")
    n_words = site_down.shape[1]
    link_down = _words(link_down, ct.n_links, "link_down") if ct.n_links else \
        np.zeros((0, n_words), np.uint64)
    if service_fail is None:
        service_fail = np.zeros((ct.n_services, n_words), np.uint64)
    service_fail = _words(service_fail, ct.n_services, "service_fail")
    if link_down.shape[1] != n_words or service_fail.shape[1] != n_words:
        raise ValueError("site_down, link_down and service_fail need the same number of words")
    work = n_words * (ct.n_sites + 2 * ct.n_links + ct.n_services) * (len(ct.cs_ptr) + 1)
    use_numba = engine == "numba" or (engine == "auto" and work > SMALL_WORK)
    kernel = _compiled() if use_numba else _evaluate
    down, breach, failover = kernel(
        site_down, link_down, service_fail, ct.link_a, ct.link_b, ct.adj_ptr, ct.adj_site,
        ct.adj_link, ct.root_order, ct.cs_ptr, ct.cs_site, ct.order, ct.svc_client_set,
        ct.svc_primary, ct.sec_ptr, ct.sec_site, ct.sec_within_rpo, ct.dep_ptr, ct.dep_svc,
        ct.slow_ptr, ct.slow_svc,
    )
    return PackedOutcome(down, breach, failover)


def pack_rows(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Pack trial ``t``'s rows ``rows[t, :]`` (``-1`` = padding) into ``uint64 (n_rows, W)``."""
    rows = np.asarray(rows, dtype=_I)
    if rows.ndim != 2:
        raise ValueError(f"rows must be 2-D (trials, k); got shape {rows.shape}")
    trial = np.arange(len(rows), dtype=_I)
    bit = np.left_shift(np.uint64(1), (trial & 63).astype(np.uint64))
    out = np.zeros((n_rows, (len(rows) + 63) // 64), dtype=np.uint64)
    for column in rows.T:
        used = column >= 0
        # Several trials of one word may fail the same row: accumulate with ufunc.at.
        np.bitwise_or.at(out, (column[used], trial[used] >> 6), bit[used])
    return out


def pack_sets(ct: CompiledTopology, failure_sets: Sequence[FailureSet]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(site_down, link_down, service_fail)`` words for a list of failure sets."""
    sites = {s: i for i, s in enumerate(ct.site_ids)}
    links = {k: ct.n_sites + i for i, k in enumerate(ct.link_ids)}
    services = {v: ct.n_sites + ct.n_links + i for i, v in enumerate(ct.service_ids)}
    rows = [[sites[s] for s in f.sites] + [links[k] for k in f.links]
            + [services[v] for v in f.services] for f in failure_sets]
    width = max((len(r) for r in rows), default=0)
    table = np.full((max(len(rows), 1), max(width, 1)), -1, dtype=_I)
    for t, r in enumerate(rows):
        table[t, : len(r)] = r
    packed = pack_rows(table, ct.n_sites + ct.n_links + ct.n_services)
    n_sl = ct.n_sites + ct.n_links
    return packed[: ct.n_sites], packed[ct.n_sites : n_sl], packed[n_sl:]


def evaluate_sets(ct: CompiledTopology, failure_sets: Sequence[FailureSet], *,
                  engine: Literal["auto", "numba", "python"] = "auto") -> PackedOutcome:
    """Evaluate a list of failure sets: set ``i`` is bit ``i % 64`` of word ``i // 64``."""
    return evaluate_packed(ct, *pack_sets(ct, failure_sets), engine=engine)


def unpack(words: np.ndarray, n: int) -> np.ndarray:
    """``(rows, W)`` uint64 words to ``(rows, n)`` booleans: column ``t`` is trial ``t``."""
    words = np.ascontiguousarray(words, dtype=np.uint64)
    if not 0 <= n <= 64 * words.shape[1]:
        raise ValueError(f"n must be 0 to {64 * words.shape[1]} for {words.shape[1]} words; "
                         f"got {n}")
    if sys.byteorder != "little":  # bit t of a word must be byte t // 8 of its bytes
        words = words.byteswap()
    as_bytes = words.view(np.uint8).reshape(words.shape[0], 8 * words.shape[1])
    return np.unpackbits(as_bytes, axis=1, bitorder="little", count=n).astype(bool)
