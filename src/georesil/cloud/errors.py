"""Map botocore's exceptions onto georesil's :class:`~georesil.errors.CloudError` tree.

This is the only place that knows botocore's error codes. Everything above ``cloud/`` sees
:class:`Throttled`, :class:`Unavailable`, :class:`AccessDenied`, :class:`NotFound` or a plain
:class:`CloudError`, each carrying ``site``, ``service``, ``operation``, ``code`` and
``status`` as attributes; :class:`Unavailable` also carries ``sent``: ``False`` when the request
certainly never reached the server (connection refused, connect timeout), which is what
decides whether a non-idempotent call may be retried.
"""

from __future__ import annotations

from typing import Any

from botocore import exceptions as bce  # type: ignore[import-untyped]

from georesil.errors import AccessDenied, CloudError, NotFound, Throttled, Unavailable

__all__ = ["error_code", "is_already_exists", "is_condition_failed", "map_error"]

_THROTTLE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "SlowDown",
    "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled",
    "RequestThrottledException", "ProvisionedThroughputExceededException",
    "PriorRequestNotComplete", "BandwidthLimitExceeded",
})
_UNAVAILABLE_CODES = frozenset({
    "InternalError", "InternalFailure", "InternalServerError", "ServiceUnavailable",
    "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException",
})
_DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken",
    "ExpiredTokenException", "AllAccessDisabled", "UnauthorizedOperation",
})
_CONDITION_FAILED_CODES = frozenset({"ConditionalCheckFailedException", "PreconditionFailed"})
_ALREADY_EXISTS_CODES = frozenset({
    "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "EntityAlreadyExists",
    "ResourceInUseException", "ParameterAlreadyExists", "HostedZoneAlreadyExists",
    "ResourceAlreadyExistsException", "AlreadyExistsException", "TableAlreadyExistsException",
})
_NOT_FOUND_CODES = frozenset({
    "NoSuchBucket", "NoSuchKey", "NoSuchVersion", "NoSuchUpload", "NotFound",
    "ResourceNotFoundException", "ParameterNotFound", "NoSuchHostedZone", "NoSuchHealthCheck",
    "NoSuchEntity",
})


def error_code(exc: BaseException) -> str | None:
    """The service's error code carried by ``exc`` (a :class:`CloudError` or a botocore
    ``ClientError``), or ``None``."""
    if isinstance(exc, CloudError):
        code = getattr(exc, "code", None)
        return str(code) if code else None
    if isinstance(exc, bce.ClientError):
        return str(exc.response.get("Error", {}).get("Code", "")) or None
    return None


def is_condition_failed(exc: BaseException) -> bool:
    """Whether a conditional write was refused because its condition did not hold
    (DynamoDB ``ConditionExpression``, S3 ``If-Match``): the state is not what the caller
    expected; nothing was written."""
    return error_code(exc) in _CONDITION_FAILED_CODES


def is_already_exists(exc: BaseException) -> bool:
    """Whether a create call failed because the resource exists already."""
    return error_code(exc) in _ALREADY_EXISTS_CODES


def map_error(
    exc: BaseException,
    *,
    site: str | None = None,
    service: str | None = None,
    operation: str | None = None,
) -> CloudError:
    """Translate a botocore (or connection) exception into a :class:`CloudError` subclass.

    The caller raises the result ``from exc`` so the original stays on ``__cause__``.
    An exception that already is a :class:`CloudError` is returned unchanged.

    Args:
        exc: What botocore raised.
        site: The topology site the call went to.
        service: The AWS service name (``s3``, ``dynamodb``, ...).
        operation: The operation (``PutObject``, ``put_object``, ...).
    """
    if isinstance(exc, CloudError):
        return exc
    where = _where(site, service, operation)
    context: dict[str, Any] = {"site": site, "service": service, "operation": operation}
    if isinstance(exc, bce.ClientError):
        return _from_client_error(exc, where, context)
    if isinstance(exc, (bce.EndpointConnectionError, bce.ConnectTimeoutError,
                        bce.ProxyConnectionError)):
        return Unavailable(
            f"{where}: cannot connect to the endpoint ({_short(exc)}); the site may be down "
            "or its endpoint wrong; check `georesil lab status` or the topology's endpoint",
            code=type(exc).__name__, status=None, sent=False, **context,
        )
    if isinstance(exc, (bce.ConnectionClosedError, bce.ReadTimeoutError,
                        bce.ResponseStreamingError, bce.ConnectionError)):
        return Unavailable(
            f"{where}: the connection failed mid-request ({_short(exc)}); the outcome is "
            "unknown", code=type(exc).__name__, status=None, sent=True, **context,
        )
    if isinstance(exc, (bce.NoCredentialsError, bce.PartialCredentialsError,
                        bce.CredentialRetrievalError)):
        return AccessDenied(
            f"{where}: no usable credentials ({_short(exc)}); set the site's endpoint "
            "'profile' in the topology, or AWS_PROFILE / AWS_ACCESS_KEY_ID",
            code=type(exc).__name__, status=None, **context,
        )
    if isinstance(exc, (ConnectionError, TimeoutError)):  # urllib3/socket errors leaking out
        return Unavailable(f"{where}: {_short(exc)}", code=type(exc).__name__, status=None,
                           sent=True, **context)
    return CloudError(f"{where}: {_short(exc)}", code=type(exc).__name__, status=None,
                      **context)


def _from_client_error(exc: Any, where: str, context: dict[str, Any]) -> CloudError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    detail = error.get("Message") or ""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    said = f"{code}: {detail}" if detail else code
    extra = {"code": code, "status": status, **context}
    if code in _THROTTLE_CODES or status == 429:
        return Throttled(f"{where}: throttled by the endpoint ({said})", **extra)
    if code in _DENIED_CODES or status == 403:
        return AccessDenied(
            f"{where}: access denied ({said}); the credentials used for site "
            f"{context['site']!r} may not call {context['operation']}: check the site's "
            "profile and its IAM policy", **extra,
        )
    if code in _NOT_FOUND_CODES or status == 404:
        return NotFound(f"{where}: not found ({said})", **extra)
    if code in _UNAVAILABLE_CODES or (isinstance(status, int) and status >= 500):
        return Unavailable(f"{where}: the endpoint answered with a server error ({said})",
                           sent=True, **extra)
    return CloudError(f"{where}: the endpoint refused the request ({said})", **extra)


def _where(site: str | None, service: str | None, operation: str | None) -> str:
    call = ".".join(p for p in (service, operation) if p) or "cloud call"
    return f"site {site!r}: {call}" if site else call


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
