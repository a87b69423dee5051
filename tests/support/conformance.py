"""Every HTTP response an API test receives, checked against the OpenAPI document the stack serves.

`Conformance.check` validates one exchange with openapi-core (status code documented for the
operation, content type, headers, body schema; problem+json read as JSON) and RFC 9457 for every
error (type about:blank, the status phrase as title, a detail). A response that does not conform
raises AssertionError in the test that caused it. Answers to paths the document does not have
(the gateway's own 404/405, the local /dev/token) are held to RFC 9457 only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from signpost.errors import status_phrase
from werkzeug.datastructures import Headers, ImmutableMultiDict

PROBLEM_JSON = "application/problem+json"


@dataclass
class _Request:
    """openapi-core's Request protocol for one exchange."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None


@dataclass
class _Response:
    """openapi-core's Response protocol."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes


@dataclass
class Conformance:
    """Validates responses against one OpenAPI document and counts what it saw."""

    document: dict[str, Any]
    validated: Counter[str] = field(default_factory=Counter)  # "METHOD /path/{template} status"
    outside: Counter[str] = field(default_factory=Counter)  # answers to paths the document lacks

    def __post_init__(self) -> None:
        config = Config(extra_media_type_deserializers={PROBLEM_JSON: json.loads})
        self._openapi = OpenAPI.from_dict(self.document, config=config)

    @property
    def total(self) -> int:
        return sum(self.validated.values())

    def check(
        self,
        method: str,
        url: str,
        request_headers: Mapping[str, str],
        request_body: bytes | None,
        status: int,
        response_headers: Mapping[str, str],
        response_body: bytes,
    ) -> None:
        split = urlsplit(url)
        request = _Request(
            host_url=f"{split.scheme}://{split.netloc}",
            path=split.path,
            method=method.lower(),
            parameters=RequestParameters(
                query=ImmutableMultiDict(parse_qsl(split.query, keep_blank_values=True)),
                header=Headers(dict(request_headers)),
            ),
            content_type=_media(request_headers),
            body=request_body,
        )
        response = _Response(status, _media(response_headers), Headers(dict(response_headers)), response_body)
        where = f"{method.upper()} {split.path} → {status}"
        if status >= 400:
            _check_problem(where, status, response)
        result = self._openapi.unmarshal_response(request, response)
        if any(isinstance(e, PathNotFound | OperationNotFound) for e in result.errors):
            self.outside[f"{method.upper()} {status}"] += 1
            return
        if result.errors:
            details = "; ".join(_describe(e) for e in result.errors)
            raise AssertionError(f"response does not conform to openapi.json: {where}: {details}")
        self.validated[f"{method.upper()} {self._template(split.path)} {status}"] += 1

    def _template(self, path: str) -> str:
        """The document's path template the request matched, e.g. /v1/children/{child_id}."""
        candidates = [t for t in self.document["paths"] if _matches(t, path)]
        return min(candidates, key=lambda t: t.count("{")) if candidates else path

    def summary(self) -> str:
        operations = {key.rsplit(" ", 1)[0] for key in self.validated}
        statuses: Counter[str] = Counter()
        for key, count in self.validated.items():
            statuses[key.rsplit(" ", 1)[1]] += count
        return (
            f"openapi conformance: {self.total} responses validated against the served openapi.json "
            f"({len(operations)} operations; by status {dict(sorted(statuses.items()))}); "
            f"{sum(self.outside.values())} answers to paths outside the document held to RFC 9457"
        )


def _media(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _check_problem(where: str, status: int, response: _Response) -> None:
    if not response.content_type.startswith(PROBLEM_JSON):
        raise AssertionError(f"an error that is not problem+json: {where}: {response.content_type!r}")
    body = json.loads(response.data)
    expected = {"type": "about:blank", "title": status_phrase(status), "status": status}
    found = {key: body.get(key) for key in expected}
    if found != expected or not isinstance(body.get("detail"), str) or not body["detail"]:
        raise AssertionError(f"not RFC 9457 as Signpost answers it: {where}: {body}")


def _describe(error: BaseException) -> str:
    """The error and the schema errors beneath it (openapi-core nests them in causes)."""
    inner: list[str] = []
    cause: BaseException | None = error
    while cause is not None:
        inner += [str(getattr(e, "message", e)) for e in getattr(cause, "schema_errors", None) or ()]
        cause = cause.__cause__
    return f"{type(error).__name__}: {error}" + (f" ({'; '.join(inner)})" if inner else "")


def _matches(template: str, path: str) -> bool:
    want, got = template.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(w == g or w.startswith("{") for w, g in zip(want, got, strict=True))
