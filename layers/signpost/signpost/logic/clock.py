"""The clocks: transfer_overdue when a transfer's acknowledge_by or decide_by passes,
review_due when an active record passes its review_by, and delisting: a record closed
more than closed_findable_days ago leaves its blocks (searches skip it already, from
its block entries; this keeps blocks to the children a search can still find).

A date passes when the date in England is after it. Each run handles every date from
the day after the watermark (the last date fully handled) up to yesterday, at most
MAX_CATCH_UP_DAYS of them, so a late run catches up and a second run finds nothing to
do. Each notification is raised once: the transfer clock is fired conditionally (only
while it still runs: acknowledging or deciding stops it in the same transaction), and
the review reminder is marked on the record conditionally, each in the same transaction
as its outbox intents. Running twice, or two runs at once, raises nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from signpost.logic.blocks import FullBlocks, change_blocks, delist_blocks
from signpost.logic.services import Services
from signpost.models.domain import Changes, ChildRecord, CommitConflict, OutboxIntent
from signpost.models.notifications import NotificationType, ReviewDue
from signpost.models.transfers import ClockUpdate, TransferClock
from signpost.observability import logger

MAX_CATCH_UP_DAYS = 62


class ClockSource(Protocol):
    def clocks_due(self, due: dt.date) -> Iterable[TransferClock]: ...
    def reviews_due(self, review_by: dt.date) -> Iterable[ReviewDue]: ...
    def closed_on(self, closed: dt.date) -> Iterable[str]: ...  # ids of records closed that day, in blocks
    def watermark(self) -> dt.date | None: ...
    def advance_watermark(self, processed_through: dt.date) -> None: ...


@dataclass
class ClockRun:
    """What one run did (logged; no identifiers of children)."""

    as_of: dt.date
    dates: list[dt.date] = field(default_factory=list)  # the dates fully handled
    transfer_overdue: int = 0  # notifications raised
    review_due: int = 0
    already_raised: int = 0  # found raised (or stopped) by an earlier or concurrent run
    delisted: int = 0  # closed records taken out of their blocks
    complete: bool = True  # False: out of time, the next run goes on from the watermark


def dates_to_handle(as_of: dt.date, watermark: dt.date | None) -> list[dt.date]:
    """The passed dates not yet handled: after the watermark, before `as_of`, bounded."""
    earliest = as_of - dt.timedelta(days=MAX_CATCH_UP_DAYS)
    start = max(watermark + dt.timedelta(days=1), earliest) if watermark else earliest
    return [start + dt.timedelta(days=i) for i in range((as_of - start).days)]


def run(
    services: Services, source: ClockSource, as_of: dt.date, *, has_time: Callable[[], bool] = lambda: True
) -> ClockRun:
    report = ClockRun(as_of=as_of)
    watermark = source.watermark()
    if watermark is not None and (as_of - watermark).days - 1 > MAX_CATCH_UP_DAYS:
        logger.warning("clock watermark older than the catch-up bound", extra={"watermark": str(watermark)})
    for day in dates_to_handle(as_of, watermark):
        for clock in source.clocks_due(day):
            if not has_time():
                report.complete = False
                return report
            _fire(services, clock, report)
        for review in source.reviews_due(day):
            if not has_time():
                report.complete = False
                return report
            _remind(services, review, report)
        # `day` has passed: records closed closed_findable_days before it are no longer findable.
        for child_id in source.closed_on(day - dt.timedelta(days=services.settings.closed_findable_days)):
            if not has_time():
                report.complete = False
                return report
            _delist(services, child_id, report)
        source.advance_watermark(day)
        report.dates.append(day)
    return report


def _intent(services: Services, type_: NotificationType, to_org: str, **fields: str | None) -> OutboxIntent:
    return OutboxIntent(
        intent_id=services.new_id(), to_org=to_org, type=type_.value, created_at=services.now(), **fields
    )


def _commit_once(services: Services, changes: Changes, marker: str, report: ClockRun) -> bool:
    """Commit a reminder whose marker's condition makes it happen once; False if it already had."""
    try:
        services.store.commit(changes)
    except CommitConflict as conflict:
        if marker not in conflict.reasons:
            raise
        report.already_raised += 1
        return False
    return True


def _fire(services: Services, clock: TransferClock, report: ClockRun) -> None:
    """transfer_overdue to both sides, once for this clock of this transfer."""
    changes = Changes(
        fire_clocks=[ClockUpdate(transfer_id=clock.transfer_id, clock=clock.clock, at=services.now())],
        outbox=[
            _intent(
                services,
                NotificationType.TRANSFER_OVERDUE,
                org,
                child_id=clock.child_id,
                transfer_id=clock.transfer_id,
                from_org=other,
            )
            for org, other in ((clock.to_org, clock.from_org), (clock.from_org, clock.to_org))
        ],
    )
    if _commit_once(services, changes, "clock", report):
        report.transfer_overdue += 2


def _remind(services: Services, review: ReviewDue, report: ClockRun) -> None:
    changes = Changes(
        review_reminders=[review],
        outbox=[_intent(services, NotificationType.REVIEW_DUE, review.org, child_id=review.child_id)],
    )
    if _commit_once(services, changes, "reminder", report):
        report.review_due += 1


def _delist(services: Services, child_id: str, report: ClockRun) -> None:
    def delist(latest: ChildRecord, changes: Changes, _: FullBlocks) -> None:
        delist_blocks(changes, latest)

    record = services.store.records.get_child(child_id)
    if record is not None and change_blocks(
        services, record, lambda r: r.status != "active" and any(r.blocks.values()), delist
    ):
        report.delisted += 1
