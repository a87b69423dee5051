"""The problem+json (RFC 9457) bodies of error responses, as the OpenAPI document describes them.

Errors are built by `signpost.errors.problem`; these models only document their shape.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from signpost.models.common import OutModel
from signpost.models.search import SignpostOut


class FieldError(OutModel):
    field: str = Field(
        description="Where: a field's path such as `other_names.0.family_name`, a query or path "
        "parameter's name, or `body` for the body as a whole"
    )
    message: str = Field(description="What is wrong, and how to put it right; never the value sent")


class Problem(OutModel):
    """An error (RFC 9457). `type` is always `about:blank`, so `title` is the HTTP status phrase."""

    type: Literal["about:blank"] = "about:blank"
    title: str = Field(description="The HTTP status phrase, e.g. `Not Found`")
    status: int = Field(ge=400, le=599, description="The HTTP status code")
    detail: str | None = Field(default=None, description="What happened, for a person to act on")


class ValidationProblem(Problem):
    """A request that is not valid: `errors` names each field at fault."""

    errors: list[FieldError] | None = Field(
        default=None, description="One entry per field at fault (absent when the body is unreadable)"
    )


class DuplicateChildProblem(Problem):
    """Register found an active record of the same child: where it is, instead of a duplicate."""

    signposts: list[SignpostOut] | None = Field(
        default=None,
        description="The existing record's signpost(s), as a search `match` shows them (absent when "
        "the conflict is an Idempotency-Key reused with another body)",
    )
