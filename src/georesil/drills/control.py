"""The control plane as drills see it: the active-site register with its drill lock, the
serving-site parameters, the write-freeze flags.

All of it lives at the stack's control site (:attr:`StackOutputs.control_site`, the topology's
witness):

- one ``active#SERVICE`` item per service in the control table holds the **register** —
  ``{site, epoch, by}`` — and the service's **drill lock** — ``{lock_run, lock_owner,
  lock_expires, lock_journal}``. ``epoch`` grows by one on every change. A promotion is one
  conditional write of that item: it succeeds only on the epoch the writer last saw *and* while
  the writer holds the lock, so serving site, epoch and lock can never disagree and a drill
  never overwrites a change somebody else made (``by`` names the run that made it).
- the SSM parameter per service holding its serving site (what applications read) is a
  *derived copy*: written after the register, and repaired from it
  (:func:`georesil.drills.repair.repair_service`).
- ``freeze#SERVICE`` items: ``{frozen, by}``; applications (the demo writer included) check it
  before every write.

A service is *active* at every site named by its register or its parameter; two different
sites there is the split-brain the drill invariant forbids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from georesil.errors import CloudError, NotFound, SafetyViolation, Unavailable
from georesil.provision.outputs import CONTROL_HASH_KEY
from georesil.provision.outputs import register_key as active_key

if TYPE_CHECKING:
    from georesil.cloud import SiteClients
    from georesil.provision.outputs import StackOutputs

__all__ = ["ActiveRecord", "ControlPlane", "LockInfo", "active_key", "freeze_key"]

_CONDITION_FAILED = "ConditionalCheckFailedException"
#: The lock's attributes on the register item.
_LOCK_FIELDS = ("lock_run", "lock_owner", "lock_expires", "lock_journal")


def freeze_key(service: str) -> str:
    """Partition key of ``service``'s write-freeze flag."""
    return f"freeze#{service}"


@dataclass(frozen=True)
class ActiveRecord:
    """A service's entry in the active-site register."""

    service: str
    site: str | None
    epoch: int
    by: str | None = None


@dataclass(frozen=True)
class LockInfo:
    """Who holds a service's drill lock."""

    service: str
    run_id: str
    owner: str
    expires_at: float
    journal: str | None = None

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.expires_at, UTC).isoformat(timespec="seconds")
        return f"run {self.run_id} (owner {self.owner}, expires {when})"


class ControlPlane:
    """Reads and conditional writes of the control table and the serving-site parameters.

    Args:
        clients: Per-site clients; calls go to ``outputs.control_site``.
        outputs: The stack outputs (table and parameter names).
    """

    def __init__(self, clients: SiteClients, outputs: StackOutputs) -> None:
        self.clients = clients
        self.outputs = outputs
        self.site = outputs.control_site
        self.table = outputs.table_name

    # -- low level -----------------------------------------------------------------------
    def ddb(self, operation: str, *, idempotent: bool = True, **params: Any) -> Any:
        """A DynamoDB call on the control table at the control site."""
        return self.clients.call(self.site, "dynamodb", operation, idempotent=idempotent,
                                 TableName=self.table, **params)

    def item(self, key: str) -> dict[str, Any] | None:
        """The item under ``key`` (strongly consistent), as plain values, or ``None``."""
        got = self.ddb("get_item", Key={CONTROL_HASH_KEY: {"S": key}}, ConsistentRead=True)
        raw = got.get("Item")
        return None if raw is None else {k: _plain(v) for k, v in raw.items()}

    # -- the active-site register ----------------------------------------------------------
    def active(self, service: str) -> ActiveRecord:
        """The register entry of ``service`` (site ``None`` when it has none)."""
        item = self.item(active_key(service)) or {}
        return ActiveRecord(service, item.get("site"), int(item.get("epoch", 0)), item.get("by"))

    def parameter_site(self, service: str) -> str | None:
        """The serving site in ``service``'s SSM parameter, ``None`` when it is absent."""
        name = self.outputs.parameter_name(service)
        try:
            got = self.clients.call(self.site, "ssm", "get_parameter", Name=name)
        except NotFound:
            return None
        return str(got["Parameter"]["Value"])

    def active_sites(self, service: str) -> set[str]:
        """Every site the control plane names as serving ``service`` (one, unless split)."""
        sites = {self.active(service).site, self.parameter_site(service)}
        return {s for s in sites if s}

    def set_active(
        self, service: str, site: str, *, expect_epoch: int, run_id: str, now: float,
        expect_site: str | None = None,
    ) -> ActiveRecord:
        """Make ``site`` the active site of ``service``: one conditional write of the register
        item, on the epoch and on ``run_id`` holding the drill lock.

        Idempotent for one run: when the register already names ``site`` and this run made
        that change, nothing is written. When this run made the last change (to another
        site, e.g. a promotion its rollback now undoes), that epoch is the one expected: a
        run always recognises its own write. The SSM parameter follows the register.

        Raises:
            SafetyViolation: somebody else changed the register since ``expect_epoch``, it
                does not name ``expect_site``, or ``run_id`` does not hold the lock.
            CloudError: the control plane did not answer (the outcome was checked by reading
                the register when it was unknown).
        """
        current = self.active(service)
        if current.by == run_id and current.site == site:
            self._set_parameter(service, site)
            return current
        if current.by == run_id:
            expect_epoch = current.epoch  # our own earlier write
        if current.epoch != expect_epoch or (expect_site and current.site != expect_site
                                             and current.by != run_id):
            raise _changed(service, current, expect_epoch, expect_site)
        new = ActiveRecord(service, site, expect_epoch + 1, run_id)
        try:
            self.ddb(
                "update_item", idempotent=False, Key=self._key(active_key(service)),
                UpdateExpression="SET site = :s, epoch = :n, #by = :rid",
                ConditionExpression="(attribute_not_exists(epoch) OR epoch = :e) AND "
                                    "lock_run = :rid AND lock_expires >= :now",
                ExpressionAttributeNames={"#by": "by"},
                ExpressionAttributeValues={":s": {"S": site}, ":n": {"N": str(new.epoch)},
                                           ":e": {"N": str(expect_epoch)},
                                           ":rid": {"S": run_id}, ":now": {"N": repr(now)}},
            )
        except Unavailable:
            # The outcome is unknown: look rather than write twice.
            if self.active(service) != new:
                raise
        except CloudError as exc:
            if getattr(exc, "code", None) != _CONDITION_FAILED:
                raise
            lock = self.read_lock(service)
            if lock is None or lock.run_id != run_id or lock.expires_at < now:
                raise SafetyViolation(
                    f"{service}: run {run_id} does not hold the drill lock "
                    f"({lock.describe() if lock else 'no lock'}); the register was not "
                    "changed", service=service, run_id=run_id) from exc
            raise _changed(service, self.active(service), expect_epoch, expect_site) from exc
        self._set_parameter(service, site)
        return new

    @staticmethod
    def _key(pk: str) -> dict[str, Any]:
        return {CONTROL_HASH_KEY: {"S": pk}}

    # -- the drill lock (on the register item) ---------------------------------------------
    def read_lock(self, service: str) -> LockInfo | None:
        """The drill lock on ``service``, expired or not; ``None`` when there is none."""
        item = self.item(active_key(service)) or {}
        if not item.get("lock_run"):
            return None
        return LockInfo(service, str(item["lock_run"]), str(item.get("lock_owner", "?")),
                        float(item.get("lock_expires", 0)), item.get("lock_journal"))

    def try_lock(self, service: str, run_id: str, *, owner: str, now: float,
                 expires_at: float, journal: str | None) -> bool:
        """Take or renew the lock: ``False`` when another run holds an unexpired one."""
        values: dict[str, Any] = {":rid": {"S": run_id}, ":o": {"S": owner},
                                  ":x": {"N": repr(expires_at)}, ":now": {"N": repr(now)},
                                  ":j": {"S": journal or ""}}
        try:
            self.ddb(
                "update_item", idempotent=False, Key=self._key(active_key(service)),
                UpdateExpression="SET lock_run = :rid, lock_owner = :o, lock_expires = :x, "
                                 "lock_journal = :j",
                ConditionExpression="attribute_not_exists(lock_run) OR lock_expires < :now "
                                    "OR lock_run = :rid",
                ExpressionAttributeValues=values,
            )
        except CloudError as exc:
            if getattr(exc, "code", None) != _CONDITION_FAILED:
                raise
            return False
        return True

    def release_lock(self, service: str, run_id: str) -> bool:
        """Release ``run_id``'s lock on ``service``; ``False`` when it was not ours (any more)."""
        try:
            self.ddb("update_item", Key=self._key(active_key(service)),
                     UpdateExpression="REMOVE " + ", ".join(_LOCK_FIELDS),
                     ConditionExpression="lock_run = :rid",
                     ExpressionAttributeValues={":rid": {"S": run_id}})
        except CloudError as exc:
            if getattr(exc, "code", None) != _CONDITION_FAILED:
                raise
            return False
        return True

    def _set_parameter(self, service: str, site: str) -> None:
        if self.parameter_site(service) == site:
            return
        self.clients.call(self.site, "ssm", "put_parameter", Name=self.outputs.parameter_name(
            service), Value=site, Type="String", Overwrite=True)

    # -- write freeze ----------------------------------------------------------------------
    def frozen(self, service: str) -> bool:
        """Whether writes to ``service`` are frozen."""
        item = self.item(freeze_key(service)) or {}
        return bool(item.get("frozen", False))

    def set_frozen(self, service: str, frozen: bool, run_id: str) -> None:
        """Set or clear ``service``'s write freeze (idempotent)."""
        self.ddb("put_item", Item={CONTROL_HASH_KEY: {"S": freeze_key(service)},
                                   "frozen": {"BOOL": frozen}, "by": {"S": run_id}})


def _changed(service: str, current: ActiveRecord, expect_epoch: int,
             expect_site: str | None) -> SafetyViolation:
    wanted = f"epoch {expect_epoch}" + (f" at {expect_site!r}" if expect_site else "")
    return SafetyViolation(
        f"{service}: the active-site register changed under the drill: it names "
        f"{current.site!r} at epoch {current.epoch} (changed by {current.by or 'provisioning'}),"
        f" the drill expected {wanted}; someone else moved the service — check "
        "`georesil drill history` and the control table before retrying",
        service=service, site=current.site, epoch=current.epoch, by=current.by,
    )


def _plain(value: dict[str, Any]) -> Any:
    (kind, raw), = value.items()
    if kind == "N":
        return float(raw) if "." in raw else int(raw)
    if kind == "M":
        return {k: _plain(v) for k, v in raw.items()}
    if kind == "L":
        return [_plain(v) for v in raw]
    return raw

