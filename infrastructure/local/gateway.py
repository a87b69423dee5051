"""An HTTP emulator of API Gateway's REST API with Lambda proxy integration.

For each request it does what API Gateway does in front of the deployed stack:
match a route of template.yaml, run the REQUEST authorizer (unless the route has
``Auth: {Authorizer: NONE}``), and invoke the function's handler in-process with a
real-shaped proxy event. Functions run one at a time (one Lambda instance, and
moto lives in this process), so the server threads share a single lock.

Where it answers for itself, it answers exactly as the template's GatewayResponses
say - status, headers and problem+json body (401 for a missing or refused token,
413 over 10 MB, 500 for a function that failed). An unknown route is ``404``: API
Gateway's own answer is ``403 Missing Authentication Token``, which the template
maps to 404. Deliberate differences: a known path with another method is ``405``
with ``Allow`` (AWS: the same 404), and authorizer results are not cached, so a
directory change shows at once (AWS caches them per token for the authorizer's
ReauthorizeEvery).

Also served, locally only: ``POST /dev/token`` (a token from the dev issuer).
"""

from __future__ import annotations

import base64
import fnmatch
import importlib
import json
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from signpost.errors import problem

from infrastructure.local.aws import LocalAws, issuer_url
from infrastructure.local.events import HttpRequest, LambdaContext, authorizer_event, method_arn, proxy_event
from infrastructure.local.routes import FunctionSpec, NoRoute, Route, RouteTable

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
TOKEN_PATH = "/dev/token"  # noqa: S105 - a URL path, not a secret
_TOKEN_FIELDS = ("org", "role", "sub")
_PROBLEM = "application/problem+json"


class LogStream(Protocol):
    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def problem_response(status: int, detail: str | None = None, **extra: Any) -> HttpResponse:
    """An answer of the emulator's own (RFC 9457, as the handlers' and the template's)."""
    body = json.dumps(problem(status, detail, **extra), separators=(",", ":")).encode()
    return HttpResponse(status, [("Content-Type", _PROBLEM)], body)


def json_response(status: int, payload: Any) -> HttpResponse:
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps(payload).encode())


class Gateway:
    def __init__(
        self,
        aws: LocalAws,
        routes: RouteTable,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        log_stream: LogStream | None = None,
    ) -> None:
        self.aws = aws
        self.routes = routes
        self.host = host
        self.port = port
        self._log_stream = log_stream
        self._lock = threading.RLock()  # re-entrant: an after_invoke hook may invoke another function
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Called with the function's short name after each invocation (e.g. to feed the
        # records table's stream to the notifier), while the invocation lock is held.
        self.after_invoke: list[Callable[[str], None]] = []

    # server lifecycle ----------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> Gateway:
        """Open the socket; with port 0 the OS picks one, and tokens are issued for that URL."""
        self._server = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self.aws.set_issuer(issuer_url(self.port))
        return self

    def serve_forever(self) -> None:
        assert self._server is not None, "bind() first"
        self._server.serve_forever(poll_interval=0.2)

    def start_in_background(self) -> Gateway:
        if self._server is None:
            self.bind()
        self._thread = threading.Thread(target=self.serve_forever, name="signpost-gateway", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server = None

    # invocation -------------------------------------------------------------------
    def invoke(self, function: FunctionSpec | str, event: dict[str, Any]) -> Any:
        """Run a function's handler as Lambda would: one at a time (its cold start included),
        with a fresh context and its own Lambda request id."""
        spec = function if isinstance(function, FunctionSpec) else self.routes.function(function)
        with self._lock:
            handler = getattr(importlib.import_module(spec.module), spec.handler)
            try:
                return handler(event, LambdaContext(spec))
            finally:
                for hook in list(self.after_invoke):
                    _run_hook(hook, spec.name, self._log)

    # request handling -----------------------------------------------------------------
    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.path == TOKEN_PATH:
            if request.method.upper() != "POST":
                return _with(problem_response(405, "use POST"), ("Allow", "POST"))
            return self._issue_token(request)
        try:
            route, params = self.routes.resolve(request.method, request.path)
        except NoRoute as missing:
            if missing.allowed:
                allowed = ", ".join(missing.allowed)
                return _with(problem_response(405, f"this path takes {allowed}"), ("Allow", allowed))
            return self.gateway_answer("MISSING_AUTHENTICATION_TOKEN")
        authorizer_context: dict[str, Any] | None = None
        if route.authorised:
            decision = self._authorise(route, request, params)
            if isinstance(decision, HttpResponse):
                return decision
            authorizer_context = decision
        event = proxy_event(route, request, params, authorizer_context)
        try:
            result = self.invoke(route.function, event)
        except Exception as exc:
            self._log_failure(route.function.name, exc)
            return self.gateway_answer("INTEGRATION_FAILURE")
        return _proxy_response(result) or self.gateway_answer("INTEGRATION_FAILURE")

    def gateway_answer(self, kind: str) -> HttpResponse:
        """What API Gateway answers for itself, from the template's GatewayResponses."""
        answer = self.routes.gateway_response(kind)
        return HttpResponse(answer.status, list(answer.headers.items()), answer.body)

    def _authorise(
        self, route: Route, request: HttpRequest, params: dict[str, str]
    ) -> HttpResponse | dict[str, Any]:
        unauthorised = self.gateway_answer("UNAUTHORIZED")
        if self.routes.authorizer is None:
            return problem_response(500, "the template declares no default authorizer")
        # With an identity source configured, API Gateway refuses a request lacking it
        # without invoking the authorizer at all.
        present = {name.lower() for name, value in request.headers if value.strip()}
        if any(source.lower() not in present for source in self.routes.identity_headers):
            return unauthorised
        started = time.monotonic()
        try:
            policy = self.invoke(self.routes.authorizer, authorizer_event(route, request, params))
        except Exception:  # `raise Exception("Unauthorized")` is the authorizer's way to say 401
            return unauthorised
        verdict = _evaluate(policy, method_arn(request.method, request.path))
        if verdict is None:  # a malformed authorizer response
            return self.gateway_answer("AUTHORIZER_CONFIGURATION_ERROR")
        if not verdict:
            return self.gateway_answer("ACCESS_DENIED")
        context = dict(policy.get("context") or {})
        context["principalId"] = policy["principalId"]
        context["integrationLatency"] = int((time.monotonic() - started) * 1000)
        return context

    def _issue_token(self, request: HttpRequest) -> HttpResponse:
        try:
            body = json.loads(request.body or b"")
        except ValueError:
            return problem_response(400, 'the body must be JSON: {"org": …, "role": …, "sub": …}')
        if not isinstance(body, dict):
            return problem_response(400, "the body must be a JSON object")
        errors = [
            {"field": name, "message": "required: a non-empty string"}
            for name in _TOKEN_FIELDS
            if not isinstance(body.get(name), str) or not body[name].strip()
        ]
        errors += [{"field": name, "message": "unknown field"} for name in body if name not in _TOKEN_FIELDS]
        if errors:
            return problem_response(400, "invalid token request: see errors", errors=errors)
        # No directory check here: the authorizer refuses a role that doesn't fit its org, at use.
        token = self.aws.tokens.issue_token(body["org"], body["role"], body["sub"])
        return json_response(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})

    # logging ------------------------------------------------------------------------
    def log_request(self, request: HttpRequest, status: int, started: float) -> None:
        """One line per request. The path only: never the query string, headers or body."""
        self._log(
            {
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "correlation_id": request.request_id,
            }
        )

    def _log_failure(self, function: str, exc: BaseException) -> None:
        # Where it failed, but not the message: a validation error's message can quote input.
        frames = [
            f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in traceback.extract_tb(exc.__traceback__)
        ]
        self._log({"function": function, "error": type(exc).__name__, "at": frames[-5:]})

    def _log(self, line: dict[str, Any]) -> None:
        stream = self._log_stream or sys.stderr
        stream.write(json.dumps(line) + "\n")
        stream.flush()


def _with(response: HttpResponse, header: tuple[str, str]) -> HttpResponse:
    response.headers.append(header)
    return response


def _run_hook(hook: Callable[[str], None], name: str, log: Callable[[dict[str, Any]], None]) -> None:
    try:
        hook(name)
    except Exception as exc:
        log({"hook": getattr(hook, "__name__", repr(hook)), "error": type(exc).__name__})


def _evaluate(policy: Any, arn: str) -> bool | None:
    """IAM evaluation of the authorizer's policy for ``arn``: explicit Deny wins, else Allow needed.

    None when the response is not one API Gateway would accept (it answers 500).
    """
    try:
        if not isinstance(policy["principalId"], str):
            return None
        context = policy.get("context") or {}
        if not isinstance(context, dict) or any(
            not isinstance(v, str | int | float | bool) for v in context.values()
        ):
            return None  # API Gateway accepts only flat string/number/boolean context values
        effects = set()
        for statement in policy["policyDocument"]["Statement"]:
            actions = _as_list(statement.get("Action"))
            resources = _as_list(statement.get("Resource"))
            if any(fnmatch.fnmatchcase("execute-api:Invoke", a) for a in actions) and any(
                fnmatch.fnmatchcase(arn, r) for r in resources
            ):
                effects.add(str(statement["Effect"]).lower())
    except (KeyError, TypeError):
        return None
    return "deny" not in effects and "allow" in effects


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _proxy_response(result: Any) -> HttpResponse | None:
    """The Lambda proxy response → HTTP; None if malformed (API Gateway answers 502)."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return None
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    seen = {k.lower() for k, _ in headers}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() in seen:
            continue  # API Gateway merges both maps; a single-value header wins
        headers += [(str(name), str(v)) for v in values]
    body = result.get("body") or ""
    if not isinstance(body, str):
        return None
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode("utf-8")
    return HttpResponse(result["statusCode"], headers, raw)


def _handler_class(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
        server_version = "signpost-local-gateway"

        def _serve(self) -> None:
            started = time.monotonic()
            split = urlsplit(self.path)
            request = HttpRequest(
                method=self.command,
                path=split.path or "/",
                headers=list(self.headers.items()),
                query=parse_qsl(split.query, keep_blank_values=True),
                source_ip=self.client_address[0],
            )
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._discard(length)
                response = gateway.gateway_answer("REQUEST_TOO_LARGE")
            else:
                request = replace(request, body=self.rfile.read(length) if length else None)
                response = gateway.handle(request)
            # Logged before the response goes out, so a client that has its answer can read the line.
            gateway.log_request(request, response.status, started)
            self._send(response, request.request_id)

        def _discard(self, length: int) -> None:
            """Read an oversized body away (a client still sending would not see the 413),
            unless it is absurd, then drop the connection instead."""
            if length > 4 * MAX_BODY_BYTES:
                self.close_connection = True
                return
            while length > 0:
                chunk = self.rfile.read(min(length, 1 << 20))
                if not chunk:  # the client gave up
                    break
                length -= len(chunk)

        def _send(self, response: HttpResponse, request_id: str) -> None:
            self.send_response(response.status)
            names = {k.lower() for k, _ in response.headers}
            if response.status >= 400:  # the emulator's own answers carry the template's headers too
                defaults = gateway.routes.gateway_response("DEFAULT_4XX").headers
                response.headers.extend((k, v) for k, v in defaults.items() if k.lower() not in names)
                names |= {k.lower() for k in defaults}
            for name, value in response.headers:
                if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                    self.send_header(name, value)
            if "content-type" not in names and response.body:
                self.send_header("Content-Type", "application/json")
            self.send_header("x-amzn-RequestId", request_id)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:  # noqa: ARG002
            """http.server's own refusals (an unknown method, a malformed request line) as
            problem+json too, not its HTML page."""
            self.close_connection = True
            detail = "this method is not supported" if code == 501 else "the request could not be read"
            self._send(problem_response(code, detail), "-")

        def log_message(self, format: str, *args: Any) -> None:
            """Silenced: the gateway writes its own structured line per request."""

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return Handler
