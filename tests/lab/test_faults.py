"""The fault wrapper: protocol-correct throttles, 5xx and denials, latency, live settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from georesil.errors import AccessDenied, InvalidInput, Throttled, Unavailable
from georesil.lab import FaultSettings, LabState, lab_clients, set_faults
from georesil.lab.faults import HEALTH_PATH, FaultInjector, write_faults

S3_AUTH = ("AWS4-HMAC-SHA256 Credential=AKID/20260101/ap-east-2/s3/aws4_request, "
           "SignedHeaders=host, Signature=abc")
STS_AUTH = S3_AUTH.replace("/s3/", "/sts/")


def moto_stub(environ: dict[str, Any], start_response: Any) -> Any:
    return Response("real answer")(environ, start_response)


def client(tmp_path: Path, sleeps: list[float] | None = None, **faults: Any) -> Client:
    path = tmp_path / "faults.json"
    write_faults(path, FaultSettings(**faults))
    sleep = (lambda s: sleeps.append(s)) if sleeps is not None else (lambda s: None)
    return Client(FaultInjector(moto_stub, path, "south", sleep=sleep))


def test_s3_throttle_is_slowdown_503(tmp_path: Path) -> None:
    """An S3 request throttled by the wrapper gets 503 SlowDown in S3's XML."""
    resp = client(tmp_path, throttle=1.0).put("/bucket/key", data=b"x" * 10,
                                              headers={"Authorization": S3_AUTH})
    assert resp.status_code == 503 and b"<Code>SlowDown</Code>" in resp.data


def test_json_protocol_throttle_is_throttling_exception(tmp_path: Path) -> None:
    """A JSON-protocol request (X-Amz-Target) gets 400 ThrottlingException as JSON."""
    resp = client(tmp_path, throttle=1.0).post(
        "/", data=b"{}", headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"})
    assert resp.status_code == 400
    assert json.loads(resp.data)["__type"] == "ThrottlingException"


def test_query_protocol_throttle_is_throttling(tmp_path: Path) -> None:
    """A query-protocol request (e.g. STS) gets 400 Throttling in an ErrorResponse."""
    resp = client(tmp_path, throttle=1.0).post("/", data=b"Action=GetCallerIdentity",
                                               headers={"Authorization": STS_AUTH})
    assert resp.status_code == 400 and b"<Code>Throttling</Code>" in resp.data


def test_error_share_answers_with_a_server_error(tmp_path: Path) -> None:
    """error=1 answers every request with a 500 InternalError."""
    resp = client(tmp_path, error=1.0).get("/bucket", headers={"Authorization": S3_AUTH})
    assert resp.status_code == 500 and b"InternalError" in resp.data


def test_deny_share_answers_with_access_denied(tmp_path: Path) -> None:
    """deny=1 answers every S3 request with 403 AccessDenied."""
    resp = client(tmp_path, deny=1.0).get("/bucket", headers={"Authorization": S3_AUTH})
    assert resp.status_code == 403 and b"AccessDenied" in resp.data


def test_shares_are_applied_statistically(tmp_path: Path) -> None:
    """About the configured share of requests is throttled (seeded draws)."""
    c = client(tmp_path, throttle=0.3, seed=7)
    codes = [c.get("/b", headers={"Authorization": S3_AUTH}).status_code for _ in range(1000)]
    assert 250 <= codes.count(503) <= 350 and codes.count(200) == 1000 - codes.count(503)


def test_latency_is_added_to_every_request(tmp_path: Path) -> None:
    """latency_ms delays each request by that much (through the injected sleep)."""
    sleeps: list[float] = []
    resp = client(tmp_path, sleeps, latency_ms=50).get("/b")
    assert resp.status_code == 200 and sleeps == [0.05]


def test_settings_change_without_restart(tmp_path: Path) -> None:
    """Rewriting the settings file changes the behaviour of the running wrapper."""
    c = client(tmp_path, throttle=1.0)
    assert c.get("/b", headers={"Authorization": S3_AUTH}).status_code == 503
    write_faults(tmp_path / "faults.json", FaultSettings())
    assert c.get("/b", headers={"Authorization": S3_AUTH}).status_code == 200


def test_health_is_never_faulted(tmp_path: Path) -> None:
    """The health endpoint answers even when every request is failed."""
    resp = client(tmp_path, error=1.0).get(HEALTH_PATH)
    assert resp.status_code == 200 and json.loads(resp.data)["site"] == "south"


@pytest.mark.parametrize("kwargs,message", [({"throttle": 1.5}, "--throttle: got 1.5"),
                                            ({"error": 0.6, "deny": 0.6}, "exceeds 1"),
                                            ({"latency_ms": -1}, "--latency-ms")])
def test_bad_settings_are_invalid_input(kwargs: dict[str, Any], message: str) -> None:
    """Shares outside 0..1, summing over 1, or negative latency are rejected."""
    with pytest.raises(InvalidInput, match=message):
        FaultSettings(**kwargs)


@pytest.mark.parametrize("fault,error", [({"throttle": 1.0}, Throttled),
                                         ({"error": 1.0}, Unavailable),
                                         ({"deny": 1.0}, AccessDenied)])
def test_real_lab_faults_reach_boto3_as_mapped_errors(lab: LabState, fast_policy: Any,
                                                      fault: dict[str, float],
                                                      error: type[Exception]) -> None:
    """Faults set on a running lab site surface through botocore as the mapped error."""
    clients = lab_clients(lab, policy=fast_policy)
    set_faults("south", FaultSettings(**fault), lab.workdir)
    try:
        with pytest.raises(error):
            clients.call("south", "s3", "list_buckets")
    finally:
        set_faults("south", FaultSettings(), lab.workdir)
    assert clients.call("south", "s3", "list_buckets")["Buckets"]


def admin_client(tmp_path: Path, token: str | None = "t0ken") -> Client:
    return Client(FaultInjector(moto_stub, tmp_path / "faults.json", "south",
                                admin_token=token))


@pytest.mark.parametrize("path", ["/moto-api/reset", "/%6Doto-api/reset", "/moto-api//reset",
                                  "/moto-api/", "/Moto-Api/seed", "/moto-api-x"])
def test_moto_api_is_refused_without_the_admin_header(tmp_path: Path, path: str) -> None:
    """Every path moto would route to its control API is 403 without the lab-admin token."""
    resp = admin_client(tmp_path).post(path, data=b"")
    assert resp.status_code == 403 and b"lab-admin token" in resp.data


def test_moto_api_with_a_wrong_token_or_no_lab_token_is_refused(tmp_path: Path) -> None:
    """A wrong token is refused, and with no lab token every token is refused."""
    assert admin_client(tmp_path).post(
        "/moto-api/reset", headers={"X-Georesil-Lab-Admin": "guess"}).status_code == 403
    assert admin_client(tmp_path, None).post(
        "/moto-api/reset", headers={"X-Georesil-Lab-Admin": ""}).status_code == 403


def test_moto_api_with_the_admin_token_reaches_moto(tmp_path: Path) -> None:
    """The lab's own token passes the request on to moto."""
    resp = admin_client(tmp_path).post("/moto-api/reset",
                                       headers={"X-Georesil-Lab-Admin": "t0ken"})
    assert resp.status_code == 200 and resp.data == b"real answer"


def test_object_keys_named_moto_api_are_not_refused(tmp_path: Path) -> None:
    """Only the first path segment counts: an S3 key 'moto-api/...' is ordinary data."""
    resp = admin_client(tmp_path).get("/bucket/moto-api/reset",
                                      headers={"Authorization": S3_AUTH})
    assert resp.status_code == 200
