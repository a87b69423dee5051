"""The local stack over real HTTP, for API tests: gateway on 127.0.0.1:<free port>, in a thread."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any

import requests

from infrastructure.local.aws import TEMPLATE_PATH, LocalAws
from infrastructure.local.gateway import Gateway
from infrastructure.local.routes import load_routes
from infrastructure.local.stream import attach_all as attach_streams
from tests.support.conformance import Conformance


class _GatewayLog:
    """The gateway's log stream: written through to the current sys.stderr (so log captures
    see it), with each request line kept for assertions."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            with suppress(ValueError):  # not every line written to stderr is a request line
                self.lines.append(json.loads(line))
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class LocalStack:
    def __init__(self, aws: LocalAws, gateway: Gateway, log: _GatewayLog) -> None:
        self.aws = aws
        self.gateway = gateway
        self._log = log
        self._http = requests.Session()
        self._tokens: dict[tuple[str, str, str], str] = {}
        # When set, every response to `request` is checked against the served OpenAPI document.
        self.conformance: Conformance | None = None

    def served_document(self) -> dict[str, Any]:
        """The OpenAPI document as the stack serves it at GET /openapi.json."""
        response = self._http.get(f"{self.url}/openapi.json", timeout=30)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def log_lines(self) -> list[dict[str, Any]]:
        """The gateway's per-request log lines so far (parsed JSON)."""
        return list(self._log.lines)

    def token(
        self, org: str = "E09000007", role: str = "la_practitioner", sub: str = "practitioner-1"
    ) -> str:
        """A token from ``POST /dev/token`` (cached per org/role/sub for the stack's life)."""
        key = (org, role, sub)
        if key not in self._tokens:
            response = self._http.post(f"{self.url}/dev/token", json={"org": org, "role": role, "sub": sub})
            response.raise_for_status()
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """``token``: a bearer token (e.g. from :meth:`token`); None sends no Authorization.
        Extra keyword arguments go to requests (``params``, ``data``, ``timeout``…)."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 30)
        response = self._http.request(method, f"{self.url}{path}", json=json, headers=all_headers, **kwargs)
        if self.conformance is not None:
            sent = response.request
            body = sent.body.encode() if isinstance(sent.body, str) else sent.body
            self.conformance.check(
                method,
                str(sent.url),
                dict(sent.headers),
                body,
                response.status_code,
                dict(response.headers),
                response.content,
            )
        return response

    def close(self) -> None:
        self._http.close()


@contextmanager
def running_stack() -> Iterator[LocalStack]:
    """Fresh in-memory AWS + gateway on a free port; everything stopped on exit."""
    with LocalAws(port=0) as aws:
        log = _GatewayLog()
        gateway = Gateway(aws, load_routes(TEMPLATE_PATH), port=0, log_stream=log)
        # the records table's stream → the notifier, the audit table's → the sealer, as in AWS
        streams = attach_streams(gateway)
        gateway.start_in_background()
        stack = LocalStack(aws, gateway, log)
        try:
            yield stack
        finally:
            stack.close()
            gateway.stop()
            for stream in streams:
                stream.uninstall()
