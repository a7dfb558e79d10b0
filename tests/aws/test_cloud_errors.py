"""botocore errors become CloudError subclasses carrying site, service and operation."""

from __future__ import annotations

from typing import Any

import pytest
from botocore import exceptions as bce

from georesil.cloud import error_code, is_already_exists, is_condition_failed, map_error
from georesil.errors import AccessDenied, CloudError, NotFound, Throttled, Unavailable


def client_error(code: str, status: int, message: str = "boom") -> bce.ClientError:
    response: Any = {"Error": {"Code": code, "Message": message},
                     "ResponseMetadata": {"HTTPStatusCode": status}}
    return bce.ClientError(response, "PutObject")


def mapped(exc: BaseException) -> CloudError:
    return map_error(exc, site="tainan-ngcc", service="s3", operation="PutObject")


@pytest.mark.parametrize("code,status", [("Throttling", 400), ("ThrottlingException", 400),
                                         ("SlowDown", 503), ("RequestLimitExceeded", 503),
                                         ("Anything", 429)])
def test_throttling_codes_map_to_throttled(code: str, status: int) -> None:
    """Every throttling code (and HTTP 429) maps to Throttled."""
    assert type(mapped(client_error(code, status))) is Throttled


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_map_to_unavailable_sent(status: int) -> None:
    """A 5xx maps to Unavailable, marked as having reached the server."""
    err = mapped(client_error("InternalError", status))
    assert type(err) is Unavailable and err.sent is True


def test_connection_refused_maps_to_unavailable_not_sent() -> None:
    """A refused connection maps to Unavailable that certainly never reached the server."""
    err = mapped(bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"))
    assert type(err) is Unavailable and err.sent is False
    assert "cannot connect" in str(err) and "'tainan-ngcc'" in str(err)


def test_connect_timeout_maps_to_unavailable_not_sent() -> None:
    """A connect timeout maps to Unavailable with sent=False."""
    err = mapped(bce.ConnectTimeoutError(endpoint_url="http://127.0.0.1:9"))
    assert type(err) is Unavailable and err.sent is False


@pytest.mark.parametrize("exc", [bce.ReadTimeoutError(endpoint_url="http://x"),
                                 bce.ConnectionClosedError(endpoint_url="http://x")])
def test_midflight_failures_map_to_unavailable_sent(exc: Exception) -> None:
    """Read timeouts and closed connections may have reached the server: sent=True."""
    err = mapped(exc)
    assert type(err) is Unavailable and err.sent is True


@pytest.mark.parametrize("code", ["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                                  "AccessDeniedException"])
def test_denial_codes_map_to_access_denied(code: str) -> None:
    """Credential and permission errors map to AccessDenied naming the site and operation."""
    err = mapped(client_error(code, 403))
    assert type(err) is AccessDenied
    assert "'tainan-ngcc'" in str(err) and "PutObject" in str(err) and "profile" in str(err)


@pytest.mark.parametrize("code,status", [("NoSuchBucket", 404), ("NoSuchKey", 404),
                                         ("ResourceNotFoundException", 400), ("404", 404)])
def test_missing_resources_map_to_not_found(code: str, status: int) -> None:
    """Missing buckets, keys and resources map to NotFound (exit code 3)."""
    err = mapped(client_error(code, status))
    assert type(err) is NotFound and err.exit_code == 3


def test_validation_error_is_a_plain_cloud_error() -> None:
    """A validation error is a CloudError of no transient kind (never retried)."""
    err = mapped(client_error("InvalidBucketName", 400))
    assert type(err) is CloudError


def test_context_is_carried_as_attributes() -> None:
    """The mapped error carries site, service, operation, code and status attributes."""
    err = mapped(client_error("SlowDown", 503))
    assert (err.site, err.service, err.operation, err.code, err.status) == (
        "tainan-ngcc", "s3", "PutObject", "SlowDown", 503)


def test_missing_credentials_map_to_access_denied() -> None:
    """No credentials at all maps to AccessDenied telling how to provide them."""
    err = mapped(bce.NoCredentialsError())
    assert type(err) is AccessDenied and "AWS_PROFILE" in str(err)


def test_cloud_errors_pass_through_unchanged() -> None:
    """An error that already is a CloudError is returned as it is."""
    original = Throttled("slow", site="x")
    assert map_error(original) is original


@pytest.mark.parametrize("code", ["ConditionalCheckFailedException", "PreconditionFailed"])
def test_a_failed_condition_is_recognised_raw_and_mapped(code: str) -> None:
    """is_condition_failed answers for botocore's error and for the mapped CloudError."""
    raw = client_error(code, 400 if code.startswith("Conditional") else 412)
    assert is_condition_failed(raw) and is_condition_failed(mapped(raw))
    assert error_code(mapped(raw)) == code and not is_already_exists(raw)


@pytest.mark.parametrize("code", ["BucketAlreadyOwnedByYou", "EntityAlreadyExists",
                                  "ResourceInUseException", "ParameterAlreadyExists"])
def test_already_exists_codes_are_recognised(code: str) -> None:
    """is_already_exists answers for every create-conflict code georesil meets."""
    raw = client_error(code, 409)
    assert is_already_exists(raw) and is_already_exists(mapped(raw))
    assert not is_condition_failed(raw)


def test_other_errors_have_no_condition_or_conflict() -> None:
    """A throttle, a plain exception and a connection error are neither."""
    for exc in (client_error("SlowDown", 503), ValueError("x"),
                bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:1")):
        assert not is_condition_failed(exc) and not is_already_exists(exc)
    assert error_code(ValueError("x")) is None
