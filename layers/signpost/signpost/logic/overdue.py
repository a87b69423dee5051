"""Open transfers whose clock has passed: what `signpost-admin transfers overdue` lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from signpost.logic.working_days import is_working_day
from signpost.models.transfers import Transfer, TransferStatus


@dataclass(frozen=True)
class OverdueTransfer:
    transfer_id: str
    from_org: str
    to_org: str
    status: str
    requested_on: dt.date
    clock: str  # "acknowledge" (not yet acknowledged) or "decide" (not yet accepted or declined)
    due: dt.date
    working_days_late: int


def working_days_between(after: dt.date, until: dt.date) -> int:
    """Working days in (after, until]."""
    days = 0
    day = after
    while day < until:
        day += dt.timedelta(days=1)
        days += is_working_day(day)
    return days


def overdue_transfers(transfers: Iterable[Transfer], today: dt.date) -> list[OverdueTransfer]:
    """Each open transfer past a clock, by the clock that passed first; most overdue first."""
    found: list[OverdueTransfer] = []
    for t in transfers:
        if not t.is_open:
            continue
        if t.status == TransferStatus.REQUESTED and today > t.acknowledge_by:
            clock, due = "acknowledge", t.acknowledge_by
        elif today > t.decide_by:
            clock, due = "decide", t.decide_by
        else:
            continue
        found.append(
            OverdueTransfer(
                transfer_id=t.transfer_id,
                from_org=t.from_org,
                to_org=t.to_org,
                status=t.status.value,
                requested_on=t.requested_on,
                clock=clock,
                due=due,
                working_days_late=working_days_between(due, today),
            )
        )
    return sorted(found, key=lambda o: (-o.working_days_late, o.due, o.transfer_id))
