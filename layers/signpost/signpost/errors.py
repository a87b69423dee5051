"""Domain errors. Handlers map them to problem+json (RFC 9457) responses.

Messages are fixed strings chosen here: they never carry a child's identity values.
"""

from __future__ import annotations

from typing import Any


class SignpostError(Exception):
    status: int = 500
    title: str = "Internal error"
    type_: str = "about:blank"

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra or {}


class BadRequest(SignpostError):
    status = 400
    title = "Bad request"

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
    title = "Unauthorized"


class Forbidden(SignpostError):
    status = 403
    title = "Forbidden"


class NotFound(SignpostError):
    status = 404
    title = "Not found"


class Conflict(SignpostError):
    status = 409
    title = "Conflict"


class UnsupportedMediaType(SignpostError):
    status = 415
    title = "Unsupported media type"


class TooManyRequests(SignpostError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Busy(SignpostError):
    """A write lost too many optimistic-concurrency races; the client may retry."""

    status = 503
    title = "Service busy"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body
