"""Notifications: delivering outbox intents into inboxes, and each organisation's inbox.

Delivery (the notifier, on the records table's stream) is at-least-once upstream and
exactly-once into the inbox: an intent becomes the inbox item whose id derives from the
intent's id, written only if absent. The SNS "you have N new notifications" message goes
out once the items are in, and each item remembers it was announced, so a redelivered
record whose announcement failed is announced again without a second inbox item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from signpost.authz import Action, Caller
from signpost.errors import NotFound
from signpost.models.domain import OutboxIntent
from signpost.models.notifications import InboxItem, Notification, NotificationType, notification_id
from signpost.observability import logger

MAX_PAGE = 100
ANNOUNCE_LOOKBACK = 10  # newest inbox items read before telling an organisation again
INTENT_SK = "INTENT"
OUTBOX_PREFIX = "OUTBOX#"


class Inbox(Protocol):
    def add(self, item: InboxItem) -> InboxItem: ...
    def mark_announced(self, items: list[InboxItem]) -> None: ...
    def mark_read(self, org: str, notification_id: str, at: dt.datetime) -> InboxItem | None: ...
    def page(
        self, org: str, *, unread_only: bool, limit: int, after: str | None
    ) -> tuple[list[InboxItem], str | None]: ...


class Announcer(Protocol):
    def announce(self, org: str, text: str) -> None: ...


@dataclass(frozen=True)
class StreamRecord:
    """One record of a stream batch: its sequence number and the intent it carries, if any."""

    sequence_number: str
    intent: OutboxIntent | None
    malformed: bool = False  # an intent item that cannot be read: reported, never dropped


def stream_record(
    sequence_number: str, event_name: str | None, new_image: Mapping[str, Any] | None
) -> StreamRecord:
    """A stream record → the intent it inserted; anything else is passed over (the event source
    mapping's filter lets only intent inserts through, this is the belt to its braces)."""
    image = dict(new_image or {})
    is_intent = str(image.get("sk", "")) == INTENT_SK and str(image.get("pk", "")).startswith(OUTBOX_PREFIX)
    if event_name != "INSERT" or not is_intent:
        return StreamRecord(sequence_number, None)
    try:
        intent = OutboxIntent.model_validate(image)
        NotificationType(intent.type)
    except (ValidationError, ValueError):
        return StreamRecord(sequence_number, None, malformed=True)
    return StreamRecord(sequence_number, intent)


def announcement(count: int) -> str:
    """The only text an SNS subscriber ever gets: a count, nothing about any child."""
    noun = "notification" if count == 1 else "notifications"
    return f"You have {count} new {noun} in Signpost. Sign in to read them."


def inbox_item_for(intent: OutboxIntent, sequence: str = "") -> InboxItem:
    created_at = intent.created_at.astimezone(dt.UTC).replace(microsecond=0)
    return InboxItem(
        sequence=sequence if sequence.isdigit() else "",
        id=notification_id(created_at, intent.intent_id),
        org=intent.to_org,
        type=intent.type,
        created_at=created_at,
        child_id=intent.child_id,
        transfer_id=intent.transfer_id,
        search_id=intent.search_id,
        from_org=intent.from_org,
    )


def told_already(inbox: Inbox, org: str, new_ids: set[str]) -> bool:
    """True while a notification `org` was told about is still unread among its newest ones.

    Subscribers are told when their inbox goes from nothing new to something new, not once
    per notification: while an announced one is unread, the organisation knows to look, and
    another e-mail (or SMS) would say nothing more - at national scale it was the largest
    cost of the service. Reading the inbox re-arms it. Only the newest few are looked at
    (one consistent read); an older unread one does not suppress the message.
    """
    recent, _ = inbox.page(org, unread_only=False, limit=ANNOUNCE_LOOKBACK, after=None)
    return any(item.announced and not item.read and item.id not in new_ids for item in recent)


def deliver(inbox: Inbox, announcer: Announcer, records: Iterable[StreamRecord]) -> list[str]:
    """Deliver a batch; return the sequence numbers of the records that failed (to be retried).

    A record fails if its inbox item could not be written, or its organisation's
    announcement could not be sent. The others succeed even when one fails.
    """
    batch = list(records)
    failed: list[str] = []
    pending: dict[str, list[tuple[str, InboxItem]]] = {}
    for record in batch:
        if record.malformed:
            logger.error("unreadable outbox intent", extra={"sequence_number": record.sequence_number})
            failed.append(record.sequence_number)
            continue
        if record.intent is None:
            continue
        try:
            stored = inbox.add(inbox_item_for(record.intent, record.sequence_number))
        except Exception as exc:  # any failure: the record is retried, the batch goes on
            logger.warning("inbox write failed", extra={"error_type": type(exc).__name__})
            failed.append(record.sequence_number)
            continue
        if not stored.announced:
            pending.setdefault(stored.org, []).append((record.sequence_number, stored))
    for org, items in pending.items():
        try:
            if told_already(inbox, org, {item.id for _, item in items}):
                continue  # left unannounced: they do not keep the next message back once read
            announcer.announce(org, announcement(len(items)))
            inbox.mark_announced([item for _, item in items])
        except Exception as exc:
            logger.warning("announcement failed", extra={"org": org, "error_type": type(exc).__name__})
            failed.extend(sequence for sequence, _ in items)
    position = {r.sequence_number: i for i, r in enumerate(batch)}
    return sorted(set(failed), key=position.__getitem__)


def list_notifications(
    inbox: Inbox, caller: Caller, *, unread_only: bool, limit: int, after: str | None
) -> tuple[list[Notification], str | None]:
    """The caller's organisation's inbox, newest first."""
    caller.require(Action.INBOX)
    items, cursor = inbox.page(
        caller.org, unread_only=unread_only, limit=max(1, min(limit, MAX_PAGE)), after=after
    )
    return [item.view() for item in items], cursor


def mark_read(inbox: Inbox, caller: Caller, notification_id: str, now: dt.datetime) -> Notification:
    """Mark one of the caller's organisation's notifications read (another's: 404)."""
    caller.require(Action.INBOX)
    item = inbox.mark_read(caller.org, notification_id, now)
    if item is None:
        raise NotFound("no such notification")
    return item.view()
