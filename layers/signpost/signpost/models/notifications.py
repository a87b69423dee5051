"""Each organisation's inbox: notification types, the stored inbox item and the API shapes."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from signpost.models.common import OutModel


class NotificationType(StrEnum):
    TRANSFER_REQUESTED = "transfer_requested"
    TRANSFER_ACKNOWLEDGED = "transfer_acknowledged"
    TRANSFER_ACCEPTED = "transfer_accepted"
    TRANSFER_DECLINED = "transfer_declined"
    TRANSFER_WITHDRAWN = "transfer_withdrawn"
    TRANSFER_OVERDUE = "transfer_overdue"
    RECORD_VIEWED = "record_viewed"
    SEEN_IN_OTHER_AREA = "seen_in_other_area"
    REVIEW_DUE = "review_due"
    BREAK_GLASS_USED = "break_glass_used"


_ID_TIME = "%Y%m%dT%H%M%SZ"
_ID = re.compile(r"^(\d{8}T\d{6}Z)-([A-Za-z0-9_-]{1,64})$")


def notification_id(created_at: dt.datetime, intent_id: str) -> str:
    """The inbox item's id: derived from its outbox intent, so a redelivered intent maps to the
    same item; it also says where the item sits in the organisation's inbox (its creation time)."""
    return f"{created_at.astimezone(dt.UTC):{_ID_TIME}}-{intent_id}"


def notification_time(notification_id: str) -> dt.datetime | None:
    """The creation time encoded in a notification id; None if it is not one of ours."""
    found = _ID.fullmatch(notification_id)
    if not found:
        return None
    try:
        return dt.datetime.strptime(found.group(1), _ID_TIME).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


class Notification(OutModel):
    EXAMPLES: ClassVar[list[dict[str, Any]]] = [
        {
            "id": "20260803T100000Z-3f9c2a",
            "type": "transfer_requested",
            "created_at": "2026-08-03T10:00:00Z",
            "read": False,
            "child_id": "c_01JM7Q2W4ZT8Y5B3N6K9D1F0H2",
            "transfer_id": "t_01JM7Q9F2G4H6J8K0M2N4P6Q8R",
            "from_org": "E09000007",
        }
    ]

    id: str
    type: NotificationType
    created_at: dt.datetime
    read: bool
    child_id: str | None = None
    transfer_id: str | None = None
    search_id: str | None = None
    from_org: str | None = None


class NotificationPage(OutModel):
    items: list[Notification]
    next: str | None = None


class InboxItem(BaseModel):
    """A delivered notification as stored (item INBOX#<org> / N#<created_at>#<id>)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    org: str
    type: str
    created_at: dt.datetime
    read: bool = False
    read_at: dt.datetime | None = None
    announced: bool = False  # the SNS "you have N new notifications" message went out
    # The stream record's sequence number: orders items created in the same second.
    sequence: str = ""
    child_id: str | None = None
    transfer_id: str | None = None
    search_id: str | None = None
    from_org: str | None = None

    def view(self) -> Notification:
        return Notification.model_validate(self.model_dump())


class ReviewDue(BaseModel):
    """An active record whose review_by date has passed: review_due goes to its organisation."""

    child_id: str
    org: str
    review_by: dt.date
