"""Build real-shaped Lambda events and invoke handlers in-process.

The routes come from template.yaml through the gateway emulator's own code, so an
event built here is the event API Gateway (and the local stack) would send.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from signpost.authz import Caller, role_fits_org
from signpost.models.common import OrgType, Role

from infrastructure.local.aws import TEMPLATE_PATH, load_seed
from infrastructure.local.events import HttpRequest, LambdaContext, authorizer_event, proxy_event
from infrastructure.local.routes import FunctionSpec, NoRoute, RouteTable, load_routes

Query = Mapping[str, str | list[str]]


@cache
def route_table() -> RouteTable:
    return load_routes(TEMPLATE_PATH)


class LambdaResponse(dict[str, Any]):
    """A proxy-integration response (a plain dict) with conveniences for assertions."""

    @property
    def status(self) -> int:
        return int(self["statusCode"])

    def json(self) -> Any:
        return json.loads(self.get("body") or "null")

    def header(self, name: str) -> str | None:
        for key, value in (self.get("headers") or {}).items():
            if key.lower() == name.lower():
                return str(value)
        for key, values in (self.get("multiValueHeaders") or {}).items():
            if key.lower() == name.lower() and values:
                return str(values[-1])
        return None


def _request(
    method: str, path: str, body: Any, headers: Mapping[str, str] | None, query: Query | None
) -> HttpRequest:
    header_pairs = list((headers or {}).items())
    raw: bytes | None
    if body is None:
        raw = None
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = json.dumps(body).encode()
        if not any(k.lower() == "content-type" for k, _ in header_pairs):
            header_pairs.append(("Content-Type", "application/json"))
    query_pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        query_pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return HttpRequest(method=method.upper(), path=path, headers=header_pairs, query=query_pairs, body=raw)


def make_event(
    method: str,
    path: str,
    body: Any = None,
    caller: Caller | None = None,
    headers: Mapping[str, str] | None = None,
    query: Query | None = None,
) -> dict[str, Any]:
    """A REST proxy event for ``method path`` (a real path, e.g. /v1/children/abc).

    ``body``: dict/list (sent as JSON), str or bytes. ``caller``: what the authorizer
    would have put in ``requestContext.authorizer`` (None: no authorizer context).
    Raises LookupError if template.yaml has no such route.
    """
    try:
        route, params = route_table().resolve(method, path)
    except NoRoute as missing:
        raise LookupError(f"template.yaml has no route for {method} {path}") from missing
    authorizer = {**caller.as_context(), "principalId": caller.sub} if caller else None
    return proxy_event(route, _request(method, path, body, headers, query), params, authorizer)


def make_authorizer_event(
    method: str, path: str, token: str | None = None, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The REQUEST authorizer event for ``method path``; ``token`` goes in ``Authorization: Bearer``."""
    route, params = route_table().resolve(method, path)
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return authorizer_event(route, _request(method, path, None, all_headers, None), params)


def function_spec(function: str) -> FunctionSpec:
    """By short name (``records``) or logical id (``RecordsFunction``)."""
    return route_table().function(function)


def lambda_context(function: str = "records") -> LambdaContext:
    return LambdaContext(function_spec(function))


def invoke(function: str, event: Mapping[str, Any]) -> Any:
    """Call ``functions.<name>.app.lambda_handler`` as Lambda would; proxy responses come back
    as :class:`LambdaResponse` (still a dict)."""
    spec = function_spec(function)
    handler = getattr(importlib.import_module(spec.module), spec.handler)
    result = handler(dict(event), LambdaContext(spec))
    if isinstance(result, dict) and "statusCode" in result:
        return LambdaResponse(result)
    return result


@cache
def _directory() -> dict[str, Any]:
    return {org.code: org for org in load_seed()}


def caller(org: str = "E09000007", role: str = "la_practitioner", sub: str = "practitioner-1") -> Caller:
    """The caller the authorizer would build for a token of ``org``/``role`` (seeded directory).

    Refuses a role that does not fit the organisation: the authorizer never lets one through.
    """
    organisation = _directory()[org]
    if not role_fits_org(role, organisation.type):
        raise ValueError(f"role {role} does not fit organisation type {organisation.type}")
    return Caller(
        sub=sub,
        org=organisation.code,
        role=Role(role),
        org_type=OrgType(organisation.type),
        org_name=organisation.name,
        area=organisation.area,
        sensitive_service=organisation.sensitive_service,
    )
