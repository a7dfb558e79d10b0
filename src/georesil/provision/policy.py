"""Policy checks over the resources a program registered.

Each rule is a function of the topology and the registered resources that yields violations;
:func:`check_policy` runs them all and raises one :class:`PolicyViolation` listing every
violation, each naming the resource and the rule. ``provision_moto`` runs the checks on the
preview (before anything is created) and again on the created resources.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from georesil.errors import PolicyViolation
from georesil.model.replication import Mechanism, replication_plan
from georesil.model.schema import EndpointKind, ServiceKind

if TYPE_CHECKING:
    from georesil.model import Topology
    from georesil.provision.moto_engine import ResourceRecord

__all__ = ["RULES", "Violation", "check_policy", "find_violations"]

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = ("aws:s3/bucketServerSideEncryptionConfiguration:"
              "BucketServerSideEncryptionConfiguration")
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
RECORD = "aws:route53/record:Record"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"

_PAB_FLAGS = ("blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy",
              "restrictPublicBuckets")
#: The one wildcard allowed in a resource: every object of one named bucket.
_OBJECT_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::[^*/]+/\*$")


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, which resource, and what is wrong."""

    rule: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.resource}: {self.message}"


class _Index:
    """Registered resources by type, and buckets by name and ARN; ``lab`` for lab-only leeway."""

    def __init__(self, records: Iterable[ResourceRecord], lab: bool = False) -> None:
        self.lab = lab
        self.by_type: dict[str, list[ResourceRecord]] = {}
        for r in records:
            self.by_type.setdefault(r.type, []).append(r)
        self.buckets = {r.outputs.get("bucket", r.id): r for r in self.of(BUCKET)}
        self.bucket_arns = {r.outputs.get("arn"): r for r in self.of(BUCKET)}

    def of(self, type_: str) -> list[ResourceRecord]:
        return self.by_type.get(type_, [])

    def for_bucket(self, type_: str) -> dict[str, ResourceRecord]:
        return {str(r.inputs.get("bucket")): r for r in self.of(type_)}

    def versioned(self) -> set[str]:
        return {name for name, r in self.for_bucket(VERSIONING).items()
                if (r.inputs.get("versioningConfiguration") or {}).get("status") == "Enabled"}


_Rule = Callable[["Topology", _Index], Iterator[Violation]]


def _bucket_versioned(topology: Topology, idx: _Index) -> Iterator[Violation]:
    versioned = idx.versioned()
    for name, r in idx.buckets.items():
        if name not in versioned:
            yield Violation("bucket-versioned", r.name,
                            f"bucket {name!r} has no versioning with status 'Enabled'")


def _at_aws(topology: Topology, record: ResourceRecord) -> bool:
    """Whether a resource lives in an AWS region (a site without an endpoint: in-process moto,
    which plays one)."""
    site = topology.sites.get(record.site or "")
    if site is None or site.endpoint is None:
        return True
    return site.endpoint.effective_kind is EndpointKind.AWS


def _bucket_encrypted(topology: Topology, idx: _Index) -> Iterator[Violation]:
    configs = idx.for_bucket(ENCRYPTION)
    for name, r in idx.buckets.items():
        rules = (configs[name].inputs.get("rules") or []) if name in configs else []
        algorithms = {(rule.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm")
                      for rule in rules}
        # An S3-compatible store has no AWS KMS: its own server-side keys (SSE-S3) will do.
        allowed = {"aws:kms", "aws:kms:dsse"} if _at_aws(topology, r) else {
            "aws:kms", "aws:kms:dsse", "AES256"}
        if not algorithms & allowed:
            what = "SSE-KMS" if _at_aws(topology, r) else "server-side"
            yield Violation("bucket-encrypted", r.name,
                            f"bucket {name!r} has no default {what} encryption "
                            f"(found: {sorted(a for a in algorithms if a) or 'none'})")


def _bucket_public_access_blocked(topology: Topology, idx: _Index) -> Iterator[Violation]:
    blocks = idx.for_bucket(PUBLIC_ACCESS_BLOCK)
    for name, r in idx.buckets.items():
        if not _at_aws(topology, r):
            continue  # S3-compatible stores differ; their buckets are private by default
        block = blocks.get(name)
        off = [f for f in _PAB_FLAGS if not (block and block.inputs.get(f))]
        if off:
            yield Violation("bucket-public-access-blocked", r.name,
                            f"bucket {name!r} does not block public access fully; not set: "
                            f"{', '.join(off)}")


def _destinations(record: ResourceRecord) -> list[str]:
    return [(rule.get("destination") or {}).get("bucket", "")
            for rule in record.inputs.get("rules") or []]


def _replication_destination_versioned(topology: Topology, idx: _Index) -> Iterator[Violation]:
    versioned = idx.versioned()
    for r in idx.of(REPLICATION):
        for arn in _destinations(r):
            dest = idx.bucket_arns.get(arn)
            name = dest.outputs.get("bucket") if dest else None
            if name not in versioned:
                yield Violation("replication-destination-versioned", r.name,
                                f"replication destination {arn!r} is not a versioned bucket "
                                "of this stack")


def _primary_record_health_checked(topology: Topology, idx: _Index) -> Iterator[Violation]:
    for r in idx.of(RECORD):
        types = {p.get("type") for p in r.inputs.get("failoverRoutingPolicies") or []}
        if "PRIMARY" in types and not r.inputs.get("healthCheckId"):
            yield Violation("primary-record-health-checked", r.name,
                            f"PRIMARY failover record {r.inputs.get('name')!r} has no health "
                            "check, so Route 53 would never fail over")


def _wildcards(document: Any) -> list[str]:
    doc = json.loads(document) if isinstance(document, str) else (document or {})
    statements = doc.get("Statement") or []
    found = []
    for st in statements if isinstance(statements, list) else [statements]:
        for key in ("NotAction", "NotResource"):
            if key in st:
                found.append(f"{key} (matches everything else)")
        for key in ("Action", "Resource"):
            values = st.get(key) or []
            for value in [values] if isinstance(values, str) else values:
                if "*" in value and not (key == "Resource" and _OBJECT_ARN.match(value)):
                    found.append(f"{key} {value!r}")
    return found


def _iam_no_wildcard(topology: Topology, idx: _Index) -> Iterator[Violation]:
    documents = [(r, r.inputs.get("policy")) for r in idx.of(ROLE_POLICY)]
    documents += [(r, p.get("policy")) for r in idx.of(ROLE)
                  for p in r.inputs.get("inlinePolicies") or []]
    for r, document in documents:
        found = _wildcards(document)
        if found:
            yield Violation("iam-no-wildcard", r.name,
                            f"policy grants a wildcard: {', '.join(found)}; name the exact "
                            "actions and ARNs")


def _storage_cross_region(topology: Topology, idx: _Index) -> Iterator[Violation]:
    for svc in topology.services.values():
        if svc.kind is not ServiceKind.OBJECT_STORAGE or not svc.replicas:
            continue
        primary = topology.primary(svc.id).site
        home = topology.site(primary).region
        regions = {topology.sites[r.site].region for r in idx.of(BUCKET)
                   if r.site is not None and r.site in topology.sites and r.site != primary
                   and (r.inputs.get("tags") or {}).get("georesil:service") == svc.id}
        if not regions - {home}:
            yield Violation("storage-cross-region", f"service:{svc.id}",
                            f"object storage {svc.id!r} (primary at {primary!r}, region "
                            f"{home!r}) is not replicated to any site in another region; add a "
                            "secondary replica at a site outside that region")


def _non_public(address: str) -> str | None:
    """Why Route 53 cannot probe or serve ``address`` (an IP or a name), or ``None``."""
    name = address.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return "a loopback name"
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return None
    for why, test in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                      ("private", ip.is_private), ("unspecified", ip.is_unspecified),
                      ("multicast", ip.is_multicast), ("reserved", ip.is_reserved)):
        if test:
            return f"a {why} address"
    return None


def _dns_target_public(topology: Topology, idx: _Index) -> Iterator[Violation]:
    if idx.lab:
        return  # a lab's stand-in endpoints are on loopback by design
    for r in idx.of(HEALTH_CHECK):
        target = r.inputs.get("ipAddress") or r.inputs.get("fqdn") or ""
        why = _non_public(str(target))
        if why:
            yield Violation("dns-target-public", r.name,
                            f"health check target {target!r} is {why}: Route 53's checkers "
                            "probe from the internet; give the replica a public 'hostname' "
                            "(or a health-check-reachable address)")
    for r in idx.of(RECORD):
        for value in r.inputs.get("records") or []:
            why = _non_public(str(value))
            if why:
                yield Violation("dns-target-public", r.name,
                                f"record {r.inputs.get('name')!r} points at {value!r}, {why} "
                                "that clients outside the site cannot reach")


def _rpo_within_mechanism(topology: Topology, idx: _Index) -> Iterator[Violation]:
    if idx.lab:
        return  # a lab mirrors on demand (drills), not on a schedule
    for pair in replication_plan(topology):
        target = topology.service(pair.service).rpo_s
        if pair.rpo_bound_s is not None and target < pair.rpo_bound_s:
            fix = ("lower the replica's mirror_interval_s to at most the RPO"
                   if pair.mechanism is Mechanism.MIRROR else
                   "raise rpo_s to at least 900 s, or replicate synchronously outside S3")
            yield Violation("rpo-within-mechanism", f"service:{pair.service}",
                            f"rpo_s {target:g} s is tighter than what {pair.mechanism.value} "
                            f"from {pair.source!r} to {pair.target!r} can back "
                            f"({pair.rpo_bound_s:g} s); {fix}")


#: Rule name -> check, in report order.
RULES: dict[str, _Rule] = {
    "bucket-versioned": _bucket_versioned,
    "bucket-encrypted": _bucket_encrypted,
    "bucket-public-access-blocked": _bucket_public_access_blocked,
    "replication-destination-versioned": _replication_destination_versioned,
    "primary-record-health-checked": _primary_record_health_checked,
    "iam-no-wildcard": _iam_no_wildcard,
    "storage-cross-region": _storage_cross_region,
    "dns-target-public": _dns_target_public,
    "rpo-within-mechanism": _rpo_within_mechanism,
}


def find_violations(topology: Topology, records: Sequence[ResourceRecord], *,
                    lab: bool = False) -> list[Violation]:
    """Every violation of every rule, in rule order (``lab``: a lab's loopback endpoints and
    on-demand mirroring are allowed)."""
    idx = _Index(records, lab)
    return [v for rule in RULES.values() for v in rule(topology, idx)]


def check_policy(topology: Topology, records: Sequence[ResourceRecord], *,
                 lab: bool = False) -> None:
    """Raise :class:`PolicyViolation` listing every violation, if there is any.

    The exception's ``violations`` holds them all; ``rule`` and ``resource`` name the first.
    """
    violations = find_violations(topology, records, lab=lab)
    if violations:
        count = len(violations)
        raise PolicyViolation(
            f"{count} policy violation{'s' if count > 1 else ''}:\n"
            + "\n".join(f"  {v}" for v in violations),
            violations=violations, rule=violations[0].rule, resource=violations[0].resource)
