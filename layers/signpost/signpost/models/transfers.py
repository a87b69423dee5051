"""Transfers (a child moves between local authorities): request/response bodies and stored shapes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from signpost.models.common import OutModel, StrictModel
from signpost.models.identity import today_in_england

MOVE_DATE_WINDOW_DAYS = 366


class TransferReason(StrEnum):
    FAMILY_MOVED = "family_moved"
    PLACED_OUT_OF_AREA = "placed_out_of_area"
    RETURNED_HOME = "returned_home"
    OTHER = "other"


class DeclineReason(StrEnum):
    NOT_RESIDENT = "not_resident"
    KNOWN_ELSEWHERE = "known_elsewhere"
    INSUFFICIENT_INFORMATION = "insufficient_information"
    OTHER = "other"


class TransferStatus(StrEnum):
    REQUESTED = "requested"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by the sending organisation, or because it closed the record


OPEN_STATUSES = frozenset({TransferStatus.REQUESTED, TransferStatus.ACKNOWLEDGED})


class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class ClockName(StrEnum):
    """The two clocks of a transfer: acknowledge_by and decide_by."""

    ACKNOWLEDGE = "acknowledge"
    DECIDE = "decide"


def _move_date(value: dt.date) -> dt.date:
    today = today_in_england()
    if abs((value - today).days) > MOVE_DATE_WINDOW_DAYS:
        raise ValueError(f"must be within {MOVE_DATE_WINDOW_DAYS} days of today")
    return value


MoveDate = Annotated[
    dt.date,
    Field(
        description=f"YYYY-MM-DD: when the child moves or moved; within {MOVE_DATE_WINDOW_DAYS} days of today"
    ),
    AfterValidator(_move_date),
]


class TransferRequest(StrictModel):
    """POST /v1/children/{child_id}/transfers."""

    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {"to_org": "E09000012", "reason": "family_moved", "move_date": "2026-08-01"}
    ]

    to_org: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-]*$")
    reason: TransferReason
    move_date: MoveDate


class DeclineRequest(StrictModel):
    """POST /v1/transfers/{transfer_id}/decline."""

    EXAMPLES: ClassVar[list[dict[str, Any]]] = [{"reason": "not_resident"}]

    reason: DeclineReason


class NoFields(StrictModel):
    """acknowledge / accept / withdraw take no fields (an empty body or `{}`)."""


class Transfer(BaseModel):
    """A transfer as stored (item TRANSFER#<id> / TRANSFER)."""

    model_config = ConfigDict(extra="ignore")

    transfer_id: str
    child_id: str
    from_org: str
    to_org: str
    reason: TransferReason
    move_date: dt.date
    status: TransferStatus
    requested_at: dt.datetime
    requested_on: dt.date  # the request's date in England: the clocks count from it
    acknowledge_by: dt.date
    decide_by: dt.date
    acknowledged_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    decline_reason: DeclineReason | None = None
    withdrawn_at: dt.datetime | None = None
    version: int = 1
    expires_at: int | None = None  # set once decided or withdrawn: DynamoDB TTL after retention

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_overdue(self, today: dt.date) -> bool:
        if self.status == TransferStatus.REQUESTED and today > self.acknowledge_by:
            return True
        return self.is_open and today > self.decide_by


class TransferClock(BaseModel):
    """One running clock of an open transfer (item TRANSFERCLOCK#<id> / CLOCK#<name>).

    It carries what the overdue notification needs, so the clock function never reads
    the transfer: while the clock item is live, the transfer is still in the state the
    clock watches (acknowledging or deciding stops it in the same transaction).
    """

    model_config = ConfigDict(extra="ignore")

    transfer_id: str
    clock: ClockName
    due: dt.date
    child_id: str
    from_org: str
    to_org: str


class ClockUpdate(BaseModel):
    """Stop (the transfer moved on) or fire (the due date passed) one clock, at `at`."""

    transfer_id: str
    clock: ClockName
    at: dt.datetime


class TransferView(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "transfer_id": "t_01JM7Q9F2G4H6J8K0M2N4P6Q8R",
            "child_id": "c_01JM7Q2W4ZT8Y5B3N6K9D1F0H2",
            "status": "requested",
            "from_org": "E09000007",
            "to_org": "E09000012",
            "reason": "family_moved",
            "move_date": "2026-08-01",
            "requested_at": "2026-08-03T10:00:00Z",
            "acknowledge_by": "2026-08-04",
            "decide_by": "2026-08-24",
            "overdue": False,
        }
    ]

    transfer_id: str
    child_id: str
    status: TransferStatus
    from_org: str
    to_org: str
    reason: TransferReason
    move_date: dt.date
    requested_at: dt.datetime
    acknowledge_by: dt.date
    decide_by: dt.date
    overdue: bool
    acknowledged_at: dt.datetime | None = None
    decided_at: dt.datetime | None = None
    decline_reason: DeclineReason | None = None
    withdrawn_at: dt.datetime | None = None


class TransferPage(OutModel):
    items: list[TransferView]
    next: str | None = None
