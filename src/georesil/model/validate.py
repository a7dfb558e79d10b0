"""Cross-reference checks of a topology document.

Pydantic checks each record's shape; this module checks how records refer to each other:
unknown and duplicate ids, links to themselves, primaries, replication settings, dependency
cycles and scenario failure references. It works on the raw document (plain dicts and lists)
and tolerates records pydantic rejected, so that every problem in a file is reported at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import networkx as nx

from georesil.model._positions import Loc, did_you_mean, quoted_list
from georesil.model.schema import CONTROL_APIS

__all__ = ["REF_KINDS", "check_document", "parse_ref"]

#: Failure reference prefixes and what they name.
REF_KINDS: dict[str, str] = {
    "site": "sites",
    "link": "links",
    "srlg": "srlgs",
    "zone": "zones",
    "service": "services",
}

Report = Callable[[Loc, str], None]

#: Dependency cycles reported per file at most.
_MAX_CYCLES = 100


def parse_ref(ref: object) -> tuple[str, str] | None:
    """Split ``kind:id`` into its parts, or ``None`` when it is not of that form."""
    if not isinstance(ref, str) or ref.count(":") != 1:
        return None
    kind, ident = ref.split(":")
    if kind not in REF_KINDS or not ident:
        return None
    return kind, ident


def _records(raw: dict[str, Any], section: str) -> Iterator[tuple[int, dict[str, Any]]]:
    items = raw.get(section)
    if not isinstance(items, list):
        return
    for i, item in enumerate(items):
        if isinstance(item, dict):
            yield i, item


def _str_list(value: object) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]


class _Ids(dict[str, int]):
    """Ids of one section (id -> index of its first record), with the messages about them.

    A file with thousands of references to one misspelt id would otherwise sort and fuzzy-match
    every id once per reference: quadratic. Each message is built once per distinct value.
    """

    def __init__(self) -> None:
        super().__init__()
        self._messages: dict[tuple[str, str], str] = {}
        self._listing: str | None = None

    def unknown(self, value: str, what: str) -> str:
        message = self._messages.get((value, what))
        if message is None:
            if self._listing is None:
                self._listing = quoted_list(self)
            message = (f"unknown {what} {value!r}; known {what}s: {self._listing}"
                       + did_you_mean(value, self))
            self._messages[(value, what)] = message
        return message


def _ids(raw: dict[str, Any], section: str, report: Report) -> _Ids:
    """Ids of a section, reporting duplicates; maps id to the index of its first record."""
    seen = _Ids()
    for i, rec in _records(raw, section):
        ident = rec.get("id")
        if not isinstance(ident, str):
            continue
        if ident in seen:
            report(
                [section, i, "id"],
                f"duplicate id {ident!r}; first defined at {section}[{seen[ident]}]",
            )
        else:
            seen[ident] = i
    return seen


def _unknown(report: Report, loc: Loc, value: str, what: str, known: _Ids) -> None:
    report(loc, known.unknown(value, what))


def check_document(raw: dict[str, Any], report: Report) -> None:
    """Check every cross-reference in ``raw``, calling ``report(loc, message)`` per problem."""
    zones = _ids(raw, "zones", report)
    sites = _ids(raw, "sites", report)
    links = _ids(raw, "links", report)
    services = _ids(raw, "services", report)
    _ids(raw, "scenarios", report)
    seismic = raw.get("seismic")
    if isinstance(seismic, dict):
        _ids(seismic, "sources", lambda loc, msg: report(["seismic", *loc], msg))
    _check_zones(raw, report)
    _check_sites(raw, zones, report)
    srlgs = _check_links(raw, sites, zones, report)
    _check_services(raw, sites, services, report)
    _check_control(raw, sites, zones, report)
    _check_scenarios(raw, {"site": sites, "link": links, "srlg": srlgs, "zone": zones,
                           "service": services}, report)


def _check_reliability(section: str, i: int, rec: dict[str, Any], report: Report) -> None:
    has_u = rec.get("unavailability") is not None
    has_mtbf = rec.get("mtbf_h") is not None
    if has_mtbf and rec.get("mttr_h") is None:
        report([section, i, "mtbf_h"], "mtbf_h needs mttr_h (mean time to repair, hours)")
    if has_u and has_mtbf:
        report(
            [section, i, "unavailability"],
            "give either 'unavailability' or 'mtbf_h' + 'mttr_h', not both",
        )


def _check_zones(raw: dict[str, Any], report: Report) -> None:
    for i, rec in _records(raw, "zones"):
        rate, duration = rec.get("annual_rate"), rec.get("mean_duration_h")
        if (rate is None) != (duration is None):
            missing = "mean_duration_h" if duration is None else "annual_rate"
            report(["zones", i], f"a zone outage model needs both annual_rate and "
                   f"mean_duration_h; {missing} is missing")
        if rate is not None and rec.get("unavailability") is not None:
            report(["zones", i, "unavailability"],
                   "give either 'unavailability' or 'annual_rate' + 'mean_duration_h', not both")


def _check_sites(raw: dict[str, Any], zones: _Ids, report: Report) -> None:
    for i, rec in _records(raw, "sites"):
        for j, zone in _str_list(rec.get("zones")):
            if zone not in zones:
                _unknown(report, ["sites", i, "zones", j], zone, "zone", zones)
        _check_reliability("sites", i, rec, report)


def _check_links(
    raw: dict[str, Any], sites: _Ids, zones: _Ids, report: Report
) -> _Ids:
    srlgs = _Ids()
    located = {rec["id"] for _, rec in _records(raw, "sites")
               if isinstance(rec.get("id"), str) and isinstance(rec.get("location"), dict)}
    for i, rec in _records(raw, "links"):
        for end in ("a", "b"):
            site = rec.get(end)
            if isinstance(site, str) and site not in sites:
                _unknown(report, ["links", i, end], site, "site", sites)
        if isinstance(rec.get("a"), str) and rec.get("a") == rec.get("b"):
            report(["links", i, "b"], f"link joins site {rec['a']!r} to itself; "
                   "a link needs two different sites")
        for j, zone in _str_list(rec.get("zones")):
            if zone not in zones:
                _unknown(report, ["links", i, "zones", j], zone, "zone", zones)
        for _, group in _str_list(rec.get("srlg")):
            srlgs.setdefault(group, i)
        if rec.get("cut_rate_per_1000km_yr") is not None and rec.get("length_km") is None:
            unlocated = [end for end in ("a", "b")
                         if not isinstance(rec.get(end), str) or rec[end] not in located]
            if unlocated:
                report(["links", i, "cut_rate_per_1000km_yr"],
                       "a cut rate per 1000 km needs the link's length: give length_km, or "
                       "a location for site " + " and ".join(repr(rec.get(e)) for e in unlocated))
        _check_reliability("links", i, rec, report)
    return srlgs


def _check_services(
    raw: dict[str, Any], sites: _Ids, services: _Ids, report: Report
) -> None:
    deps: nx.DiGraph[str] = nx.DiGraph()
    for i, rec in _records(raw, "services"):
        ident = rec.get("id")
        _check_replicas(i, rec, sites, report)
        for j, client in _str_list(rec.get("clients")):
            if client not in sites:
                _unknown(report, ["services", i, "clients", j], client, "site", sites)
        for j, dep in _str_list(rec.get("depends_on")):
            loc: list[str | int] = ["services", i, "depends_on", j]
            if dep == ident:
                report(loc, f"service {ident!r} depends on itself")
            elif dep not in services:
                _unknown(report, loc, dep, "service", services)
            elif isinstance(ident, str):
                deps.add_edge(ident, dep, loc=loc)
    # Johnson's algorithm yields each cycle after polynomial work, but a dense dependency graph
    # has exponentially many: report the first _MAX_CYCLES.
    for found in itertools.islice(nx.simple_cycles(deps), _MAX_CYCLES):
        # Start each cycle at its service that comes first in the file, so messages are stable.
        start = min(range(len(found)), key=lambda k: services[found[k]])
        cycle = found[start:] + found[:start]
        first = cycle[0]
        loc = deps.edges[first, cycle[1 % len(cycle)]]["loc"]
        chain = " -> ".join([*cycle, first])
        report(loc, f"dependency cycle {chain}; services must depend on each other "
               "without cycles")


def _check_replicas(i: int, rec: dict[str, Any], sites: _Ids, report: Report) -> None:
    replicas = rec.get("replicas")
    if not isinstance(replicas, list):
        return
    primaries: list[int] = []
    placed: dict[str, int] = {}
    for j, rep in enumerate(replicas):
        if not isinstance(rep, dict):
            continue
        loc: list[str | int] = ["services", i, "replicas", j]
        site = rep.get("site")
        if isinstance(site, str):
            if site not in sites:
                _unknown(report, [*loc, "site"], site, "site", sites)
            elif site in placed:
                report([*loc, "site"], f"site {site!r} already holds replica {placed[site]} "
                       "of this service; one replica per site")
            else:
                placed[site] = j
        role, mode = rep.get("role"), rep.get("replication")
        if role == "primary":
            primaries.append(j)
            for key in ("replication", "lag_s"):
                if rep.get(key) is not None:
                    report([*loc, key], f"{key} is set on the primary; replication settings "
                           "belong on secondaries")
        elif role == "secondary":
            if mode is None:
                report(loc, "a secondary needs 'replication': one of 'sync', 'async', 'backup'")
            elif mode in ("async", "backup") and rep.get("lag_s") is None:
                report(loc, f"{mode} replication needs 'lag_s' (seconds of writes at risk)")
            elif mode == "sync" and rep.get("lag_s") not in (None, 0, 0.0):
                report([*loc, "lag_s"], f"sync replication has no lag; got lag_s "
                       f"{rep.get('lag_s')!r}, allowed: 0 or leave it out")
    if not primaries and replicas:
        report(["services", i, "replicas"], "no replica has role 'primary'; exactly one must")
    for j in primaries[1:]:
        report(["services", i, "replicas", j, "role"],
               f"a second primary (the first is replicas[{primaries[0]}]); exactly one allowed")


def _check_control(raw: dict[str, Any], sites: _Ids, zones: _Ids, report: Report) -> None:
    control = raw.get("control")
    if not isinstance(control, dict):
        return
    site = control.get("site")
    if isinstance(site, str):
        if site not in sites:
            _unknown(report, ["control", "site"], site, "site", sites)
        else:
            rec = raw["sites"][sites[site]]
            ep = rec.get("endpoint") if isinstance(rec, dict) else None
            if not isinstance(ep, dict) or not _offers_control(ep):
                report(["control", "site"],
                       f"witness site {site!r} cannot hold the control plane: its endpoint must "
                       f"offer {', '.join(CONTROL_APIS)} (an AWS region, or an endpoint listing "
                       "them under 'apis')")
    for j, zone in _str_list(control.get("zones")):
        if zone not in zones:
            _unknown(report, ["control", "zones", j], zone, "zone", zones)


def _offers_control(endpoint: dict[str, Any]) -> bool:
    """Whether a raw endpoint record offers every API the control plane needs."""
    kind = endpoint.get("kind")
    if kind == "aws" or (kind is None and endpoint.get("aws_region") is not None):
        return True
    apis = endpoint.get("apis")
    return isinstance(apis, dict) and all(api in apis for api in CONTROL_APIS)


def _check_scenarios(
    raw: dict[str, Any], known: dict[str, _Ids], report: Report
) -> None:
    for i, rec in _records(raw, "scenarios"):
        seen: set[str] = set()
        fail = rec.get("fail")
        for j, ref in enumerate(fail if isinstance(fail, list) else []):
            loc: list[str | int] = ["scenarios", i, "fail", j]
            parsed = parse_ref(ref)
            if parsed is None:
                report(loc, f"malformed failure reference {ref!r}; allowed: "
                       "site:ID, link:ID, srlg:ID, zone:ID, service:ID")
                continue
            if ref in seen:
                report(loc, f"duplicate failure reference {ref!r}")
            seen.add(ref)
            kind, ident = parsed
            if ident not in known[kind]:
                _unknown(report, loc, ident, kind if kind != "srlg" else "SRLG", known[kind])

