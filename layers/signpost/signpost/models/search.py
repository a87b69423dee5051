"""Search (lookup): request and the signpost result."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from signpost.models.common import (
    Category,
    Contact,
    OrganisationRef,
    Outcome,
    OutModel,
    RecordStatus,
    SearchReason,
    StrictModel,
)
from signpost.models.identity import IdentityFields


class SearchRequest(IdentityFields):
    reason: SearchReason
    case_reference: str | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _police_needs_case_reference(self) -> SearchRequest:
        if self.reason == SearchReason.POLICE_ENQUIRY and not self.case_reference:
            raise ValueError("case_reference is required when reason is police_enquiry")
        return self


class SignpostOut(OutModel):
    child_id: str | None = None
    status: RecordStatus
    organisation: OrganisationRef
    contact: Contact
    categories: list[Category] | None = None
    since: dt.date


class SearchResult(OutModel):
    search_id: str
    outcome: Outcome
    signposts: list[SignpostOut]


class BreakGlassRequest(StrictModel):
    justification: str = Field(min_length=20, max_length=500)
