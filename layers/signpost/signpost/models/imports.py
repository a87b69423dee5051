"""Bulk import: the closed list of reject codes, the API shapes and the stored items.

A row's identity is (organisation, local_id). A reject names the row, its local_id,
a code and the column; it never carries the rejected value.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from signpost.models.common import OutModel
from signpost.models.search import SignpostOut


class RejectCode(StrEnum):
    """Why a row was not imported. Stable strings: clients may switch on them."""

    MISSING_FIELD = "R001_MISSING_FIELD"
    INVALID_DATE = "R002_INVALID_DATE"
    INVALID_NHS_NUMBER = "R003_INVALID_NHS_NUMBER"
    FUTURE_DATE_OF_BIRTH = "R004_FUTURE_DATE_OF_BIRTH"
    TOO_OLD = "R005_TOO_OLD"
    UNKNOWN_CATEGORY = "R006_UNKNOWN_CATEGORY"
    REVIEW_DATE_IN_PAST = "R007_REVIEW_DATE_IN_PAST"
    REVIEW_DATE_TOO_FAR = "R008_REVIEW_DATE_TOO_FAR"
    DUPLICATE_LOCAL_ID = "R009_DUPLICATE_LOCAL_ID"
    TOO_MANY_COLUMNS = "R010_TOO_MANY_COLUMNS"
    BAD_ENCODING = "R011_BAD_ENCODING"
    INVALID_POSTCODE = "R012_INVALID_POSTCODE"
    INVALID_SEX = "R013_INVALID_SEX"
    INVALID_NAME = "R014_INVALID_NAME"
    INVALID_LOCAL_ID = "R015_INVALID_LOCAL_ID"
    MALFORMED_ROW = "R016_MALFORMED_ROW"
    CHILD_UNDER_OTHER_LOCAL_ID = "R017_CHILD_UNDER_OTHER_LOCAL_ID"
    INVALID_VALUE = "R018_INVALID_VALUE"


REJECT_MEANINGS: dict[RejectCode, str] = {
    RejectCode.MISSING_FIELD: "a required cell is empty (local_id, given_names, family_name, "
    "date_of_birth, categories, review_by)",
    RejectCode.INVALID_DATE: "not a calendar date written YYYY-MM-DD",
    RejectCode.INVALID_NHS_NUMBER: "not 10 digits with a valid modulus-11 check digit",
    RejectCode.FUTURE_DATE_OF_BIRTH: "date_of_birth is after today",
    RejectCode.TOO_OLD: "the child is 26 or older on date_of_birth",
    RejectCode.UNKNOWN_CATEGORY: "a category other than looked_after, child_protection_plan, "
    "child_in_need, domestic_abuse (separate several with ;)",
    RejectCode.REVIEW_DATE_IN_PAST: "review_by is today or earlier",
    RejectCode.REVIEW_DATE_TOO_FAR: "review_by is more than 366 days ahead",
    RejectCode.DUPLICATE_LOCAL_ID: "the local_id is on more than one row of the file (every such row "
    "is rejected)",
    RejectCode.TOO_MANY_COLUMNS: "the row has more cells than the header has columns",
    RejectCode.BAD_ENCODING: "the row is not valid UTF-8",
    RejectCode.INVALID_POSTCODE: "not a UK postcode by format",
    RejectCode.INVALID_SEX: "sex other than female, male, indeterminate, not_known",
    RejectCode.INVALID_NAME: "a name over 100 characters or without letters",
    RejectCode.INVALID_LOCAL_ID: "local_id over 64 characters or with control characters",
    RejectCode.MALFORMED_ROW: "the row's CSV quoting is broken (for example an unclosed quote)",
    RejectCode.CHILD_UNDER_OTHER_LOCAL_ID: "this organisation already has the child on the index "
    "under another local_id",
    RejectCode.INVALID_VALUE: "any other invalid value in the named column",
}


def reject_codes_description() -> str:
    """The closed list of codes, for the OpenAPI document."""
    lines = [f"- `{code.value}`: {REJECT_MEANINGS[code]}" for code in RejectCode]
    return "Why a row was not imported (a closed list; a reject never carries the value):\n" + "\n".join(
        lines
    )


RejectCode.__doc__ = reject_codes_description()  # the enum's description in the OpenAPI document


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


# What happened to a row, as the batch counters name it.
COUNTERS = ("created", "updated", "unchanged", "duplicates", "rejected")


# ---------------------------------------------------------------- API shapes


class ImportAccepted(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {"import_id": "0d4c8b2a6e1f4a3b9c7d5e8f0a2b4c6d", "status": "queued"}
    ]

    import_id: str
    status: ImportStatus


class Reject(OutModel):
    row: int = Field(description="The row as a spreadsheet numbers it: the header is row 1.")
    local_id: str | None = None
    code: RejectCode
    field: str | None = Field(default=None, description="The column at fault; null for the whole row.")


class DuplicateRow(OutModel):
    row: int
    local_id: str
    signposts: list[SignpostOut]


class ImportCounts(OutModel):
    rows_total: int
    rows_done: int
    accepted: int = Field(description="Rows registered or, when changed since the last import, updated.")
    updated: int = Field(description="Of the accepted rows, those that updated an existing record.")
    unchanged: int
    duplicates: int = Field(description="Rows whose child has an active record at another organisation.")
    rejected: int


class ImportSummary(ImportCounts):
    import_id: str
    status: ImportStatus
    created_at: dt.datetime
    completed_at: dt.datetime | None = None


_SUMMARY_EXAMPLE: dict[str, Any] = {
    "import_id": "0d4c8b2a6e1f4a3b9c7d5e8f0a2b4c6d",
    "status": "completed",
    "created_at": "2026-12-02T09:00:00Z",
    "completed_at": "2026-12-02T09:01:12Z",
    "rows_total": 18,
    "rows_done": 18,
    "accepted": 4,
    "updated": 0,
    "unchanged": 0,
    "duplicates": 1,
    "rejected": 13,
}


class ImportView(ImportSummary):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            **_SUMMARY_EXAMPLE,
            "rejects": [
                {"row": 7, "local_id": "CAM-0006", "code": "R001_MISSING_FIELD", "field": "given_names"}
            ],
            "duplicates_detail": [
                {
                    "row": 6,
                    "local_id": "CAM-0005",
                    "signposts": [
                        {
                            "child_id": "3f2a9c5e8b7d4e01a6c2b9d8e7f60514",
                            "status": "active",
                            "organisation": {"code": "E09000012", "name": "London Borough of Hackney"},
                            "contact": {
                                "team": "Hackney First Access and Screening Team",
                                "phone": "020 8356 5500",
                                "email": "fast@hackney.gov.uk.example",
                            },
                            "categories": ["child_in_need"],
                            "since": "2026-11-30",
                        }
                    ],
                }
            ],
            "cursor": "UkVKRUNUIzAwMDAwMDcjMDB8fg",
        }
    ]

    rejects: list[Reject]
    duplicates_detail: list[DuplicateRow]
    cursor: str | None = Field(
        default=None, description="More rejects or duplicates: ask again with ?cursor=<this>."
    )


class ImportList(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [{"items": [_SUMMARY_EXAMPLE]}]

    items: list[ImportSummary]
    cursor: str | None = Field(default=None, description="More imports: ask again with ?cursor=<this>.")


# ---------------------------------------------------------------- stored items


class ImportJob(BaseModel):
    """One upload (item IMPORT#<id> / IMPORT)."""

    model_config = ConfigDict(extra="ignore")

    import_id: str
    org: str
    caller: dict[str, str]  # the uploader, as the authorizer described them
    created_at: dt.datetime
    rows_total: int
    batches: int
    columns: list[str]
    object_key: str
    batch_last_rows: list[int]  # batch n ends at row batch_last_rows[n - 1]
    enqueued_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    expires_at: int | None = None

    def finished(self, progress: BatchProgress) -> bool:
        return progress.next_row > self.batch_last_rows[progress.batch - 1]


class BatchPlan(BaseModel):
    """A slice of the file: rows first_row..last_row, bytes [start, end)."""

    batch: int
    first_row: int
    last_row: int
    start: int
    end: int
    rows: int  # non-blank rows in the slice
    duplicate_rows: list[int] = Field(default_factory=list)  # rows whose local_id repeats in the file

    def message(self, import_id: str) -> dict[str, Any]:
        return {"import_id": import_id, **self.model_dump()}


class BatchProgress(BaseModel):
    """How far one batch has got (item IMPORT#<id> / BATCH#<n>); absent until its first commit.

    Kept small on purpose: every row's transaction updates it.
    """

    model_config = ConfigDict(extra="ignore")

    batch: int
    next_row: int = 0  # the first row not yet committed
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rejected: int = 0
    failed: bool = False

    @staticmethod
    def counters() -> tuple[str, ...]:
        return COUNTERS

    @property
    def rows_done(self) -> int:
        return self.created + self.updated + self.unchanged + self.duplicates + self.rejected


class LocalIdLink(BaseModel):
    """(organisation, local_id) → the child it registered and the row last imported for it.

    Stored under keyed HMACs only (LOCALID#<key>): the local_id itself is not kept here.
    """

    model_config = ConfigDict(extra="ignore")

    key: str
    org: str
    child_id: str
    fingerprint: str
    import_id: str
    # Not stored: the child's back-link (LOCALREF#) this link takes over, one that no longer
    # speaks for the child (another organisation's, from before the child was transferred).
    replaces_ref: str | None = Field(default=None, exclude=True)


class RowProgress(BaseModel):
    """What one commit moves a batch on by: rows [from_row, to_row], their counts and details."""

    import_id: str
    batch: int
    first_row: int  # the batch's first row: a batch item is created at its first commit
    from_row: int
    to_row: int
    counts: dict[str, int] = Field(default_factory=dict)  # counter (COUNTERS) -> rows
    rejects: list[Reject] = Field(default_factory=list)
    duplicates: list[DuplicateRow] = Field(default_factory=list)
    # (link, the child_id it pointed to when read: None for a new link)
    links: list[tuple[LocalIdLink, str | None]] = Field(default_factory=list)
    expires_at: int | None = None
