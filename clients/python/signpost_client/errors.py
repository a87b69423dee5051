"""The service's errors (RFC 9457 problem+json) as one exception."""

from __future__ import annotations

from typing import Any

import httpx

from signpost_client.models import FieldError, SignpostOut


class ProblemError(Exception):
    """An error answer: `status`, `title` (the status phrase), `detail`, `errors` (one per field at
    fault, on a 400), `signposts` (on a 409 that found the child already registered), and the
    whole `problem` document."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: float | None = None) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title", ""))
        self.detail = str(problem.get("detail", ""))
        self.errors: list[FieldError] = list(problem.get("errors") or [])
        self.signposts: list[SignpostOut] = list(problem.get("signposts") or [])
        self.retry_after = retry_after
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        super().__init__(f"{status} {self.title}: {self.detail}" + (f" ({fields})" if fields else ""))

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProblemError:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        if not isinstance(problem, dict):
            problem = {}
        problem.setdefault("status", response.status_code)
        problem.setdefault("title", response.reason_phrase)
        raw = response.headers.get("Retry-After", "").strip()
        return cls(response.status_code, problem, float(raw) if raw.isdigit() else None)
