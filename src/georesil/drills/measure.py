"""Measuring a drill: RTO, RPO, and the analysis model's prediction.

**RTO** of a service is ``t_recovered - t_fault``:

- ``t_fault``: unplanned — the moment ``lab.kill_site`` took the from-site out (the first
  fault recorded for the service); planned and test — the start of the method.
- ``t_recovered``: the first moment a canary *write and read* succeeded at the serving site
  reached the way a client reaches it — the site named by the control plane's active-site
  register, which the failover records (by georesil's own health evaluation) must also
  resolve to when the service has a DNS name. Object storage writes an object in the
  service's bucket there; a database an item in its table; other kinds have no data plane in
  the lab, so the endpoint's health stands in. The runner tries after every method step once
  a cutover happened, then polls until ``recovery_timeout_s``.

**RPO** is measured at cutover (when the register switched to the new site), comparing the
writes the old primary holds with what the new primary holds, object version by version
(same key and ETag):

- ``rpo_objects`` / ``rpo_bytes``: writes at the old primary the new primary lacks;
- ``rpo_s``: the window those writes span, from the oldest lost write to the fault (unplanned)
  or the cutover (planned), or to the newest lost write if later — the seconds of writes lost;
  0 when nothing is lost;
- ``newest_missing_age_s``: how old the newest lost write was at cutover.

Where the writes come from, in order of preference (``method`` in the journal):

1. ``listing`` — the old primary answers: list every version there (exact);
2. ``writer-ledger`` — the old primary is dead (unplanned): the application's own record of
   acknowledged writes (:mod:`georesil.drills.writer` keeps one per service); writes whose
   outcome the writer never learned (a connection cut mid-request) are counted apart as
   ``unknown_objects``;
3. ``last-verify`` — no ledger: the last ``mirror.lag`` probe of the run before the fault (a
   lower bound: writes after that probe are invisible);
4. ``unmeasured`` — none of the above (e.g. services with no object store in the lab).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from georesil.analysis.impact import ServiceImpact, Status
from georesil.analysis.reference import evaluate
from georesil.drills import observe
from georesil.drills.runbook import Mode
from georesil.drills.writer import ledger_path
from georesil.errors import CloudError, GeoresilError
from georesil.mirror import list_versions
from georesil.model import FailureSet
from georesil.model.schema import ServiceKind

if TYPE_CHECKING:
    from georesil.drills.context import DrillContext
    from georesil.drills.loader import Runbook

__all__ = ["Prediction", "RpoMeasurement", "ServicePrediction", "measure_rpo", "predict",
           "recovered"]


@dataclass(frozen=True)
class RpoMeasurement:
    """Data lost at one service's cutover."""

    service: str
    old_site: str | None
    new_site: str
    rpo_s: float | None
    objects: int
    bytes: int
    unknown_objects: int
    newest_missing_age_s: float | None
    method: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Write:
    key: str
    etag: str | None
    size: int
    ts: float
    acked: bool = True


def measure_rpo(ctx: DrillContext, service: str, old_site: str | None, new_site: str, *,
                ref_ts: float, cutover_ts: float,
                last_verify: Mapping[str, Any] | None = None) -> RpoMeasurement:
    """What ``new_site`` lacks of the writes ``old_site`` took; see the module docstring."""
    def result(writes: list[_Write] | None, method: str) -> RpoMeasurement:
        return _summarise(service, old_site, new_site, writes, method, ref_ts, cutover_ts)

    spec = ctx.topology.service(service)
    if spec.kind is not ServiceKind.OBJECT_STORAGE or old_site is None:
        return result(None, "unmeasured")
    new_has = _signatures(ctx, service, new_site)
    if observe.site_healthy(ctx, old_site):
        try:
            return result(_missing(_listed(ctx, service, old_site), new_has), "listing")
        except CloudError:
            pass  # died while we looked: fall through to the ledger
    ledger = ledger_writes(ctx.workdir, service, old_site)
    if ledger is not None:
        return result(_missing(ledger, new_has), "writer-ledger")
    if last_verify is not None:
        return _from_verify(service, old_site, new_site, last_verify)
    return result(None, "unmeasured")


def _signatures(ctx: DrillContext, service: str, site: str) -> dict[str, set[str | None]]:
    bucket = ctx.bucket(service, site)
    history = list_versions(ctx.clients, site, bucket) if bucket else {}
    return {k: {v.etag for v in versions if not v.is_delete_marker}
            for k, versions in history.items()}


def _listed(ctx: DrillContext, service: str, site: str) -> list[_Write]:
    bucket = ctx.bucket(service, site)
    history = list_versions(ctx.clients, site, bucket) if bucket else {}
    return [_Write(v.key, v.etag, v.size, v.last_modified.timestamp())
            for versions in history.values() for v in versions if not v.is_delete_marker]


def _missing(writes: list[_Write], new_has: Mapping[str, set[str | None]]) -> list[_Write]:
    return [w for w in writes if not w.key.startswith(observe.CANARY_PREFIX)
            and w.etag not in new_has.get(w.key, set())]


def _summarise(service: str, old: str | None, new: str, missing: list[_Write] | None,
               method: str, ref_ts: float, cutover_ts: float) -> RpoMeasurement:
    if missing is None:
        return RpoMeasurement(service, old, new, None, 0, 0, 0, None, method)
    lost = [w for w in missing if w.acked]
    unknown = len(missing) - len(lost)
    if not lost:
        return RpoMeasurement(service, old, new, 0.0, 0, 0, unknown, None, method)
    oldest = min(w.ts for w in lost)
    newest = max(w.ts for w in lost)
    return RpoMeasurement(service, old, new, round(max(ref_ts, newest) - oldest, 3), len(lost),
                          sum(w.size for w in lost), unknown,
                          round(max(0.0, cutover_ts - newest), 3), method)


def _from_verify(service: str, old: str, new: str, probe: Mapping[str, Any]) -> RpoMeasurement:
    entry = probe.get("services", {}).get(service, {})
    return RpoMeasurement(service, old, new, float(entry.get("lag_s", 0.0)),
                          int(entry.get("missing", 0)), int(entry.get("missing_bytes", 0)), 0,
                          None, "last-verify")


def ledger_writes(workdir: Path, service: str, site: str) -> list[_Write] | None:
    """Writes the demo writer recorded at ``site``, or ``None`` when it kept no ledger."""
    path = ledger_path(workdir, service)
    if not path.exists():
        return None
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if entry.get("site") != site or entry.get("status") not in ("acked", "unknown"):
            continue
        out.append(_Write(entry["key"], entry.get("etag"), int(entry.get("bytes", 0)),
                          float(entry["ts"]), entry["status"] == "acked"))
    return out


def recovered(ctx: DrillContext, service: str, *, through_control_plane: bool = True
              ) -> tuple[bool, dict[str, Any]]:
    """Whether clients can read and write ``service`` at the to-site right now.

    Through the control plane (planned/unplanned): the register must name the to-site and
    the failover records must resolve to it; then a canary write+read there. In test mode
    (no cutover) the to-site is tried directly.
    """
    site = ctx.to_site
    try:
        if through_control_plane:
            active = ctx.control.active(service).site
            if active != site:
                return False, {"reason": f"control plane names {active!r}"}
            if observe.has_dns(ctx, service):
                serving = observe.serving_site(ctx, service)["value"]
                if serving != site:
                    return False, {"reason": f"DNS resolves to {serving!r}"}
        return True, observe.canary_read_write(ctx, service, site)
    except GeoresilError as exc:
        return False, {"reason": str(exc)}


@dataclass(frozen=True)
class ServicePrediction:
    """The analysis model's outcome for one service under the runbook's mode.

    Attributes:
        status: ``ok``, ``failover``, ``breach`` or ``down`` — judged against the service's
            targets (the runbook's where it sets them) with the mode's data loss.
        recovery_s: Predicted recovery time.
        data_loss_s: Predicted data loss: 0 for a planned drill (writes frozen, mirror synced
            before the switch), else the chosen secondary's lag.
        rto_target_s / rpo_target_s: What the status was judged against.
    """

    service: str
    from_site: str | None
    to_site: str
    status: str
    serving_site: str | None
    recovery_s: float | None
    data_loss_s: float | None
    rto_target_s: float
    rpo_target_s: float
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """The analysis model's recovery time and data loss when the from-sites fail."""

    rto_s: float | None
    rpo_s: float | None
    services: dict[str, ServicePrediction]

    def to_json(self) -> dict[str, Any]:
        return {"rto_s": self.rto_s, "rpo_s": self.rpo_s,
                "services": {k: v.to_json() for k, v in self.services.items()}}


def predict(runbook: Runbook) -> Prediction:
    """Predicted RTO/RPO per service from :func:`georesil.analysis.reference.evaluate`,
    under the runbook's mode.

    The model is evaluated with the from-sites failed, each service's primary placed at its
    from-site first when it is not there already (a failback starts from the failed-over
    state: :meth:`Topology.with_primary`). A planned drill freezes writes and syncs the
    mirror before it cuts over, so its predicted data loss is 0 whatever the lag, and its
    status is judged again with that loss: within both targets it is ``failover``.
    """
    topology = runbook.topology
    starts: dict[str, str | None] = {}
    for svc in runbook.doc.services:
        sites = {r.site for r in topology.service(svc).replicas}
        start = next((s for s in runbook.doc.from_sites if s in sites), None)
        starts[svc] = start
        if start is not None:
            topology = topology.with_primary(svc, start)
    impact = evaluate(topology, FailureSet(sites=frozenset(runbook.doc.from_sites)))
    per = {svc: _under_mode(runbook, svc, starts[svc], impact.services[svc])
           for svc in runbook.doc.services}
    rto = [p.recovery_s for p in per.values() if p.recovery_s is not None]
    rpo = [p.data_loss_s for p in per.values() if p.data_loss_s is not None]
    return Prediction(max(rto) if rto else None, max(rpo) if rpo else None, per)


def _under_mode(runbook: Runbook, service: str, start: str | None,
                out: ServiceImpact) -> ServicePrediction:
    spec = runbook.topology.service(service)
    rto_target = runbook.doc.targets.rto_s if runbook.doc.targets.rto_s is not None \
        else spec.rto_s
    rpo_target = runbook.doc.targets.rpo_s if runbook.doc.targets.rpo_s is not None \
        else spec.rpo_s
    status, loss, reason = out.status, out.data_loss_s, out.reason
    if runbook.doc.mode is Mode.PLANNED and loss is not None:
        if loss:
            reason += "; planned: writes frozen and mirror synced first, so no data loss"
        loss = 0.0
    if status in (Status.BREACH, Status.FAILOVER) and out.recovery_s is not None:
        within = out.recovery_s <= rto_target and (loss or 0.0) <= rpo_target
        status = Status.FAILOVER if within else Status.BREACH
    return ServicePrediction(service, start, runbook.doc.to_site, status.value,
                             out.serving_site, out.recovery_s, loss, rto_target, rpo_target,
                             reason)
