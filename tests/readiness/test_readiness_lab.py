"""Readiness in the lab: a fresh lab is green; each seeded defect turns exactly its check red
with the fix named, and restoring it turns it green again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from georesil.drills.journal import Journal
from georesil.drills.safety import drills_dir
from georesil.lab import LabState, kill_site, revive_site
from georesil.mirror import sync
from georesil.readiness import CheckStatus, ReadinessReport, run_readiness
from georesil.readiness.context import ReadinessContext, lab_context
from tests.readiness.conftest import RPO_S

pytestmark = [pytest.mark.lab, pytest.mark.slow]

BAD = {CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.UNREACHABLE}


def _red(report: ReadinessReport) -> set[str]:
    return {r.check for r in report.results if r.status in BAD}


def _run(workdir: Path, *, now: float | None = None) -> ReadinessReport:
    return run_readiness(lab_context(workdir, now))


def _ctx(workdir: Path) -> ReadinessContext:
    return lab_context(workdir)


def _bucket(ctx: ReadinessContext, site: str) -> str:
    return ctx.outputs.bucket("store", site).name


@contextmanager
def _green_before_and_after(workdir: Path) -> Iterator[None]:
    before = _run(workdir)
    assert _red(before) == set(), [r.to_json() for r in before.failing()]
    yield
    after = _run(workdir)
    assert _red(after) == set(), [r.to_json() for r in after.failing()]


def test_fresh_lab_is_green(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    report = _run(workdir)
    assert report.exit_code == 0 and _red(report) == set()
    assert {r.check for r in report.results} >= {
        "storage.bucket", "storage.versioning", "storage.encryption", "storage.public_access",
        "storage.replication", "storage.lag", "dns.records", "dns.health",
        "control.reachable", "control.register", "control.locks", "capacity.site_loss",
        "drills.recent"}
    assert report.drift == ()


def test_versioning_suspended(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    with _green_before_and_after(workdir):
        ctx = _ctx(workdir)
        bucket = _bucket(ctx, "south")
        ctx.clients.call("south", "s3", "put_bucket_versioning", Bucket=bucket,
                         VersioningConfiguration={"Status": "Suspended"})
        report = _run(workdir)
        assert _red(report) == {"storage.versioning"} and report.exit_code == 1
        (row,) = report.failing()
        assert row.site == "south" and "Suspended" in row.evidence
        assert row.fix is not None and "put-bucket-versioning" in row.fix
        ctx.clients.call("south", "s3", "put_bucket_versioning", Bucket=bucket,
                         VersioningConfiguration={"Status": "Enabled"})


def test_writes_past_the_rpo_without_a_mirror(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    with _green_before_and_after(workdir):
        ctx = _ctx(workdir)
        for i in range(5):
            ctx.clients.call("north", "s3", "put_object", Bucket=_bucket(ctx, "north"),
                             Key=f"late/{i}", Body=b"x")
        within = _run(workdir)
        assert _red(within) == set()  # in flight, well within the RPO
        warned = _run(workdir, now=time.time() + 0.75 * RPO_S)
        assert _red(warned) == {"storage.lag"}
        assert {r.status for r in warned.failing()} == {CheckStatus.WARN}
        late = _run(workdir, now=time.time() + RPO_S + 1)
        assert _red(late) == {"storage.lag"} and late.exit_code == 1
        (row,) = late.failing()
        assert row.status is CheckStatus.FAIL and row.value is not None and row.value > RPO_S
        assert row.fix is not None and "georesil mirror sync store --to south" in row.fix
        sync(ctx.topology, "store", ctx.clients,
             {s: _bucket(ctx, s) for s in ("north", "south")})


def test_health_check_of_a_dead_site(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    with _green_before_and_after(workdir):
        kill_site("south", workdir)
        try:
            report = _run(workdir)
        finally:
            revive_site("south", workdir)
        assert "dns.health" in _red(report) and report.exit_code == 1
        assert all(r.site == "south" for r in report.failing())


def test_control_plane_unreachable(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    control = _ctx(workdir).outputs.control_site
    with _green_before_and_after(workdir):
        kill_site(control, workdir)
        try:
            report = _run(workdir)
        finally:
            revive_site(control, workdir)
        reach = [r for r in report.results if r.check == "control.reachable"]
        assert [r.status for r in reach] == [CheckStatus.FAIL]
        assert reach[0].fix is not None and control in reach[0].fix
        skipped = {r.check for r in report.results
                   if r.status is CheckStatus.SKIPPED and "control plane" in r.evidence}
        assert skipped == {"control.register", "control.locks", "dns.records", "dns.health"}
        # Everything else that turned red is about the control site itself.
        others = [r for r in report.failing() if r.check != "control.reachable"]
        assert all(r.site == control for r in others), [r.to_json() for r in others]


def test_drill_history_older_than_policy(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    now = time.time()
    _journal(workdir, "run-old", started=now - 10 * 86400)
    fresh = _run(workdir)
    rows = [r for r in fresh.results if r.check == "drills.recent" and r.service == "store"]
    planned = next(r for r in rows if "planned drill run-old" in r.evidence)
    assert planned.status is CheckStatus.OK and "RTO 12.0 s" in planned.evidence
    late = _run(workdir, now=now + 120 * 86400)  # tier 1 allows 90 days
    assert "drills.recent" in _red(late)
    row = next(r for r in late.results if r.check == "drills.recent" and "run-old" in r.evidence)
    assert row.status is CheckStatus.FAIL and row.fix is not None and "planned drill" in row.fix


def _journal(workdir: Path, run_id: str, *, started: float) -> None:
    path = drills_dir(workdir) / f"{run_id}.jsonl"
    with Journal.create(path) as journal:
        journal.append("drill.started", ts=started, run_id=run_id, name="store-planned",
                       mode="planned", services=["store"], targets={"rto_s": 600, "rpo_s": 60},
                       predicted={})
        journal.append("drill.finished", ts=started + 20, status="completed", rto_s=12.0,
                       rpo_s=0.0, rpo_objects=0, split_brain=False)


def test_drift_lists_an_unknown_replica_bucket(ready_lab: tuple[LabState, Path]) -> None:
    _, workdir = ready_lab
    ctx = _ctx(workdir)
    extra = f"{ctx.outputs.stack}-store-extra-replica"
    ctx.clients.call("south", "s3", "create_bucket", Bucket=extra,
                     CreateBucketConfiguration={"LocationConstraint": "ap-east-2"})
    try:
        report = _run(workdir)
        assert [(d.kind, d.resource, d.name, d.site) for d in report.drift] == [
            ("unmanaged", "bucket", extra, "south")]
    finally:
        ctx.clients.call("south", "s3", "delete_bucket", Bucket=extra)
    assert _run(workdir).drift == ()


def test_scheduled_mirror_heartbeat(ready_lab: tuple[LabState, Path]) -> None:
    import subprocess
    import sys

    _, workdir = ready_lab
    done = subprocess.run([sys.executable, "-m", "georesil", "mirror", "run", "store",
                           "--every", "1s", "--rounds", "1"], cwd=workdir, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    fresh = _run(workdir)
    (row,) = [r for r in fresh.results if r.check == "storage.replication"]
    assert row.status is CheckStatus.OK and "the scheduled mirror ran" in row.evidence
    stale = _run(workdir, now=time.time() + 600)
    (row,) = [r for r in stale.results if r.check == "storage.replication"]
    assert row.status is CheckStatus.WARN and "last heartbeat" in row.evidence
    assert row.fix is not None and "georesil mirror run store --to south" in row.fix
