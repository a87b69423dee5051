"""Register / read / update / close: request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, Field

from signpost.models.common import (
    Category,
    CloseReason,
    Contact,
    OrganisationRef,
    OutModel,
    RecordStatus,
    Sex,
    ShieldingReason,
    StrictModel,
)
from signpost.models.identity import (
    DateOfBirth,
    IdentityWithAliases,
    NamePart,
    NhsNumber,
    OtherName,
    Postcode,
    today_in_england,
)

MAX_REVIEW_DAYS = 366


def _review_by(value: dt.date) -> dt.date:
    today = today_in_england()
    if value <= today:
        raise ValueError("must be in the future")
    if value > today + dt.timedelta(days=MAX_REVIEW_DAYS):
        raise ValueError(f"must be at most {MAX_REVIEW_DAYS} days ahead")
    return value


def _unique(values: list[Category]) -> list[Category]:
    return list(dict.fromkeys(values))


ReviewBy = Annotated[
    dt.date,
    Field(
        description="YYYY-MM-DD: when the record is next reviewed; in the future, at most "
        f"{MAX_REVIEW_DAYS} days ahead"
    ),
    AfterValidator(_review_by),
]
Categories = Annotated[
    list[Category],
    Field(min_length=1, max_length=4, description="Why the child is on the index (repeats count once)"),
    AfterValidator(_unique),
]


class Shielding(StrictModel):
    reason: ShieldingReason


class RegisterRequest(IdentityWithAliases):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "given_names": "Amelia",
            "family_name": "Example",
            "date_of_birth": "2015-03-14",
            "sex": "female",
            "nhs_number": "9434765919",
            "postcode": "NW5 1TL",
            "categories": ["child_protection_plan"],
            "review_by": "2027-01-31",
        }
    ]

    categories: Categories
    contact: Contact | None = None
    review_by: ReviewBy
    shielding: Shielding | None = None


class UpdateRequest(StrictModel):
    """PATCH: every field optional; `shielding: null` removes shielding."""

    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {"categories": ["child_protection_plan", "domestic_abuse"], "review_by": "2027-03-31"}
    ]

    categories: Categories | None = None
    contact: Contact | None = None
    review_by: ReviewBy | None = None
    shielding: Shielding | None = None
    given_names: NamePart | None = None
    family_name: NamePart | None = None
    date_of_birth: DateOfBirth | None = None
    sex: Sex | None = None
    nhs_number: NhsNumber | None = None
    postcode: Postcode | None = None
    other_names: list[OtherName] | None = Field(default=None, max_length=10)


class CloseRequest(StrictModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [{"reason": "plan_ended"}]

    reason: CloseReason


class ChildCreated(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "child_id": "c_01JM7Q2W4ZT8Y5B3N6K9D1F0H2",
            "status": "active",
            "organisation": {"code": "E09000007", "name": "London Borough of Camden"},
            "categories": ["child_protection_plan"],
            "review_by": "2027-01-31",
            "created_at": "2026-08-03T09:30:00Z",
        }
    ]

    child_id: str
    status: RecordStatus
    organisation: OrganisationRef
    categories: list[Category]
    review_by: dt.date
    created_at: dt.datetime


class ChildView(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "child_id": "c_01JM7Q2W4ZT8Y5B3N6K9D1F0H2",
            "status": "active",
            "organisation": {"code": "E09000007", "name": "London Borough of Camden"},
            "given_names": "Amelia",
            "family_name": "Example",
            "date_of_birth": "2015-03-14",
            "nhs_number": "9434765919",
            "other_names": [],
            "categories": ["child_protection_plan"],
            "contact": {
                "team": "Camden MASH",
                "phone": "020 7974 3317",
                "email": "mash@camden.example.gov.uk",
            },
            "review_by": "2027-01-31",
            "created_at": "2026-08-03T09:30:00Z",
            "updated_at": "2026-08-03T09:30:00Z",
            "since": "2026-08-03",
        }
    ]

    child_id: str
    status: RecordStatus
    organisation: OrganisationRef
    given_names: str
    family_name: str
    date_of_birth: dt.date
    sex: Sex | None = None
    nhs_number: str | None = None
    postcode: str | None = None
    other_names: list[OtherName] = Field(default_factory=list)
    categories: list[Category]
    contact: Contact
    review_by: dt.date
    shielding: Shielding | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    since: dt.date
    closed_at: dt.datetime | None = None
    close_reason: CloseReason | None = None
