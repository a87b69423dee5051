"""Domain errors. Handlers map them to problem+json (RFC 9457) responses.

Messages are fixed strings chosen here: they never carry a child's identity values.
With `type: about:blank` (the only type Signpost uses) RFC 9457 makes the title the
HTTP status phrase, so a title is never chosen: it follows from the status.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

# RFC 9110's phrases where Python's table still has an older wording.
_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}


def status_phrase(status: int) -> str:
    """The HTTP status phrase (RFC 9110): the title of an `about:blank` problem."""
    return _PHRASES.get(status) or HTTPStatus(status).phrase


class SignpostError(Exception):
    status: int = 500

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra or {}

    @property
    def title(self) -> str:
        return status_phrase(self.status)


class BadRequest(SignpostError):
    status = 400

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, extra=extra)
        self.errors = errors or []


class Unauthorised(SignpostError):
    status = 401


class Forbidden(SignpostError):
    status = 403


class NotFound(SignpostError):
    status = 404


class Conflict(SignpostError):
    status = 409


class UnsupportedMediaType(SignpostError):
    status = 415


class TooManyRequests(SignpostError):
    status = 429

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Busy(SignpostError):
    """A write lost too many optimistic-concurrency races; the client may retry (after a second)."""

    status = 503
    retry_after = 1


def problem(status: int, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """An RFC 9457 problem document: `about:blank`, so the title is the status phrase."""
    body: dict[str, Any] = {"type": "about:blank", "title": status_phrase(status), "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body
