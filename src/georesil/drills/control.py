"""The control plane as drills see it: the active-site register, serving-site parameters, the
write-freeze flags.

All of it lives at the stack's control site (:attr:`StackOutputs.control_site`):

- ``active#SERVICE`` items in the control table: ``{site, epoch, by}``. ``epoch`` grows by one on
  every change; a change is a conditional write on the epoch the writer last saw, so a drill
  never overwrites a change somebody else made (``by`` names the run that made it).
- the SSM parameter per service holding its serving site (what applications read);
- ``freeze#SERVICE`` items: ``{frozen, by}``; applications (the demo writer included) check it
  before every write.

A service is *active* at every site named by its register item or its parameter; two different
sites there is the split-brain the drill invariant forbids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from georesil.errors import CloudError, NotFound, SafetyViolation, Unavailable
from georesil.provision.outputs import CONTROL_HASH_KEY
from georesil.provision.outputs import register_key as active_key

if TYPE_CHECKING:
    from georesil.cloud import SiteClients
    from georesil.provision.outputs import StackOutputs

__all__ = ["ActiveRecord", "ControlPlane", "active_key", "freeze_key"]

_CONDITION_FAILED = "ConditionalCheckFailedException"


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
        self, service: str, site: str, *, expect_epoch: int, run_id: str,
        expect_site: str | None = None,
    ) -> ActiveRecord:
        """Make ``site`` the active site of ``service``: a conditional write on the epoch.

        Idempotent for one run: when the register already names ``site`` and this run made
        that change, nothing is written. The SSM parameter follows the register.

        Raises:
            SafetyViolation: somebody else changed the register since ``expect_epoch``, or it
                does not name ``expect_site``.
        """
        current = self.active(service)
        if current.site == site and current.by == run_id:
            self._set_parameter(service, site)
            return current
        if current.epoch != expect_epoch or (expect_site and current.site != expect_site):
            raise _changed(service, current, expect_epoch, expect_site)
        new = ActiveRecord(service, site, expect_epoch + 1, run_id)
        try:
            self.ddb(
                "put_item", idempotent=False,
                Item={CONTROL_HASH_KEY: {"S": active_key(service)}, "site": {"S": site},
                      "epoch": {"N": str(new.epoch)}, "by": {"S": run_id}},
                ConditionExpression="attribute_not_exists(pk) OR epoch = :e",
                ExpressionAttributeValues={":e": {"N": str(expect_epoch)}},
            )
        except Unavailable:
            # The outcome is unknown: look rather than write twice.
            if self.active(service) != new:
                raise
        except CloudError as exc:
            if getattr(exc, "code", None) != _CONDITION_FAILED:
                raise
            raise _changed(service, self.active(service), expect_epoch, expect_site) from exc
        self._set_parameter(service, site)
        return new

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

