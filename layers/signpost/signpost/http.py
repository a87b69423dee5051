"""What every API function shares: the resolver, problem+json errors, the caller, JSON responses."""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from signpost.authz import Action, Caller
from signpost.errors import (
    BadRequest,
    Forbidden,
    SignpostError,
    TooManyRequests,
    UnsupportedMediaType,
    problem,
)
from signpost.models.common import MAX_ID_LENGTH
from signpost.observability import logger

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def json_doc(model: type[Any], description: str) -> OpenAPIResponse:
    """An OpenAPI response of `model` as JSON, for a route's `responses`."""
    return {"description": description, "content": {"application/json": {"model": model}}}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    if isinstance(body, BaseModel):
        text = body.model_dump_json(exclude_none=True)
    else:
        text = json.dumps(body, separators=(",", ":"), default=str)
    return Response(
        status_code=status, content_type=JSON, body=text, headers={**_SECURITY_HEADERS, **(headers or {})}
    )


def problem_response(status: int, title: str, detail: str | None = None, **extra: Any) -> Response[str]:
    headers = {**_SECURITY_HEADERS}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem(status, title, detail, **extra), separators=(",", ":"), default=str),
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_errors(errors: list[dict[str, Any]] | Any) -> list[dict[str, str]]:
    """Field and message only: pydantic's `input` (the submitted value) is never echoed."""
    out = []
    for err in errors:
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        elif err.get("type") == "missing":
            message = "required"
        out.append({"field": _field_path(tuple(err.get("loc", ()))), "message": message})
    return out


class GuardedResolver(APIGatewayRestResolver):
    """A resolver that checks the caller's role before anything else, body validation included.

    Deny by default: every route must be listed in `permissions` (the action it needs) or in
    `public`; any other route answers 403. So a health worker posting an empty body to
    register gets 403 (wrong role), not 400 (bad body).
    """

    def __init__(
        self, permissions: Mapping[tuple[str, str], Action], public: frozenset[tuple[str, str]]
    ) -> None:
        super().__init__(enable_validation=True)
        self.permissions = dict(permissions)
        self.public = public

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        route = (str(event.get("httpMethod", "")).upper(), str(event.get("resource", "")))
        try:
            if route not in self.public:
                caller = Caller.from_context(event.get("requestContext", {}).get("authorizer"))
                action = self.permissions.get(route)
                if action is None:
                    raise Forbidden("no role may do this")
                caller.require(action)
            _require_json_body(event)
            event = _unknown_ids_as_any_other(event)
        except SignpostError as exc:
            refused = problem_response(exc.status, exc.title, exc.detail)
            return {
                "statusCode": refused.status_code,
                "headers": {"Content-Type": PROBLEM_JSON, **_SECURITY_HEADERS},
                "multiValueHeaders": {},
                "body": refused.body,
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


# An id the service never issues (ids are 32 hex digits): it finds nothing, like any unknown id.
NEVER_ISSUED_ID = "0"


def _unknown_ids_as_any_other(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """An id longer than any the service issues cannot exist: the route runs with an id that
    never exists instead, so the answer is the route's own 404 (after the same role and body
    checks), byte for byte - not a 400 for its shape, nor a key DynamoDB would refuse."""
    params = dict(event.get("pathParameters") or {})
    too_long = {n for n, v in params.items() if n.endswith("_id") and len(str(v)) > MAX_ID_LENGTH}
    if not too_long:
        return event
    resource = str(event.get("resource", "")).split("/")
    path = str(event.get("path", "")).split("/")
    if len(resource) == len(path):  # REST API paths carry no stage; {name} segments line up
        path = [NEVER_ISSUED_ID if r[1:-1] in too_long else p for r, p in zip(resource, path, strict=True)]
    params.update(dict.fromkeys(too_long, NEVER_ISSUED_ID))
    return {**event, "path": "/".join(path), "pathParameters": params}


def _require_json_body(event: Mapping[str, Any]) -> None:
    """Bodies are JSON: a body sent as anything else (form data, multipart, XML …) is 415."""
    if not event.get("body"):
        return
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType("send the body as application/json")


def make_resolver(
    permissions: Mapping[tuple[str, str], Action] | None = None,
    public: frozenset[tuple[str, str]] = frozenset(),
) -> APIGatewayRestResolver:
    app = GuardedResolver(permissions or {}, public)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return problem_response(
            400,
            "Invalid request",
            "the request body or parameters are not valid",
            errors=validation_errors(exc.errors()),
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(415, "Unsupported media type", "send the body as application/json")

    @app.exception_handler([UnicodeDecodeError, RecursionError, json.JSONDecodeError])
    def _unreadable(_exc: Exception) -> Response[str]:
        # Not UTF-8, not JSON, or nested too deeply to parse: the client's error, never a 500.
        return problem_response(400, "Invalid request", "the body is not a readable JSON document")

    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response[str]:
        extra: dict[str, Any] = {**exc.extra}
        if exc.errors:
            extra["errors"] = exc.errors
        return problem_response(exc.status, exc.title, exc.detail, **extra)

    @app.exception_handler(TooManyRequests)
    def _too_many(exc: TooManyRequests) -> Response[str]:
        return problem_response(exc.status, exc.title, exc.detail, retry_after=exc.retry_after)

    @app.exception_handler(SignpostError)
    def _domain(exc: SignpostError) -> Response[str]:
        return problem_response(exc.status, exc.title, exc.detail, **exc.extra)

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return problem_response(404, "Not found", "no such resource")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        # Type and location only: an exception message could quote data.
        frames = traceback.extract_tb(exc.__traceback__)
        where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-3:]]
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "where": where})
        return problem_response(500, "Internal error")

    return app


def current_caller(app: APIGatewayRestResolver) -> Caller:
    context = app.current_event.raw_event.get("requestContext", {}).get("authorizer")
    return Caller.from_context(context)


def header(app: APIGatewayRestResolver, name: str) -> str | None:
    headers = app.current_event.headers or {}
    lowered = name.lower()
    for k, v in headers.items():
        if k.lower() == lowered:
            return v
    return None


def raw_json_body(app: APIGatewayRestResolver) -> dict[str, Any]:
    body = app.current_event.json_body
    return body if isinstance(body, dict) else {}
