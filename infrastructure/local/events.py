"""Real-shaped Lambda inputs: API Gateway REST proxy events, REQUEST authorizer events,
and a Lambda context. The gateway emulator and the tests build them here, the same way.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infrastructure.local.aws import ACCOUNT_ID, REGION
from infrastructure.local.routes import FunctionSpec, Route

API_ID = "sgnpst0lcl"  # API Gateway ids are 10 lower-case alphanumerics
STAGE = "api"  # template.yaml: SignpostApi StageName
SOURCE_IP = "127.0.0.1"

Pairs = Iterable[tuple[str, str]]


@dataclass(frozen=True)
class HttpRequest:
    """What arrived over HTTP; headers and query keep repeats and order."""

    method: str
    path: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    source_ip: str = SOURCE_IP
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received_ms: int = field(default_factory=lambda: int(time.time() * 1000))


def _single_and_multi(pairs: Pairs) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    """API Gateway's two views: the last value of each name, and every value; null when empty."""
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def _header(request: HttpRequest, name: str) -> str | None:
    found = [v for k, v in request.headers if k.lower() == name.lower()]
    return found[-1] if found else None


def _request_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def method_arn(method: str, path: str) -> str:
    """The ARN API Gateway gives the authorizer: the *request* path, not the resource template."""
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{method.upper()}{path}"


def _request_context(route: Route, request: HttpRequest) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": f"{API_ID}.execute-api.{REGION}.amazonaws.com",
        "domainPrefix": API_ID,
        "extendedRequestId": request.request_id.replace("-", "")[:16] + "=",
        "httpMethod": request.method.upper(),
        "identity": {
            "accessKey": None,
            "accountId": None,
            "apiKey": None,
            "caller": None,
            "cognitoAuthenticationProvider": None,
            "cognitoAuthenticationType": None,
            "cognitoIdentityId": None,
            "cognitoIdentityPoolId": None,
            "principalOrgId": None,
            "sourceIp": request.source_ip,
            "user": None,
            "userAgent": _header(request, "User-Agent"),
            "userArn": None,
        },
        "path": f"/{STAGE}{request.path}",
        "protocol": "HTTP/1.1",
        "requestId": request.request_id,
        "requestTime": _request_time(request.received_ms),
        "requestTimeEpoch": request.received_ms,
        "resourceId": f"{route.method} {route.resource}",
        "resourcePath": route.resource,
        "stage": STAGE,
    }


def _forwarded_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """Headers API Gateway adds on the way in (it overwrites any the client sent)."""
    added = {"X-Forwarded-For": request.source_ip, "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}
    kept = [(k, v) for k, v in request.headers if k not in added]
    return kept + list(added.items())


def _body(raw: bytes, *, binary: bool) -> tuple[str, bool]:
    """API Gateway hands a body over base64-encoded when its type is one of the API's binary
    media types, or when it is not text; otherwise as text."""
    if not binary:
        with suppress(UnicodeDecodeError):
            return raw.decode("utf-8"), False
    return base64.b64encode(raw).decode("ascii"), True


def proxy_event(
    route: Route,
    request: HttpRequest,
    path_parameters: Mapping[str, str] | None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The REST API proxy-integration event (payload format 1.0) for ``request`` on ``route``."""
    headers, multi_headers = _single_and_multi(_forwarded_headers(request))
    query, multi_query = _single_and_multi(request.query)
    body: str | None = None
    is_base64 = False
    media = (_header(request, "Content-Type") or "").split(";", 1)[0].strip().lower()
    if request.body:
        body, is_base64 = _body(request.body, binary=media in route.binary_media_types)
    context = _request_context(route, request)
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method.upper(),
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def authorizer_event(
    route: Route, request: HttpRequest, path_parameters: Mapping[str, str]
) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends before invoking ``route``."""
    headers, multi_headers = _single_and_multi(_forwarded_headers(request))
    query, multi_query = _single_and_multi(request.query)
    return {
        "type": "REQUEST",
        "methodArn": method_arn(request.method, request.path),
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method.upper(),
        "headers": headers or {},
        "multiValueHeaders": multi_headers or {},
        "queryStringParameters": query or {},
        "multiValueQueryStringParameters": multi_query or {},
        "pathParameters": dict(path_parameters),
        "stageVariables": {},
        "requestContext": _request_context(route, request),
    }


class LambdaContext:
    """Quacks like the context the Lambda Python runtime passes (what Powertools reads)."""

    def __init__(self, function: FunctionSpec, request_id: str | None = None) -> None:
        self.function_name = f"signpost-local-{function.name}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = function.memory_mb
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{datetime.now(tz=UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
