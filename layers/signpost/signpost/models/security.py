"""Security models: the police rate-limit window and the subject access report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import Field

from signpost.models.audit import AccessLogEntry
from signpost.models.children import ChildView
from signpost.models.common import OutModel
from signpost.models.transfers import TransferStatus


@dataclass(frozen=True)
class RateWindow:
    """A practitioner's recent police searches (epoch seconds, oldest first) and the window's version."""

    times: tuple[float, ...] = ()
    version: int = 0  # 0: no window stored yet


@dataclass(frozen=True)
class RateIncrement:
    """The practitioner's window with one more search, written only if nobody moved it since it was read.

    Committed in the same transaction as the search's audit entry, so a search is
    counted exactly when it is recorded, and a refused request is never counted.
    """

    subject: str  # `<org>#<sub>`: the practitioner of one organisation
    times: tuple[float, ...]  # the searches still in the window, this one last
    expected_version: int  # the version read (0: the window must not exist yet)
    expires_at: int  # epoch seconds: DynamoDB TTL removes a window once it is empty


class OpenTransfer(OutModel):
    transfer_id: str | None = None
    to_org: str | None = None
    status: TransferStatus | None = None


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
