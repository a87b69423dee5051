"""Audit actions, and access log entries as the API shows them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from signpost.models.common import CloseReason, Outcome, OutModel, Role, SearchReason
from signpost.models.transfers import DeclineReason, TransferReason


class AuditAction(StrEnum):
    """What an audit entry records (a closed list: an entry with any other action is refused)."""

    REGISTER = "register"
    REGISTER_DUPLICATE = "register_duplicate"  # a registration that found the child already known
    UPDATE_DUPLICATE = "update_duplicate"  # a correction that found another active record of the child
    VIEW = "view"
    UPDATE = "update"
    CLOSE = "close"
    SEARCH = "search"
    BREAK_GLASS = "break_glass"
    SUBJECT_ACCESS_REPORT = "subject_access_report"
    TRANSFER_REQUESTED = "transfer_requested"
    TRANSFER_ACKNOWLEDGED = "transfer_acknowledged"
    TRANSFER_ACCEPTED = "transfer_accepted"
    TRANSFER_DECLINED = "transfer_declined"
    TRANSFER_WITHDRAWN = "transfer_withdrawn"
    BREAK_GLASS_REVIEWED = "break_glass_reviewed"  # an auditor's finding, on the search's chain
    DIRECTORY_CREATE = "directory_create"  # directory changes (`signpost-admin directory apply`)
    DIRECTORY_UPDATE = "directory_update"
    ORGANISATION_CREATE = "organisation_create"  # directory changes through PUT /v1/organisations
    ORGANISATION_UPDATE = "organisation_update"


class WithdrawalReason(StrEnum):
    """Why a transfer was withdrawn: by the sending organisation, or because it closed the record."""

    WITHDRAWN = "withdrawn"
    RECORD_CLOSED = "record_closed"


# The reason an entry gives: the search's, the closure's, the transfer's, the decline's or the withdrawal's.
AccessReason = SearchReason | CloseReason | TransferReason | DeclineReason | WithdrawalReason


class AccessLogEntry(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "at": "2026-03-02T14:05:09Z",
            "org": "RAL",
            "role": "health",
            "action": "search",
            "reason": "emergency_care",
            "outcome": "match",
        }
    ]

    at: dt.datetime
    org: str = Field(description="The organisation's code; a sensitive service shows as `a health service`")
    role: Role
    action: AuditAction
    reason: AccessReason | None = None
    outcome: Outcome | None = Field(default=None, description="A search's outcome")


class AccessLog(OutModel):
    items: list[AccessLogEntry]
    next: str | None = Field(default=None, description="The next (older) page's path, if there is one")
