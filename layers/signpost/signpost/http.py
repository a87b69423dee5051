"""What every API function shares: the resolver, problem+json errors, the caller, JSON responses."""

from __future__ import annotations

import base64
import binascii
import json
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from signpost.authz import Action, Caller
from signpost.errors import (
    BadRequest,
    Forbidden,
    SignpostError,
    UnsupportedMediaType,
    problem,
)
from signpost.models.common import MAX_ID_LENGTH
from signpost.observability import logger, metrics, tracer

PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    if isinstance(body, BaseModel):
        text = body.model_dump_json(exclude_none=True)
    else:
        text = json.dumps(body, separators=(",", ":"), default=str)
    return Response(
        status_code=status, content_type=JSON, body=text, headers={**_SECURITY_HEADERS, **(headers or {})}
    )


def problem_response(
    status: int, detail: str | None = None, *, retry_after: int | None = None, **extra: Any
) -> Response[str]:
    """An RFC 9457 error (its title is the status phrase), with the headers its status calls for."""
    headers = {**_SECURITY_HEADERS}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(
        status_code=status,
        content_type=PROBLEM_JSON,
        body=json.dumps(problem(status, detail, **extra), separators=(",", ":"), default=str),
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


# pydantic error types whose own message would not tell a person what to send instead
_DATE_ERRORS = frozenset(
    {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"}
)
_DATETIME_ERRORS = frozenset({"datetime_parsing", "datetime_from_date_parsing", "datetime_type"})
_PREFIXES = ("Value error, ", "Assertion failed, ")


def validation_errors(errors: list[dict[str, Any]] | Any, body: str | None = None) -> list[dict[str, str]]:
    """Field and message only: pydantic's `input` (the submitted value) is never echoed."""
    out = []
    for err in errors:
        kind = err.get("type")
        field = _field_path(tuple(err.get("loc", ())))
        message = str(err.get("msg", "invalid value"))
        if kind == "extra_forbidden":
            message = "unknown field"
        elif kind == "missing":
            message = "required"
        elif kind in _DATE_ERRORS:
            message = "must be a date: use YYYY-MM-DD"
        elif kind in _DATETIME_ERRORS:
            message = "must be a date and time: use RFC 3339, e.g. 2026-01-31T09:30:00Z"
        elif kind == "json_invalid":
            field, message = "body", unreadable_json(body)
        else:
            for prefix in _PREFIXES:
                message = message.removeprefix(prefix)
        out.append({"field": field, "message": message})
    return out


def unreadable_json(body: str | None) -> str:
    """Why a body is not JSON, by line and column (the decoder's words; never the text itself)."""
    try:
        json.loads(body or "")
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg[:1].lower()}{exc.msg[1:]} at line {exc.lineno}, column {exc.colno}"
    except (RecursionError, ValueError):
        pass
    return "not valid JSON"


class GuardedResolver(APIGatewayRestResolver):
    """A resolver that checks the caller's role before anything else, body validation included.

    Deny by default: every route must be listed in `permissions` (the action it needs) or in
    `public`; any other route answers 403. So a health worker posting an empty body to
    register gets 403 (wrong role), not 400 (bad body).
    """

    def __init__(
        self,
        permissions: Mapping[tuple[str, str], Action],
        public: frozenset[tuple[str, str]],
        media_types: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        super().__init__(enable_validation=True)
        self.permissions = dict(permissions)
        self.public = public
        self.media_types = dict(media_types or {})  # routes whose body is not JSON

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        route = (str(event.get("httpMethod", "")).upper(), str(event.get("resource", "")))
        try:
            if route not in self.public:
                caller = Caller.from_context(event.get("requestContext", {}).get("authorizer"))
                action = self.permissions.get(route)
                if action is None:
                    raise Forbidden("no role may do this")
                caller.require(action)
            _require_media_type(event, self.media_types.get(route, JSON))
            event = _unknown_ids_as_any_other(event)
        except SignpostError as exc:
            refused = problem_response(exc.status, exc.detail)
            return {
                "statusCode": refused.status_code,
                "headers": {"Content-Type": PROBLEM_JSON, **refused.headers},
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


def _require_media_type(event: Mapping[str, Any], expected: str) -> None:
    """Bodies are JSON (or the route's own type, e.g. an import's text/csv): a body sent as
    anything else, or with no Content-Type at all, is 415."""
    if not event.get("body"):
        return
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media, _, parameters = headers.get("content-type", "").partition(";")
    media = media.strip().lower()
    if not media:
        raise UnsupportedMediaType(f"the body has no Content-Type: send it as {expected}")
    if expected == JSON:
        if media != JSON and not media.endswith("+json"):
            raise UnsupportedMediaType(
                f"a body of type {_shown(media)} is not accepted: send application/json"
            )
        return
    options = dict(p.strip().lower().partition("=")[::2] for p in parameters.split(";") if "=" in p)
    charset = options.get("charset", "").strip('"')
    if media != expected or charset not in ("", "utf-8"):
        raise UnsupportedMediaType(f"a body of type {_shown(media)} is not accepted: send {expected} (UTF-8)")


def _shown(media: str) -> str:
    """A media type as the client sent it, if it looks like one (it is echoed in `detail`)."""
    return media if re.fullmatch(r"[a-z0-9.+-]{1,40}/[a-z0-9.+-]{1,60}", media) else "that type"


def item_page(items: Iterable[BaseModel], next_page: str | None) -> dict[str, Any]:
    """A page of a list: its items and, while there are more, the URL of the `next` page."""
    body: dict[str, Any] = {"items": [i.model_dump(mode="json", exclude_none=True) for i in items]}
    if next_page:
        body["next"] = next_page
    return body


def raw_body(app: APIGatewayRestResolver) -> bytes:
    """The request body as the client sent it (API Gateway passes binary media types base64-encoded)."""
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def make_resolver(
    permissions: Mapping[tuple[str, str], Action] | None = None,
    public: frozenset[tuple[str, str]] = frozenset(),
    media_types: Mapping[tuple[str, str], str] | None = None,
) -> APIGatewayRestResolver:
    app = GuardedResolver(permissions or {}, public, media_types)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return problem_response(
            400,
            "the request body or parameters are not valid: see errors",
            errors=validation_errors(exc.errors(), app.current_event.body),
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(_exc: RequestUnsupportedContentType) -> Response[str]:
        return problem_response(415, "send the body as application/json")

    @app.exception_handler([UnicodeDecodeError, RecursionError, json.JSONDecodeError, binascii.Error])
    def _unreadable(_exc: Exception) -> Response[str]:
        # Not UTF-8, not JSON, or nested too deeply to parse: the client's error, never a 500.
        return problem_response(
            400,
            "the body is not a readable JSON document",
            errors=[{"field": "body", "message": "must be UTF-8 JSON, nested at most a few levels deep"}],
        )

    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response[str]:
        extra: dict[str, Any] = {**exc.extra}
        if exc.errors:
            extra["errors"] = exc.errors
        return problem_response(exc.status, exc.detail, **extra)

    @app.exception_handler(SignpostError)
    def _domain(exc: SignpostError) -> Response[str]:
        # An error that says when to come back (429, 503, …) carries Retry-After.
        retry_after: int | None = getattr(exc, "retry_after", None)
        return problem_response(exc.status, exc.detail, retry_after=retry_after, **exc.extra)

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        return problem_response(404, "no such resource")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        # Type and location only: an exception message could quote data.
        frames = traceback.extract_tb(exc.__traceback__)
        where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-3:]]
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "where": where})
        return problem_response(500, "an unexpected error")

    return app


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def api_handler(app: APIGatewayRestResolver) -> LambdaHandler:
    """An API function's Lambda entry point: the request id as correlation id (no event logged),
    traced without its response, and the invocation's metrics flushed."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return cast(LambdaHandler, lambda_handler)


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
