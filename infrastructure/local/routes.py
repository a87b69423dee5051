"""The API's routes, read from template.yaml: which function serves which method and path.

Used by the gateway emulator and by the tests' event builder, so a route exists
locally exactly when the template deploys it. Matching follows API Gateway: a
literal path segment wins over a ``{variable}``, which wins over a greedy
``{proxy+}``; paths are case-sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from infrastructure.local.aws import parsed_template

_VARIABLE = re.compile(r"^\{([^{}+]+)(\+?)\}$")
_DEFAULT_TIMEOUT_SECONDS = 3  # SAM's defaults when neither the function nor Globals say
_DEFAULT_MEMORY_MB = 128


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function of the template, as the emulator needs it."""

    logical_id: str
    module: str  # e.g. functions.records.app
    handler: str  # attribute of the module, e.g. lambda_handler
    name: str  # short name, the CodeUri's last folder, e.g. records
    timeout_seconds: int = _DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = _DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, … or ANY
    resource: str  # the template path, e.g. /v1/children/{child_id}
    function: FunctionSpec
    authorised: bool  # False for `Auth: {Authorizer: NONE}`
    event_name: str  # the key under Events in the template
    _pattern: re.Pattern[str] = field(repr=False, compare=False, default=re.compile(""))
    _names: tuple[str, ...] = field(repr=False, compare=False, default=())

    @classmethod
    def build(
        cls, method: str, resource: str, function: FunctionSpec, authorised: bool, event_name: str
    ) -> Route:
        pattern, names = _compile(resource)
        return cls(method.upper(), resource, function, authorised, event_name, pattern, names)

    def path_parameters(self, path: str) -> dict[str, str] | None:
        """The decoded ``{variables}`` of ``path`` if this route's resource matches it, else None."""
        found = self._pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in zip(self._names, found.groups(), strict=True)}

    @property
    def specificity(self) -> tuple[int, int, int]:
        segments = self.resource.strip("/").split("/")
        greedy = sum(1 for s in segments if s.endswith("+}"))
        variables = sum(1 for s in segments if s.startswith("{"))
        return (greedy, variables, -len(segments))


def _compile(resource: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts: list[str] = []
    names: list[str] = []
    for segment in resource.strip("/").split("/"):
        variable = _VARIABLE.match(segment)
        if variable:
            names.append(variable.group(1))
            parts.append("(.+)" if variable.group(2) else "([^/]+)")
        elif segment:
            parts.append(re.escape(segment))
    return re.compile("/" + "/".join(parts)), tuple(names)


@dataclass(frozen=True)
class GatewayResponse:
    """One of the template's GatewayResponses: status, static headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


# API Gateway's own status for each response type the emulator can meet (used when the template
# defines neither the type nor its DEFAULT_4XX/5XX).
_DEFAULT_GATEWAY_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "INTEGRATION_FAILURE": 504,
    "DEFAULT_4XX": 400,
    "DEFAULT_5XX": 500,
}


class NoRoute(LookupError):
    """No route for this method and path; ``allowed`` lists the methods the path does have."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("no route")
        self.allowed = allowed


@dataclass
class RouteTable:
    routes: list[Route]
    functions: dict[str, FunctionSpec]
    authorizer: FunctionSpec | None
    identity_headers: tuple[str, ...] = ("Authorization",)
    # GatewayResponses of the template: response type → what API Gateway answers for itself
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)

    def gateway_response(self, kind: str) -> GatewayResponse:
        """The template's answer for a response type; like API Gateway, a type the template does
        not list falls back to DEFAULT_4XX or DEFAULT_5XX."""
        if kind in self.gateway_responses:
            return self.gateway_responses[kind]
        status = _DEFAULT_GATEWAY_STATUS[kind]
        fallback = self.gateway_responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX")
        return fallback or GatewayResponse(status, {}, b"")

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        method = method.upper()
        allowed: list[str] = []
        for route in self.routes:  # most specific first
            params = route.path_parameters(path)
            if params is None:
                continue
            if route.method in (method, "ANY"):
                return route, params
            allowed.append(route.method)
        raise NoRoute(sorted(set(allowed)))

    def route(self, method: str, resource: str) -> Route:
        """The route declared for ``method`` and the template ``resource`` (KeyError if none)."""
        for candidate in self.routes:
            if candidate.method == method.upper() and candidate.resource == resource:
                return candidate
        raise KeyError(f"{method} {resource}")

    def function(self, name: str) -> FunctionSpec:
        """A function by logical id (RecordsFunction) or short name (records)."""
        if name in self.functions:
            return self.functions[name]
        for spec in self.functions.values():
            if spec.name == name:
                return spec
        raise KeyError(name)


def load_routes(template_path: Path) -> RouteTable:
    return routes_from_template(parsed_template(template_path))


def routes_from_template(template: Mapping[str, Any]) -> RouteTable:
    globals_function = template.get("Globals", {}).get("Function", {})
    resources: Mapping[str, Any] = template.get("Resources", {})
    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = {**globals_function, **resource.get("Properties", {})}
        spec = _function_spec(logical_id, properties)
        functions[logical_id] = spec
        for event_name, event in (properties.get("Events") or {}).items():
            if event.get("Type") != "Api":
                continue
            api = event.get("Properties", {})
            auth = api.get("Auth") or {}
            authorised = str(auth.get("Authorizer", "")).upper() != "NONE"
            routes.append(Route.build(str(api["Method"]), str(api["Path"]), spec, authorised, event_name))
    routes.sort(key=lambda r: r.specificity)
    authorizer_id, identity_headers = _default_authorizer(template)
    return RouteTable(
        routes=routes,
        functions=functions,
        authorizer=functions.get(authorizer_id) if authorizer_id else None,
        identity_headers=identity_headers,
        gateway_responses=_gateway_responses(resources),
    )


def _function_spec(logical_id: str, properties: Mapping[str, Any]) -> FunctionSpec:
    code_uri = str(properties.get("CodeUri", "")).strip("/")
    module_name, _, handler = str(properties.get("Handler", "app.lambda_handler")).rpartition(".")
    package = code_uri.replace("/", ".")
    return FunctionSpec(
        logical_id=logical_id,
        module=f"{package}.{module_name}" if package else module_name,
        handler=handler,
        name=code_uri.rsplit("/", 1)[-1] if code_uri else logical_id.removesuffix("Function").lower(),
        timeout_seconds=_int(properties.get("Timeout"), _DEFAULT_TIMEOUT_SECONDS),
        memory_mb=_int(properties.get("MemorySize"), _DEFAULT_MEMORY_MB),
    )


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):  # absent, or an intrinsic such as !Ref
        return default


def _default_authorizer(template: Mapping[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The default authorizer's function logical id and its identity-source headers."""
    apis = [r for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::Serverless::Api"]
    candidates = [api.get("Properties", {}).get("Auth") or {} for api in apis]
    candidates.append(template.get("Globals", {}).get("Api", {}).get("Auth") or {})
    for auth in candidates:
        default = auth.get("DefaultAuthorizer")
        authorizer = (auth.get("Authorizers") or {}).get(default) if default else None
        if not authorizer:
            continue
        headers = tuple((authorizer.get("Identity") or {}).get("Headers") or ("Authorization",))
        return _function_of(authorizer.get("FunctionArn")), headers
    return None, ("Authorization",)


def _function_of(arn: Any) -> str | None:
    """`!GetAtt AuthorizerFunction.Arn` in either of its parsed spellings."""
    if isinstance(arn, Mapping) and "Fn::GetAtt" in arn:
        target = arn["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".", 1)[0])
    return None


def _gateway_responses(resources: Mapping[str, Any]) -> dict[str, GatewayResponse]:
    """The API's GatewayResponses: header values are quoted literals, the body is the JSON template."""
    answers: dict[str, GatewayResponse] = {}
    for resource in resources.values():
        if resource.get("Type") != "AWS::Serverless::Api":
            continue
        for kind, response in (resource.get("Properties", {}).get("GatewayResponses") or {}).items():
            status = _int(response.get("StatusCode"), _DEFAULT_GATEWAY_STATUS.get(kind, 0))
            headers = (response.get("ResponseParameters") or {}).get("Headers") or {}
            body = (response.get("ResponseTemplates") or {}).get("application/json", "")
            answers[kind] = GatewayResponse(
                status, {k: str(v).strip("'") for k, v in headers.items()}, str(body).encode()
            )
    return answers
