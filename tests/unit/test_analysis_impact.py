"""Known-answer impacts, checked on paper."""

from __future__ import annotations

import pytest

from georesil.analysis import Status, inject
from georesil.analysis.capacity import absorption
from georesil.errors import InvalidInput, InvalidReference
from tests.unit._analysis_build import build, chain, link, service, site


def test_nothing_failed_is_ok() -> None:
    """With nothing failed the primary serves with no loss and no recovery time."""
    out = inject(chain(), []).services["web"]
    assert (out.status, out.serving_site, out.data_loss_s, out.recovery_s) == \
        (Status.OK, "a", 0, 0)


def test_chain_link_cut_fails_over_with_lag() -> None:
    """Cutting a—b sends b's users to the async secondary at c, losing its lag."""
    out = inject(chain(), ["link:ab"]).services["web"]
    assert (out.status, out.serving_site, out.data_loss_s, out.recovery_s) == \
        (Status.FAILOVER, "c", 30, 60)
    assert out.reason == "primary cut off from all clients; failed over to c"


def test_chain_primary_site_down_is_no_split_brain() -> None:
    """A dead primary is no split-brain risk, and the reason names the site."""
    out = inject(chain(), ["site:a"]).services["web"]
    assert out.split_brain_risk is False
    assert out.reason.startswith("primary site a down")


def test_chain_client_site_down_is_down() -> None:
    """With its only client site down the service is down, with nulls in its JSON."""
    impact = inject(chain(), ["site:b"])
    assert impact.to_json()["services"]["web"] == {
        "status": "down", "serving_site": None, "data_loss_s": None, "recovery_s": None,
        "split_brain_risk": False, "clients_served": 0.0, "reason": "no client site is up"}


def test_chain_both_replicas_cut_off_is_down() -> None:
    """Cut off from both replicas, the service is down for that reason."""
    out = inject(chain(), ["link:ab", "link:bc"]).services["web"]
    assert (out.status, out.reason) == (Status.DOWN, "no replica reachable from an up client site")


def test_data_loss_over_rpo_is_breach() -> None:
    """Failing over to a secondary whose lag exceeds the RPO is a breach."""
    topo = build([site("a"), site("b")], [link("ab", "a", "b")],
                 [service("db", "a", ("b", "backup", 900), rpo_s=60)])
    out = inject(topo, ["site:a"]).services["db"]
    assert (out.status, out.data_loss_s) == (Status.BREACH, 900)
    assert "data loss 900 s > RPO 60 s" in out.reason


def test_least_data_loss_secondary_wins_ties_by_file_order() -> None:
    """The reachable secondary with the least loss serves; equal losses go to the first listed."""
    topo = build([site(x) for x in "abcd"],
                 [link("ab", "a", "b"), link("bc", "b", "c"), link("cd", "c", "d")],
                 [service("db", "a", ("b", "async", 60), ("c", "backup", 5),
                          ("d", "async", 5))])
    assert inject(topo, ["site:a"]).services["db"].serving_site == "c"


def test_sync_secondary_loses_nothing() -> None:
    """A synchronous secondary has data loss 0."""
    topo = build([site("a"), site("b")], [link("ab", "a", "b")],
                 [service("db", "a", ("b", "sync", 0), rpo_s=0)])
    out = inject(topo, ["site:a"]).services["db"]
    assert (out.status, out.data_loss_s) == (Status.FAILOVER, 0)


def test_partition_creates_split_brain_risk() -> None:
    """Clients cut off from a live primary fail over: split-brain risk."""
    topo = build([site("n"), site("s", "south")], [link("ns", "n", "s")],
                 [service("db", "n", ("s", "sync", 0), clients=["s"])])
    out = inject(topo, ["link:ns"]).services["db"]
    assert (out.status, out.serving_site, out.split_brain_risk) == (Status.FAILOVER, "s", True)


def test_partition_with_clients_on_both_sides_serves_half() -> None:
    """A client next to the primary keeps it serving; the cut-off half is not served."""
    topo = build([site("n"), site("s", "south")], [link("ns", "n", "s")],
                 [service("db", "n", ("s", "sync", 0))])
    out = inject(topo, ["link:ns"]).services["db"]
    assert (out.status, out.serving_site, out.clients_served) == (Status.OK, "n", 0.5)


def _dependency_chain():  # type: ignore[no-untyped-def]
    sites = [site("a"), site("b"), site("c")]
    links = [link("ab", "a", "b"), link("bc", "b", "c"), link("ac", "a", "c")]
    return build(sites, links, [
        service("app", "c", rto_s=20, depends_on=["auth"]),
        service("dns", "a", ("b", "sync", 0), failover_s=30, rto_s=60),
        service("auth", "a", ("b", "async", 10), failover_s=20, rto_s=40, rpo_s=60,
                depends_on=["dns"]),
    ])


def test_dependency_recovery_carries_over() -> None:
    """A service waits for its dependencies: recovery is the largest along the chain."""
    impact = inject(_dependency_chain(), ["site:a"])
    got = {s: (o.status, o.recovery_s) for s, o in impact.services.items()}
    assert got == {"app": (Status.BREACH, 30), "dns": (Status.FAILOVER, 30),
                   "auth": (Status.FAILOVER, 30)}
    assert impact.services["app"].reason == \
        "primary c serves; recovery 30 s (waiting for auth) > RTO 20 s"


def test_dependency_down_takes_dependents_down() -> None:
    """A service failing by itself takes down everything depending on it, with reasons."""
    impact = inject(_dependency_chain(), ["service:dns"])
    assert {s: o.reason for s, o in impact.services.items()} == {
        "app": "depends on auth (down)", "dns": "failed itself",
        "auth": "depends on dns (down)"}


def test_services_listed_in_file_order() -> None:
    """The JSON lists services in file order, not dependency order."""
    assert list(inject(_dependency_chain(), []).to_json()["services"]) == ["app", "dns", "auth"]


def test_failed_lists_expanded_base_elements_sorted() -> None:
    """'failed' holds the base elements a zone expands to, and service refs, sorted."""
    topo = build([site("a", zones=["grid"]), site("b")], [link("ab", "a", "b", zones=["grid"])],
                 [service("db", "b")], zones=[{"id": "grid", "kind": "power"}])
    assert inject(topo, ["zone:grid", "service:db"]).failed == \
        ("link:ab", "service:db", "site:a")


def test_unknown_reference_is_invalid_input() -> None:
    """An unknown reference raises InvalidReference naming it."""
    with pytest.raises(InvalidReference, match="unknown site 'x'"):
        inject(chain(), ["site:x"])


def _capacity_case():  # type: ignore[no-untyped-def]
    return build(
        [site("n", capacity={"power_mw": 10}), site("s", "south", capacity={"power_mw": 15})],
        [link("ns", "n", "s")],
        [service("train", "n", ("s", "async", 60), demand={"power_mw": 10}),
         service("serve", "s", demand={"power_mw": 7.5})])


def test_capacity_overflow_after_failover() -> None:
    """Demand that fails over on top of local demand overflows the site's capacity."""
    impact = inject(_capacity_case(), ["site:n"])
    assert impact.to_json()["capacity_overflow"] == [
        {"site": "s", "resource": "power_mw", "demand": 17.5, "capacity": 15}]


def test_capacity_fits_when_nothing_failed() -> None:
    """With nothing failed no site overflows."""
    assert inject(_capacity_case(), []).capacity_overflow == ()


def test_absorption_reports_shortfall() -> None:
    """Failing the north moves 10 MW south, 2.5 MW more than the south has."""
    result = absorption(_capacity_case(), "north", "south")
    power = result.resources[0]
    assert (power.moved, power.demand, power.capacity, power.shortfall) == (10, 17.5, 15, 2.5)
    assert (result.moved_services, result.absorbs) == (("train",), False)


def test_absorption_unknown_region_is_invalid() -> None:
    """An unknown region is bad input naming the known ones."""
    with pytest.raises(InvalidInput, match="unknown region 'east'; known regions: 'north'"):
        absorption(_capacity_case(), "east", "south")


@pytest.mark.parametrize(("kind", "loss", "status"), [
    ("s3-compatible", 120, Status.BREACH),  # georesil's mirror every 120 s: up to 120 s lost
    ("aws", 5, Status.FAILOVER),            # S3 replication: the declared lag
])
def test_mirror_interval_bounds_the_predicted_loss(kind: str, loss: float,
                                                   status: Status) -> None:
    """A pair replicated by the scheduled mirror loses at least one interval of writes; the
    compiled kernel agrees with the reference."""
    from georesil.analysis.kernel import compile_topology, evaluate_sets, unpack

    def endpoint(i: int) -> dict[str, str]:
        return ({"aws_region": f"ap-east-{i}"} if kind == "aws"
                else {"url": f"https://s3.{i}.example", "region": "r"})

    svc = service("store", "a", ("b", "async", 5), rpo_s=60, kind="object-storage")
    svc["replicas"][1]["mirror_interval_s"] = 120
    topo = build([site("a", endpoint=endpoint(1)), site("b", endpoint=endpoint(2))],
                 [link("ab", "a", "b")], [svc])
    out = inject(topo, ["site:a"]).services["store"]
    assert (out.status, out.serving_site, out.data_loss_s) == (status, "b", loss)
    failure = topo.expand(["site:a"])
    got = evaluate_sets(compile_topology(topo), [failure], engine="python")
    assert bool(unpack(got.breach, 1)[0, 0]) is (status is Status.BREACH)
