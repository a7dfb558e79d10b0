"""Per-site boto3 sessions and clients: the only place georesil builds boto3 objects.

A site's endpoint comes from the topology (an AWS region, or an endpoint URL plus a signing
region, optionally a named profile) unless an override replaces its URL; the lab passes its
loopback endpoints and dummy credentials that way (``georesil.lab.lab_clients``).

botocore's own retries are switched off (one attempt): :mod:`georesil.cloud.retry` owns
retrying, so an attempt count and a deadline mean what they say.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    ProfileNotFound,
)
from tenacity import Retrying

from georesil.cloud.errors import map_error
from georesil.cloud.retry import retry_policy
from georesil.errors import InvalidInput
from georesil.model import CONTROL_NAME, Topology

__all__ = ["LAB_CONTROL_REGION", "Credentials", "PolicyFactory", "SiteClients", "SiteEndpoint"]

T = TypeVar("T")

#: Builds a retry policy for an idempotent (``True``) or non-idempotent (``False``) call.
PolicyFactory = Callable[..., Retrying]


@dataclass(frozen=True)
class Credentials:
    """Static credentials (the lab's dummy keys, or keys handed in by a caller)."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


#: Region the lab's own control endpoint signs for when the topology declares no ``control:``.
LAB_CONTROL_REGION = "us-east-1"


@dataclass(frozen=True)
class SiteEndpoint:
    """Where one site's (or the control plane's) APIs are.

    ``url`` is the S3 API of an S3-compatible store, or a stand-in serving every API (a moto
    server); ``None`` for a real AWS region. ``apis`` gives other APIs their own URLs (an
    S3-compatible store that also runs, say, a DynamoDB-compatible service).
    """

    site: str
    region: str
    url: str | None = None
    profile: str | None = None
    apis: Mapping[str, str] = field(default_factory=dict)
    ca_bundle: str | None = None
    addressing: str = "path"

    def url_for(self, api: str) -> str | None:
        """The URL ``api`` requests go to: its own entry in ``apis``, else ``url``."""
        return self.apis.get(api, self.url)

    @property
    def host(self) -> str:
        if self.url is None:
            return f"s3.{self.region}.amazonaws.com"
        return urlsplit(self.url).hostname or ""

    @property
    def scheme(self) -> str:
        return "HTTPS" if self.url is None else urlsplit(self.url).scheme.upper()

    @property
    def port(self) -> int:
        if self.url is not None and urlsplit(self.url).port:
            return int(urlsplit(self.url).port or 0)
        return 443 if self.scheme == "HTTPS" else 80


class SiteClients:
    """boto3 clients per (site, service), created on first use and cached, thread-safely.

    Args:
        topology: Gives each site's endpoint.
        overrides: ``{site: url}`` replacing the topology's endpoint URL (the lab's loopback
            servers); the signing region stays the topology's.
        credentials: Static credentials for every site instead of profiles/the environment.
        policy: Retry-policy factory called as ``policy(idempotent=...)``; tests inject one
            with ``wait=wait_none()``.
        connect_timeout_s: TCP connect timeout per attempt.
        read_timeout_s: Socket read timeout per attempt.
        max_pool_connections: HTTP connection pool size per client (>= the worker count).
    """

    def __init__(
        self,
        topology: Topology,
        overrides: Mapping[str, str] | None = None,
        *,
        credentials: Credentials | None = None,
        policy: PolicyFactory = retry_policy,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 30.0,
        max_pool_connections: int = 32,
    ) -> None:
        self.topology = topology
        self.overrides = dict(overrides or {})
        self.credentials = credentials
        self.policy = policy
        self._timeouts = (connect_timeout_s, read_timeout_s)
        self._pool = max_pool_connections
        self._lock = threading.Lock()
        self._sessions: dict[str | None, Any] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        unknown = sorted(set(self.overrides) - set(topology.sites) - {CONTROL_NAME})
        if unknown:
            raise InvalidInput(
                f"endpoint overrides name unknown sites {unknown}; known sites: "
                f"{sorted(topology.sites)}", field="overrides", value=unknown)

    def endpoint(self, site: str) -> SiteEndpoint:
        """The resolved endpoint of ``site`` (or of the control plane, ``"control"``)."""
        if site == CONTROL_NAME and site not in self.topology.sites:
            return self._control_endpoint()
        spec = self.topology.site(site)
        ep = spec.endpoint
        if site in self.overrides:
            region = ep.signing_region if ep else "us-east-1"
            return SiteEndpoint(site, region, self.overrides[site], None)
        if ep is None:
            raise InvalidInput(
                f"site {site!r} has no 'endpoint' in the topology; add `endpoint: "
                "{aws_region: ...}` (or `url:` + `region:`), or run `georesil lab up`",
                site=site, field=f"sites[{site}].endpoint")
        return SiteEndpoint(site, ep.signing_region, ep.url, ep.profile, dict(ep.apis),
                            ep.ca_bundle, ep.addressing)

    def _control_endpoint(self) -> SiteEndpoint:
        """The control plane's endpoint: the lab's override, else the topology's region, else
        (a lab stack of a topology without ``control:``) the lab's control region."""
        placement = self.topology.control
        declared = placement.endpoint if placement and placement.site is None else None
        if CONTROL_NAME in self.overrides:
            region = declared.signing_region if declared else LAB_CONTROL_REGION
            return SiteEndpoint(CONTROL_NAME, region, self.overrides[CONTROL_NAME])
        if declared is None:
            # A lab's default control region with no server of its own: in-process moto.
            return SiteEndpoint(CONTROL_NAME, LAB_CONTROL_REGION, None)
        return SiteEndpoint(CONTROL_NAME, declared.signing_region, declared.url,
                            declared.profile, dict(declared.apis), declared.ca_bundle,
                            declared.addressing)

    def client(self, site: str, service: str) -> Any:
        """The cached boto3 client for ``service`` at ``site``."""
        key = (site, service)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            client = self._clients.get(key)
            if client is None:
                client = self._make_client(site, service)
                self._clients[key] = client
        return client

    def _make_client(self, site: str, service: str) -> Any:
        ep = self.endpoint(site)
        url = ep.url_for(service)
        config = Config(
            region_name=ep.region,
            connect_timeout=self._timeouts[0],
            read_timeout=self._timeouts[1],
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=self._pool,
            s3={"addressing_style": ep.addressing} if ep.url else None,
        )
        return self._session(ep).client(service, region_name=ep.region, endpoint_url=url,
                                         config=config, verify=ep.ca_bundle)

    def _session(self, ep: SiteEndpoint) -> Any:
        """One boto3 session per profile (static credentials: one for all sites).

        Sites sharing a session share botocore's loaded service models, which makes the
        second client of a service much cheaper to build; the region is set per client.
        """
        key = None if self.credentials is not None else ep.profile
        session = self._sessions.get(key)
        if session is None:
            if self.credentials is not None:
                c = self.credentials
                session = boto3.session.Session(
                    aws_access_key_id=c.access_key_id, aws_secret_access_key=c.secret_access_key,
                    aws_session_token=c.session_token)
            else:
                try:
                    session = boto3.session.Session(profile_name=ep.profile)
                except ProfileNotFound as exc:
                    raise InvalidInput(
                        f"site {ep.site!r}: AWS profile {ep.profile!r} is not configured; "
                        "add it to ~/.aws/config or change the site's endpoint.profile",
                        site=ep.site, field="endpoint.profile", value=ep.profile) from exc
            self._sessions[key] = session
        return session

    @contextmanager
    def mapped(self, site: str, service: str, operation: str) -> Iterator[None]:
        """Turn botocore exceptions raised inside the block into ``CloudError`` subclasses."""
        try:
            yield
        except (ClientError, BotoCoreError, ConnectionError, TimeoutError) as exc:
            raise map_error(exc, site=site, service=service, operation=operation) from exc

    def run(
        self,
        site: str,
        service: str,
        operation: str,
        fn: Callable[[Any], T],
        *,
        idempotent: bool = True,
    ) -> T:
        """Call ``fn(client)`` under the retry policy, with errors mapped.

        Use this when one logical step is more than one botocore call, e.g. a ``GetObject``
        whose body must be read inside the retried block.
        """
        client = self.client(site, service)

        def attempt() -> T:
            with self.mapped(site, service, operation):
                return fn(client)

        return self.policy(idempotent=idempotent)(attempt)

    def call(
        self, site: str, service: str, operation: str, /, *, idempotent: bool = True,
        **params: Any,
    ) -> Any:
        """Call ``client.<operation>(**params)`` at ``site`` under the retry policy.

        Example:
            ``clients.call("tainan-ngcc", "s3", "head_bucket", Bucket="b")``
        """
        return self.run(site, service, operation,
                        lambda client: getattr(client, operation)(**params),
                        idempotent=idempotent)
