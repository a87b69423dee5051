"""Redriving notifications the notifier gave up on.

When the notifier's event source mapping gives up on a batch (retries exhausted, or the
records older than MaximumRecordAgeInSeconds), Lambda sends only the batch's metadata to the
failure queue: the shard and the first and last sequence numbers - no keys, no intents. Within
the stream's 24-hour retention those records can be read again by sequence number; each one
that inserted an outbox intent names the intent's key, and the intent is re-read from the
records table by that key (outbox items live 14 days) and delivered through the notifier's own
`deliver`: the inbox write is conditional and the item's id and sort key derive from the intent
and its stream sequence number, so an intent that did reach the inbox makes no second item, and
one whose announcement failed is announced now. A message is deleted from the queue only once
every intent it names is delivered; anything else leaves it for the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from signpost.logic.notifications import INTENT_SK, OUTBOX_PREFIX, Announcer, Inbox, deliver, stream_record
from signpost.models.notifications import InboxItem


@dataclass(frozen=True)
class FailedBatch:
    """One failure-queue message: a range of one shard of the records table's stream."""

    receipt: str  # to delete the message once redriven
    stream_arn: str
    shard_id: str
    first_sequence: str
    last_sequence: str
    size: int


class StreamUnavailable(Exception):
    """The records are gone from the stream (older than its 24-hour retention)."""


class FailureQueue(Protocol):
    def failed_batches(self, limit: int) -> Iterable[FailedBatch]: ...
    def done(self, batch: FailedBatch) -> None: ...


class StreamReader(Protocol):
    def records(self, stream_arn: str, shard_id: str, first: str, last: str) -> Iterable[Mapping[str, Any]]:
        """The raw stream records of the shard from `first` to `last` (inclusive)."""
        ...


class IntentReader(Protocol):
    def intent_item(self, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The outbox item with this key, as stored now (None: gone, e.g. after its TTL)."""
        ...


@dataclass
class RedriveReport:
    messages: int = 0
    intents: int = 0
    delivered: int = 0  # new inbox items
    already_delivered: int = 0  # found in the inbox: delivered before, not again
    failed: int = 0  # could not be delivered now (the message stays on the queue)
    unavailable_batches: int = 0  # no longer in the stream (the message stays on the queue)
    missing_intents: list[str] = field(default_factory=list)  # intent keys gone from the table

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unavailable_batches or self.missing_intents)


class _CountingInbox:
    """The notifier's inbox, counting which writes made a new item and which found one."""

    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox
        self.new = 0
        self.found = 0

    def add(self, item: InboxItem) -> InboxItem:
        stored = self._inbox.add(item)
        if stored is item:
            self.new += 1
        else:
            self.found += 1
        return stored

    def mark_announced(self, items: list[InboxItem]) -> None:
        self._inbox.mark_announced(items)

    def mark_read(self, org: str, notification_id: str, at: Any) -> InboxItem | None:
        return self._inbox.mark_read(org, notification_id, at)

    def page(
        self, org: str, *, unread_only: bool, limit: int, after: str | None
    ) -> tuple[list[InboxItem], str | None]:
        return self._inbox.page(org, unread_only=unread_only, limit=limit, after=after)


def redrive(
    queue: FailureQueue,
    stream: StreamReader,
    intents: IntentReader,
    inbox: Inbox,
    announcer: Announcer,
    *,
    max_messages: int = 100,
    progress: Callable[[str], None] = lambda _line: None,
) -> RedriveReport:
    report = RedriveReport()
    for batch in queue.failed_batches(max_messages):
        report.messages += 1
        where = (
            f"message {report.messages}: shard {batch.shard_id} {batch.first_sequence}..{batch.last_sequence}"
        )
        try:
            raw = list(
                stream.records(batch.stream_arn, batch.shard_id, batch.first_sequence, batch.last_sequence)
            )
        except StreamUnavailable:
            report.unavailable_batches += 1
            progress(f"{where}: no longer in the stream (older than 24 hours) - kept on the queue")
            continue
        records, missing = [], []
        for record in raw:
            body = record.get("dynamodb") or {}
            keys = body.get("Keys") or {}
            pk, sk = str(keys.get("pk", {}).get("S", "")), str(keys.get("sk", {}).get("S", ""))
            if record.get("eventName") != "INSERT" or sk != INTENT_SK or not pk.startswith(OUTBOX_PREFIX):
                continue  # the mapping's filter passed only intent inserts
            stored = intents.intent_item(keys)
            if stored is None:
                missing.append(pk)
                continue
            records.append(stream_record(str(body.get("SequenceNumber", "")), "INSERT", stored))
        counting = _CountingInbox(inbox)
        failed = deliver(counting, announcer, records)
        report.intents += len(records)
        report.delivered += counting.new
        report.already_delivered += counting.found
        report.failed += len(failed)
        report.missing_intents += missing
        line = (
            f"{where}: {len(records)} intents, {counting.new} delivered, {counting.found} already delivered"
        )
        if failed or missing:
            progress(f"{line}, {len(failed)} failed, {len(missing)} gone from the table - kept on the queue")
            continue
        queue.done(batch)
        progress(f"{line} - done")
    return report
