"""Deterministic, valid, collision-free physical names from the topology and the stack name.

Ids in a topology may contain ``.`` and ``_``, which S3 bucket names should not; cleaning them
could map two ids onto one name, so every name ends in a short hash of the *raw* parts. The same
inputs always give the same name; different inputs give different names (up to a 32-bit hash).

Bucket names are global across every AWS account: theirs also hash the deploying **account
id**, so two accounts deploying the same topology as the same stack get different names.
"""

from __future__ import annotations

import hashlib
import re

__all__ = [
    "bucket_name",
    "bucket_prefix",
    "control_table_name",
    "database_table_name",
    "parameter_name",
    "role_name",
]

_BUCKET_MAX = 63
_TABLE_MAX = 255
_HASH_LEN = 8


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:_HASH_LEN]


def _clean(text: str, allowed: str) -> str:
    return re.sub(rf"[^{allowed}]+", "-", text.lower()).strip("-") or "x"


def _fit(pieces: list[str], digest: str, limit: int) -> str:
    """Join pieces with '-' and the digest, shortening the longest piece until it fits."""
    pieces = list(pieces)
    while len("-".join([*pieces, digest])) > limit:
        longest = max(range(len(pieces)), key=lambda i: len(pieces[i]))
        pieces[longest] = pieces[longest][:-1].rstrip("-") or "x"
    return "-".join([*pieces, digest])


def bucket_name(topology: str, stack: str, service: str, site: str, account: str = "") -> str:
    """An S3 bucket name: lower-case letters, digits and hyphens, 3–63 characters, readable
    (``<stack>-<service>-<site>-<hash>``) and unique per account and stack."""
    pieces = [_clean(p, "a-z0-9") for p in (stack, service, site)]
    parts = ("bucket", topology, stack, service, site) + ((account,) if account else ())
    return _fit(pieces, _digest(*parts), _BUCKET_MAX)


def control_table_name(topology: str, stack: str) -> str:
    """The DynamoDB control table name (locks and the active-site register)."""
    pieces = [_clean(p, "a-z0-9") for p in (topology, stack)] + ["control"]
    return _fit(pieces, _digest("control", topology, stack), _TABLE_MAX)


def database_table_name(topology: str, stack: str, service: str, site: str) -> str:
    """A DynamoDB table name for a database service's replica at one site."""
    pieces = [_clean(p, "a-z0-9") for p in (stack, service, site)]
    return _fit(pieces, _digest("table", topology, stack, service, site), _TABLE_MAX)


def parameter_name(topology: str, stack: str, service: str) -> str:
    """The SSM parameter holding the site that serves ``service``.

    SSM allows ``a-zA-Z0-9_.-`` in each path segment, so topology ids are used as they are.
    """
    return f"/georesil/{topology}/{stack}/services/{service}/serving-site"


def role_name(topology: str, stack: str, service: str) -> str:
    """An IAM role name (at most 64 characters) for a service's replication role."""
    pieces = ["grs", _clean(stack, "a-z0-9"), _clean(service, "a-z0-9"), "repl"]
    return _fit(pieces, _digest("role", topology, stack, service), 64)


def bucket_prefix(stack: str) -> str:
    """The start every bucket name of ``stack`` shares (drift detection looks for it)."""
    return _clean(stack, "a-z0-9") + "-"
