"""Search (lookup): request and the signpost result."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

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
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "given_names": "amelia",
            "family_name": "EXAMPLE",
            "date_of_birth": "2015-03-14",
            "reason": "emergency_care",
        },
        {
            "given_names": "Amelia",
            "family_name": "Example",
            "date_of_birth": "2015-03-14",
            "reason": "police_enquiry",
            "case_reference": "CAD-4411/26",
        },
    ]

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
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "search_id": "s_01JM7Q5B8C2D4E6F8G0H2J4K6M",
            "outcome": "match",
            "signposts": [
                {
                    "child_id": "c_01JM7Q2W4ZT8Y5B3N6K9D1F0H2",
                    "status": "active",
                    "organisation": {"code": "E09000007", "name": "London Borough of Camden"},
                    "contact": {
                        "team": "Camden MASH",
                        "phone": "020 7974 3317",
                        "email": "mash@camden.example.gov.uk",
                    },
                    "categories": ["child_protection_plan"],
                    "since": "2026-08-03",
                }
            ],
        },
        {"search_id": "s_01JM7Q6C9D3E5F7G9H1J3K5M7N", "outcome": "no_match", "signposts": []},
    ]

    search_id: str
    outcome: Outcome
    signposts: list[SignpostOut]


class BreakGlassRequest(StrictModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "justification": "Child brought to A&E at 02:00 with injuries; "
            "the duty manager needs the case worker."
        }
    ]

    justification: str = Field(min_length=20, max_length=500)
