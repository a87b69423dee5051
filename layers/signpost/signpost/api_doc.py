"""How a handler documents a route in the OpenAPI document: the one helper, `operation`.

Every route of every API function passes its documentation through `operation`::

    @app.post(
        "/v1/children",
        **operation(
            "registerChild",
            "Register a child",
            tag="children",
            ok={201: reply(ChildCreated, "Registered", location=True)},
            errors={409: error("An active record of this child exists", model=DuplicateChildProblem)},
            idempotent=True,
        ),
    )

It states what is particular to the route: a short operation id, what it does, its success
responses and headers, and the errors only it answers (or a more specific description of a
standard one). `scripts/build_openapi.py` adds what every route shares - the standard
errors below, with their headers, and the roles that may call the route, derived from
`signpost.authz` - when it writes `openapi.json`. Nothing here runs at a request: the
document is built once by the script and served as a file.

Request and response examples belong to the models (`model_config = ConfigDict(
json_schema_extra={"examples": [...]})`), so a model and its example sit side by side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from signpost.errors import status_phrase
from signpost.models.problems import Problem, ValidationProblem

PROBLEM_JSON = "application/problem+json"
# The operation's extension that tells build_openapi.py to document the Idempotency-Key header.
IDEMPOTENT = "x-signpost-idempotent"

LOCATION_HEADER = {
    "description": "The new resource's path",
    "required": True,
    "schema": {"type": "string"},
}
RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE_HEADER = {
    "description": "`Bearer`: how to authenticate",
    "required": True,
    "schema": {"type": "string", "enum": ["Bearer"]},
}


@dataclass(frozen=True)
class Error:
    """An error response of one route: why it happens there, and its problem+json shape."""

    description: str
    model: type[Problem] | None = None  # None: the standard model of the status (Problem)
    headers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    example: Mapping[str, Any] = field(default_factory=dict)  # `detail` and extension members


def error(
    description: str, *, model: type[Problem] | None = None, example: Mapping[str, Any] | None = None
) -> Error:
    """An error of one route; `example` gives its example's `detail` (and any extension members)."""
    return Error(description, model, example=example or {})


# The errors every route may answer; build_openapi.py adds those that fit each route (400 when
# it takes parameters or a body, 404 when its path names something, 413/415 when it takes a body,
# 401/403/429/503 on /v1). A route's own `errors` replace these descriptions.
STANDARD_ERRORS: Mapping[int, Error] = {
    400: Error(
        "The request is not valid: `errors` names each field at fault and what it must be. "
        "Nothing was changed.",
        ValidationProblem,
        example={
            "detail": "the request body or parameters are not valid: see errors",
            "errors": [{"field": "date_of_birth", "message": "must be a date: use YYYY-MM-DD"}],
        },
    ),
    401: Error(
        "No bearer token, or one that is invalid, expired, or whose role does not fit its "
        "organisation. Send `Authorization: Bearer <JWT>`.",
        headers={"WWW-Authenticate": WWW_AUTHENTICATE_HEADER},
        example={"detail": "send a valid, unexpired bearer token in the Authorization header"},
    ),
    403: Error(
        "The caller's role may not do this (see the roles above), or the web application firewall "
        "refused the request.",
        example={"detail": "your role may not do this"},
    ),
    404: Error(
        "Nothing by that id that the caller's organisation may see: a record the caller may not "
        "see answers exactly as one that does not exist.",
        example={"detail": "no such child"},
    ),
    413: Error("The body is larger than the API accepts.", example={"detail": "the body is too large"}),
    415: Error(
        "A body that is not `application/json`: send `Content-Type: application/json` with every body.",
        example={"detail": "the body has no Content-Type: send it as application/json"},
    ),
    429: Error(
        "Too many requests (the API's throttling, or a police officer's hourly search limit): "
        "wait `Retry-After` seconds.",
        headers={"Retry-After": RETRY_AFTER_HEADER},
        example={"detail": "too many requests: try again later"},
    ),
    500: Error(
        "An unexpected error: try again later (a write with the same Idempotency-Key).",
        example={"detail": "an unexpected error"},
    ),
    503: Error(
        "The record was busy with a concurrent change. Nothing was changed: retry after `Retry-After` "
        "seconds (with the same Idempotency-Key, if any).",
        headers={"Retry-After": RETRY_AFTER_HEADER},
        example={"detail": "the record is busy; try again"},
    ),
}


@dataclass(frozen=True)
class Reply:
    """A success response: its body's model and what it means."""

    model: type[Any]
    description: str
    location: bool = False  # the answer names the new resource in `Location` (201, or 202 to follow)


def reply(model: type[Any], description: str, *, location: bool = False) -> Reply:
    return Reply(model, description, location)


class RouteDoc(TypedDict):
    """Keyword arguments of a Powertools route decorator."""

    operation_id: str
    summary: str
    description: str
    tags: list[str]
    responses: dict[int, OpenAPIResponse]
    openapi_extensions: dict[str, Any]


def problem_doc(status: int, err: Error) -> OpenAPIResponse:
    """An error response: problem+json of `err.model`, with an example of its title."""
    standard = STANDARD_ERRORS.get(status)
    example = {
        "type": "about:blank",
        "title": status_phrase(status),
        "status": status,
        **(err.example or (standard.example if standard else {})),
    }
    model = err.model or _standard_model(status)
    doc: OpenAPIResponse = {
        "description": err.description,
        "content": {PROBLEM_JSON: {"model": model, "examples": {"problem": {"value": example}}}},
    }
    if err.headers:
        doc["headers"] = {name: dict(header) for name, header in err.headers.items()}  # type: ignore[misc]
    return doc


def operation(
    operation_id: str,
    summary: str,
    *,
    tag: str,
    ok: Mapping[int, Reply],
    description: str = "",
    errors: Mapping[int, Error | str] | None = None,
    idempotent: bool = False,
    request_body: Mapping[str, Any] | None = None,
) -> RouteDoc:
    """The documentation of one route, as keyword arguments for `@app.get/post/...`.

    `errors` maps a status to why this route answers it (a string, or `error(...)` for another
    problem model). `idempotent` documents the optional `Idempotency-Key` request header.
    `request_body` is an OpenAPI request body object, for a body no model describes (e.g.
    `text/csv`); a JSON body is documented by the handler's model parameter instead.
    """
    responses: dict[int, OpenAPIResponse] = {}
    for status, success in ok.items():
        doc: OpenAPIResponse = {
            "description": success.description,
            "content": {"application/json": {"model": success.model}},
        }
        if success.location:
            doc["headers"] = {"Location": dict(LOCATION_HEADER)}  # type: ignore[dict-item]
        responses[status] = doc
    for status, why in (errors or {}).items():
        err = why if isinstance(why, Error) else Error(why)
        headers = {**STANDARD_ERRORS[status].headers, **err.headers} if status in STANDARD_ERRORS else {}
        responses[status] = problem_doc(status, Error(err.description, err.model, headers, err.example))
    return {
        "operation_id": operation_id,
        "summary": summary,
        "description": description,
        "tags": [tag],
        "responses": responses,
        "openapi_extensions": {
            **({IDEMPOTENT: True} if idempotent else {}),
            **({"requestBody": dict(request_body)} if request_body else {}),
        },
    }


def _standard_model(status: int) -> type[Problem]:
    standard = STANDARD_ERRORS.get(status)
    return (standard.model if standard else None) or Problem
