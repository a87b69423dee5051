"""Security models: the police rate-limit counter and the subject access report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import Field

from signpost.models.audit import AccessLogEntry
from signpost.models.children import ChildView
from signpost.models.common import OutModel


@dataclass(frozen=True)
class RateIncrement:
    """One more search in a practitioner's hourly window, allowed only while the count is under `limit`.

    Committed in the same transaction as the search's audit entry, so a search is
    counted exactly when it is recorded, and a refused request is never counted.
    """

    subject: str  # the practitioner (token `sub`)
    window: str  # the UTC hour, e.g. 2026-11-27T10
    limit: int
    expires_at: int  # epoch seconds: DynamoDB TTL removes spent windows


class OpenTransfer(OutModel):
    transfer_id: str | None = None
    to_org: str | None = None
    status: str | None = None


class SubjectAccessReport(OutModel):
    """Everything Signpost holds about one child, and every access to the record (API.md)."""

    generated_at: dt.datetime
    child: ChildView
    open_transfer: OpenTransfer | None = None
    blind_index_entries: int = Field(
        description="How many keyed one-way hashes of the identity are kept to find the record"
    )
    purge_after: dt.datetime | None = Field(
        default=None, description="When a closed record is deleted (retention period)"
    )
    access_log: list[AccessLogEntry]
    not_held: list[str] = Field(
        default_factory=lambda: [
            "services used, clinics attended or appointments",
            "free-text notes or case details",
            "the identity of sensitive services (shown only as 'a health service')",
        ]
    )
