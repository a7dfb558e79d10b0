"""The cloud boundary: per-site boto3 clients, error mapping and retry policies.

Nothing else in georesil imports boto3 or botocore directly for a cloud call.
"""

from __future__ import annotations

from georesil.cloud.errors import error_code, is_already_exists, is_condition_failed, map_error
from georesil.cloud.retry import TRANSIENT, is_retryable, retry_policy
from georesil.cloud.sessions import Credentials, PolicyFactory, SiteClients, SiteEndpoint

__all__ = [
    "TRANSIENT",
    "Credentials",
    "PolicyFactory",
    "SiteClients",
    "SiteEndpoint",
    "error_code",
    "is_already_exists",
    "is_condition_failed",
    "is_retryable",
    "map_error",
    "retry_policy",
]
