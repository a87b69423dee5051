"""Fakes of the transfer, clock and inbox repositories and of SNS, over the FakeStore."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from signpost.errors import BadRequest
from signpost.models.notifications import InboxItem, ReviewDue
from signpost.models.transfers import Direction, Transfer, TransferClock, TransferStatus

from tests.unit.logic.fakes import FakeStore


class FakeTransfers:
    def __init__(self, store: FakeStore) -> None:
        self._items = store.transfer_items

    def get(self, transfer_id: str) -> Transfer | None:
        return self._items.transfers.get(transfer_id)

    def page(
        self, org: str, direction: Direction, status: TransferStatus | None, limit: int, after: str | None
    ) -> tuple[list[Transfer], str | None]:
        mine = [
            t
            for t in self._items.transfers.values()
            if (t.to_org if direction == Direction.INCOMING else t.from_org) == org
            and (status is None or t.status == status)
        ]
        mine.sort(key=lambda t: (t.requested_at, t.transfer_id), reverse=True)
        start = 0
        if after is not None:
            ids = [t.transfer_id for t in mine]
            if after not in ids:
                raise BadRequest("the page cursor is not valid")
            start = ids.index(after) + 1
        page = mine[start : start + limit]
        more = start + limit < len(mine)
        return page, (page[-1].transfer_id if more and page else None)


class FakeClockSource:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._items = store.transfer_items
        self.processed_through: dt.date | None = None
        self.queried: list[dt.date] = []

    def clocks_due(self, due: dt.date) -> Iterator[TransferClock]:
        self.queried.append(due)
        for key in sorted(self._items.live):
            clock = self._items.clocks[key]
            if clock.due == due:
                yield clock

    def reviews_due(self, review_by: dt.date) -> Iterator[ReviewDue]:
        for record in list(self._store.records.children.values()):
            if record.status == "active" and record.review_by == review_by:
                yield ReviewDue(child_id=record.child_id, org=record.org, review_by=review_by)

    def closed_on(self, closed: dt.date) -> Iterator[str]:
        """As gsi1 `CLOSED#<date>` holds them: closed records still in their blocks."""
        for record in list(self._store.records.children.values()):
            if (
                record.closed_at is not None
                and record.closed_at.date() == closed
                and any(record.blocks.values())
            ):
                yield record.child_id

    def watermark(self) -> dt.date | None:
        return self.processed_through

    def advance_watermark(self, processed_through: dt.date) -> None:
        if self.processed_through is None or processed_through > self.processed_through:
            self.processed_through = processed_through


class FakeInbox:
    """Items keyed by (org, id); `fail_adds` makes the next N writes raise."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], InboxItem] = {}
        self.puts = 0
        self.fail_adds: set[str] = set()  # intent ids whose write raises

    def add(self, item: InboxItem) -> InboxItem:
        if any(item.id.endswith(f"-{intent}") for intent in self.fail_adds):
            raise ConnectionError("injected inbox failure")
        existing = self.items.get((item.org, item.id))
        if existing is not None:
            return existing
        self.puts += 1
        self.items[(item.org, item.id)] = item
        return item

    def mark_announced(self, items: list[InboxItem]) -> None:
        for item in items:
            key = (item.org, item.id)
            if key in self.items:
                self.items[key] = self.items[key].model_copy(update={"announced": True})

    def mark_read(self, org: str, notification_id: str, at: dt.datetime) -> InboxItem | None:
        item = self.items.get((org, notification_id))
        if item is None:
            return None
        updated = item.model_copy(update={"read": True, "read_at": item.read_at or at})
        self.items[(org, notification_id)] = updated
        return updated

    def page(
        self, org: str, *, unread_only: bool, limit: int, after: str | None
    ) -> tuple[list[InboxItem], str | None]:
        mine = [i for (o, _), i in self.items.items() if o == org and not (unread_only and i.read)]
        mine.sort(key=lambda i: (i.created_at, i.sequence.zfill(40), i.id), reverse=True)
        start = 0
        if after is not None:
            start = [i.id for i in mine].index(after) + 1
        page = mine[start : start + limit]
        return page, (page[-1].id if start + limit < len(mine) and page else None)

    def of(self, org: str) -> list[InboxItem]:
        return [i for (o, _), i in self.items.items() if o == org]


class FakeAnnouncer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failures = 0  # the next N announcements raise

    def announce(self, org: str, text: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("injected SNS failure")
        self.sent.append((org, text))
