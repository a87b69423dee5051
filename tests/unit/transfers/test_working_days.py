"""Working days in England: weekends and England and Wales bank holidays (from `holidays`)."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.logic.working_days import is_working_day, nth_working_day_after, transfer_clocks

D = dt.date


@pytest.mark.parametrize(
    ("requested_on", "acknowledge_by", "decide_by"),
    [
        # Thursday 24 December 2026: Christmas Day (Fri), the weekend, Boxing Day observed (Mon 28),
        # then New Year's Day 2027 (Fri) inside the fifteen.
        (D(2026, 12, 24), D(2026, 12, 29), D(2027, 1, 19)),
        # Friday, no holiday: Monday, and three weeks on.
        (D(2026, 11, 27), D(2026, 11, 30), D(2026, 12, 18)),
        # A request on a Saturday or Sunday counts from that day all the same.
        (D(2026, 11, 28), D(2026, 11, 30), D(2026, 12, 18)),
        (D(2026, 11, 29), D(2026, 11, 30), D(2026, 12, 18)),
        # Maundy Thursday 2026: Good Friday (3 April) and Easter Monday (6 April) are skipped.
        (D(2026, 4, 2), D(2026, 4, 7), D(2026, 4, 27)),
        # A one-off bank holiday: the coronation, Monday 8 May 2023 (after the May Day of 1 May).
        (D(2023, 5, 5), D(2023, 5, 9), D(2023, 5, 30)),
    ],
)
def test_transfer_clocks(requested_on, acknowledge_by, decide_by):
    assert transfer_clocks(requested_on) == (acknowledge_by, decide_by)


def test_bank_holidays_and_weekends_are_not_working_days():
    for day in (D(2026, 12, 25), D(2026, 12, 28), D(2027, 1, 1), D(2026, 8, 31), D(2026, 11, 28)):
        assert not is_working_day(day)
    for day in (D(2026, 12, 24), D(2026, 12, 29), D(2026, 11, 27)):
        assert is_working_day(day)


def test_scottish_only_holidays_are_working_days_in_england():
    assert is_working_day(D(2027, 1, 4)), "2 January (observed) is a bank holiday in Scotland only"
    assert is_working_day(D(2026, 11, 30)), "St Andrew's Day is a bank holiday in Scotland only"


def test_n_must_be_positive():
    with pytest.raises(ValueError):
        nth_working_day_after(D(2026, 1, 5), 0)
