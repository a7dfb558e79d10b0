"""Reading a source version: a response without a body is retried, not copied as nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tenacity import wait_none

from georesil.cloud.retry import retry_policy
from georesil.mirror.sync import SiteSync, _Copier
from georesil.mirror.verify import Version


class _Body:
    def __init__(self, data: bytes | None) -> None:
        self.data = data

    def read(self) -> bytes | None:
        return self.data


class _Client:
    """get_object answers first with no body (a cut connection), then with the data."""

    def __init__(self) -> None:
        self.bodies = [None, b"checkpoint"]

    def get_object(self, **_params: Any) -> dict[str, Any]:
        return {"Body": _Body(self.bodies.pop(0))}


class _Clients:
    def __init__(self, client: _Client) -> None:
        self.client = client

    def run(self, site: str, service: str, operation: str, fn: Any, **_: Any) -> Any:
        return retry_policy(wait=wait_none())(lambda: fn(self.client))


def test_missing_body_is_retried() -> None:
    """A get_object whose body reads as None is retried until real bytes come back."""
    client = _Client()
    copier = _Copier(_Clients(client), "taipei-neihu", "src", "tainan-ngcc", "dst",  # type: ignore[arg-type]
                     SiteSync(site="tainan-ngcc", bucket="dst"))
    version = Version(key="k", version_id="v1", last_modified=datetime.now(UTC), size=10)
    assert copier._read(version) == b"checkpoint"
    assert client.bodies == []
