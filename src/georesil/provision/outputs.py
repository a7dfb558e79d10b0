"""Stack output keys, defined once, and ``StackOutputs``: the typed reader the lab and drills use.

Every key a stack exports is built by a function (or is a constant) in this module, so the
program that writes an output and the code that reads it cannot disagree on its spelling.

Keys look like ``bucket.<service>.<site>.name``: dotted, lower-case, stable across releases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from georesil.errors import ProvisionError

__all__ = [
    "CONTROL_DECLARED",
    "CONTROL_HASH_KEY",
    "CONTROL_REGION",
    "CONTROL_SITE",
    "STACK_NAME",
    "TABLE_NAME",
    "TOPOLOGY_NAME",
    "BucketRef",
    "StackOutputs",
    "bucket_arn_key",
    "bucket_name_key",
    "bucket_sites_key",
    "database_table_key",
    "health_check_key",
    "kms_key_arn_key",
    "parameter_name_key",
    "name_servers_key",
    "record_chain_key",
    "record_name_key",
    "register_key",
    "replication_mechanism_key",
    "replication_role_arn_key",
    "zone_id_key",
]

#: Name of the DynamoDB table holding drill locks and the active-site register.
TABLE_NAME = "control_table"
#: Where the control table and the global resources (IAM, Route 53) live: the control
#: placement's name (a witness site id, or ``"control"`` for a region outside the sites).
CONTROL_SITE = "control_site"
#: The AWS region (signing region) of the control placement.
CONTROL_REGION = "control_region"
#: Whether the topology declares the control placement (``control:``) or it was defaulted.
CONTROL_DECLARED = "control_declared"
#: The stack name and topology name the outputs were produced for.
STACK_NAME = "stack"
TOPOLOGY_NAME = "topology"


def bucket_name_key(service: str, site: str) -> str:
    """Key of the bucket name holding ``service``'s replica at ``site``."""
    return f"bucket.{service}.{site}.name"


def bucket_sites_key(service: str) -> str:
    """Key of the list of sites holding a bucket of ``service``, primary first."""
    return f"bucket.{service}.sites"


def bucket_arn_key(service: str, site: str) -> str:
    """Key of the bucket ARN holding ``service``'s replica at ``site``."""
    return f"bucket.{service}.{site}.arn"


def kms_key_arn_key(site: str) -> str:
    """Key of the ARN of the KMS key that encrypts buckets at ``site``."""
    return f"kms.{site}.arn"


def replication_mechanism_key(service: str, site: str) -> str:
    """Key of the mechanism replicating ``service`` from its primary to its replica at ``site``
    (a :class:`georesil.model.replication.Mechanism` value)."""
    return f"replication.{service}.{site}.mechanism"


def replication_role_arn_key(service: str) -> str:
    """Key of the ARN of the IAM role S3 assumes to replicate ``service``'s bucket."""
    return f"replication.{service}.role_arn"


def zone_id_key(zone: str) -> str:
    """Key of the Route 53 hosted zone id for the DNS zone ``zone`` (no trailing dot)."""
    return f"dns.zone.{zone.rstrip('.')}.id"


def name_servers_key(zone: str) -> str:
    """Key of the name servers of a hosted zone the stack created (delegate the zone to them)."""
    return f"dns.zone.{zone.rstrip('.')}.name_servers"


def record_chain_key(service: str) -> str:
    """Key of the record names of ``service``'s failover chain, the service's name first:
    each name holds a PRIMARY and a SECONDARY (the last but one replica's SECONDARY is the
    last replica; earlier SECONDARYs alias the next name)."""
    return f"dns.{service}.chain"


def record_name_key(service: str) -> str:
    """Key of the failover record name (FQDN) of ``service``."""
    return f"dns.{service}.name"


def health_check_key(service: str, site: str) -> str:
    """Key of the Route 53 health check id for ``service``'s replica at ``site``."""
    return f"dns.{service}.{site}.health_check_id"


def database_table_key(service: str, site: str) -> str:
    """Key of the DynamoDB table holding database ``service``'s replica at ``site``."""
    return f"database.{service}.{site}.table"


#: Partition-key attribute of the control table (drill locks, active-site register, freezes).
CONTROL_HASH_KEY = "pk"


def register_key(service: str) -> str:
    """Partition key of ``service``'s entry in the active-site register of the control table.

    Provisioning writes the first entry; drills read and conditionally update it.
    """
    return f"active#{service}"


def parameter_name_key(service: str) -> str:
    """Key of the SSM parameter name holding the site that serves ``service``."""
    return f"ssm.{service}.serving_site"


@dataclass(frozen=True)
class BucketRef:
    """One replica bucket of an object-storage service."""

    service: str
    site: str
    name: str
    arn: str


class StackOutputs:
    """Typed, read-only access to a stack's outputs.

    Build it from the ``outputs`` of :func:`georesil.provision.provision_moto` or from
    ``pulumi.automation`` (whose values are ``OutputValue`` objects; they are unwrapped).

    Raises:
        ProvisionError: on reading a key the stack did not export; the message names the key
            and the outputs that do exist for the same kind of thing.
    """

    def __init__(self, outputs: Mapping[str, Any]) -> None:
        self._data: dict[str, Any] = {
            key: getattr(value, "value", value) for key, value in outputs.items()
        }

    def __repr__(self) -> str:
        return f"<StackOutputs {len(self._data)} keys>"

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def as_dict(self) -> dict[str, Any]:
        """A copy of the raw outputs."""
        return dict(self._data)

    def get(self, key: str) -> Any:
        """The value under ``key``; raises ProvisionError naming the key when it is absent."""
        try:
            return self._data[key]
        except KeyError:
            prefix = key.split(".", 1)[0] + "."
            similar = sorted(k for k in self._data if k.startswith(prefix))
            shown = ", ".join(repr(k) for k in similar[:8]) or "none"
            raise ProvisionError(
                f"stack output {key!r} does not exist; outputs starting with {prefix!r}: {shown}",
                key=key,
            ) from None

    # -- typed views ---------------------------------------------------------------------
    @property
    def table_name(self) -> str:
        """The control table (drill locks and the active-site register)."""
        return str(self.get(TABLE_NAME))

    @property
    def control_site(self) -> str:
        """Where the control table, the IAM roles and the hosted zones live: a witness site's
        id, or ``"control"`` (:data:`georesil.model.CONTROL_NAME`) for a control region
        outside the modelled sites (the lab's own control endpoint included)."""
        return str(self.get(CONTROL_SITE))

    @property
    def control_region(self) -> str:
        """The AWS region the control placement signs for."""
        return str(self.get(CONTROL_REGION))

    def replication_mechanism(self, service: str, site: str) -> str:
        """How ``service``'s replica at ``site`` is kept in step with the primary."""
        return str(self.get(replication_mechanism_key(service, site)))

    @property
    def stack(self) -> str:
        return str(self.get(STACK_NAME))

    def bucket(self, service: str, site: str) -> BucketRef:
        """The replica bucket of ``service`` at ``site``."""
        return BucketRef(
            service, site,
            str(self.get(bucket_name_key(service, site))),
            str(self.get(bucket_arn_key(service, site))),
        )

    def buckets(self, service: str) -> dict[str, BucketRef]:
        """Every replica bucket of ``service``, keyed by site, primary first."""
        return {site: self.bucket(service, site)
                for site in self.get(bucket_sites_key(service))}

    def kms_key_arn(self, site: str) -> str:
        return str(self.get(kms_key_arn_key(site)))

    def replication_role_arn(self, service: str) -> str:
        return str(self.get(replication_role_arn_key(service)))

    def zone_id(self, zone: str) -> str:
        return str(self.get(zone_id_key(zone)))

    def zone_ids(self) -> dict[str, str]:
        """Every hosted zone the stack exported: zone name -> zone id."""
        head, tail = zone_id_key("\0").split("\0")
        return {k[len(head):-len(tail)]: str(v) for k, v in self._data.items()
                if k.startswith(head) and k.endswith(tail)}

    def has_record(self, service: str) -> bool:
        """Whether the stack has a failover record for ``service``."""
        return record_name_key(service) in self._data

    def record_name(self, service: str) -> str:
        return str(self.get(record_name_key(service)))

    def record_chain(self, service: str) -> list[str]:
        """Record names of ``service``'s failover chain, the service's own name first."""
        return [str(n) for n in self.get(record_chain_key(service))]

    def name_servers(self, zone: str) -> list[str]:
        """Name servers of a zone the stack created."""
        return [str(n) for n in self.get(name_servers_key(zone))]

    def health_check_id(self, service: str, site: str) -> str:
        return str(self.get(health_check_key(service, site)))

    def database_table(self, service: str, site: str) -> str:
        return str(self.get(database_table_key(service, site)))

    def parameter_name(self, service: str) -> str:
        return str(self.get(parameter_name_key(service)))
