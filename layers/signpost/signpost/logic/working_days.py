"""Working days in England: not a weekend, not an England and Wales bank holiday.

The bank holidays come from the maintained `holidays` package (UK, subdivision ENG,
which has the same bank holidays as WLS), including substitute days ("observed")
and one-off holidays such as a state funeral.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

# A transfer's clocks: the 1st and the 15th working day after the request's date.
ACKNOWLEDGE_WORKING_DAYS = 1
DECIDE_WORKING_DAYS = 15


@cache
def _bank_holidays() -> holidays.HolidayBase:
    # Years are filled in lazily as dates are looked up (the calendar's `expand` default).
    return holidays.country_holidays("GB", subdiv="ENG")


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays()


def nth_working_day_after(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (n >= 1). `start` itself never counts, so a
    request made on a Saturday counts from that Saturday all the same."""
    if n < 1:
        raise ValueError("n must be at least 1")
    day, found = start, 0
    while found < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def transfer_clocks(requested_on: dt.date) -> tuple[dt.date, dt.date]:
    """(acknowledge_by, decide_by) for a transfer requested on `requested_on` (a date in England)."""
    return (
        nth_working_day_after(requested_on, ACKNOWLEDGE_WORKING_DAYS),
        nth_working_day_after(requested_on, DECIDE_WORKING_DAYS),
    )
