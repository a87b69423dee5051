"""The clocks with a frozen clock and the store faked: overdue once per clock and transfer,
to both sides; review_due once; safe to run twice, late, or out of time."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.logic import clock, records, transfers
from signpost.models.children import RegisterRequest, UpdateRequest
from signpost.models.transfers import TransferRequest

from functions.clock.app import _as_of
from tests.unit.logic.conftest import AMELIA, CAMDEN, HACKNEY, OLIVER
from tests.unit.logic.fakes import make_services
from tests.unit.transfers.fakes import FakeClockSource, FakeTransfers

D = dt.date
CHRISTMAS_EVE = dt.datetime(2026, 12, 24, 11, 0, tzinfo=dt.UTC)


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    services, store, _, _ = make_services(CHRISTMAS_EVE)
    return services, store, FakeTransfers(store), FakeClockSource(store)


def register(services, identity=AMELIA, review_by: dt.date | None = None) -> str:
    review_by = review_by or dt.date.today() + dt.timedelta(days=200)
    body = {**identity, "categories": ["looked_after"], "review_by": review_by.isoformat()}
    return records.register(services, CAMDEN, RegisterRequest.model_validate(body), None).body["child_id"]


def request_transfer(services, child_id) -> str:
    body = TransferRequest.model_validate(
        {"to_org": "E09000012", "reason": "placed_out_of_area", "move_date": dt.date.today().isoformat()}
    )
    return transfers.request_transfer(services, CAMDEN, child_id, body, None).body["transfer_id"]


def run_on(services, source, day: dt.date, **kwargs) -> clock.ClockRun:
    services.now = lambda: dt.datetime.combine(day, dt.time(6, 0), tzinfo=dt.UTC)
    return clock.run(services, source, day, **kwargs)


def overdue(store, transfer_id):
    return sorted(
        (i.to_org, i.from_org)
        for i in store.outbox
        if i.type == "transfer_overdue" and i.transfer_id == transfer_id
    )


def test_christmas_transfer_goes_overdue_after_the_bank_holidays_to_both_sides_once(env):
    services, store, _, source = env
    child_id = register(services)
    transfer_id = request_transfer(services, child_id)
    assert store.transfer_items.transfers[transfer_id].acknowledge_by == D(2026, 12, 29)
    assert store.transfer_items.transfers[transfer_id].decide_by == D(2027, 1, 19)

    for day in (D(2026, 12, 25), D(2026, 12, 28), D(2026, 12, 29)):
        assert run_on(services, source, day).transfer_overdue == 0
    assert overdue(store, transfer_id) == []

    first = run_on(services, source, D(2026, 12, 30))
    assert first.transfer_overdue == 2
    both_sides = [("E09000007", "E09000012"), ("E09000012", "E09000007")]
    assert overdue(store, transfer_id) == both_sides
    [intent] = [i for i in store.outbox if i.type == "transfer_overdue" and i.to_org == "E09000012"]
    assert intent.child_id == child_id

    again = run_on(services, source, D(2026, 12, 30))
    assert again.transfer_overdue == 0
    assert again.dates == []
    for day in (D(2026, 12, 31), D(2027, 1, 5), D(2027, 1, 19)):
        run_on(services, source, day)
    assert overdue(store, transfer_id) == both_sides, "the acknowledge clock fires once"

    run_on(services, source, D(2027, 1, 20))
    assert len(overdue(store, transfer_id)) == 4, "then the decide clock, once"


def test_acknowledging_in_time_stops_the_first_clock_and_deciding_stops_the_second(env):
    services, store, repo, source = env
    transfer_id = request_transfer(services, register(services))
    services.now = lambda: dt.datetime(2026, 12, 29, 9, 0, tzinfo=dt.UTC)
    transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    run_on(services, source, D(2026, 12, 30))
    assert overdue(store, transfer_id) == []
    services.now = lambda: dt.datetime(2027, 1, 19, 16, 0, tzinfo=dt.UTC)
    transfers.accept(services, repo, HACKNEY, transfer_id)
    run_on(services, source, D(2027, 1, 25))
    assert overdue(store, transfer_id) == []


def test_a_late_run_catches_up_every_missed_date(env):
    services, store, _, source = env
    transfer_id = request_transfer(services, register(services))
    run_on(services, source, D(2026, 12, 24))
    report = run_on(services, source, D(2027, 2, 1))  # the clock was down for five weeks
    assert report.dates[0] == D(2026, 12, 24)
    assert report.dates[-1] == D(2027, 1, 31)
    assert report.transfer_overdue == 4
    assert len(overdue(store, transfer_id)) == 4


def test_catching_up_is_bounded(env):
    services, _, _, source = env
    source.processed_through = D(2026, 1, 1)
    report = run_on(services, source, D(2026, 12, 24))
    assert len(report.dates) == clock.MAX_CATCH_UP_DAYS
    assert report.dates[-1] == D(2026, 12, 23)
    assert min(source.queried) == D(2026, 12, 24) - dt.timedelta(days=clock.MAX_CATCH_UP_DAYS)


def test_out_of_time_stops_without_moving_the_watermark_past_unfinished_work(env):
    services, store, _, source = env
    transfer_id = request_transfer(services, register(services))
    run_on(services, source, D(2026, 12, 24))
    report = run_on(services, source, D(2026, 12, 30), has_time=lambda: False)
    assert not report.complete
    assert overdue(store, transfer_id) == []
    assert source.processed_through < D(2026, 12, 29)
    assert run_on(services, source, D(2026, 12, 30)).transfer_overdue == 2


def test_a_clock_found_stopped_or_already_fired_is_not_raised_again(env):
    """Two runs that read the same due clocks (or a run that races an acknowledgement)."""
    services, store, _repo, source = env
    first_id = request_transfer(services, register(services))
    second_id = request_transfer(services, register(services, OLIVER))
    stale = list(source.clocks_due(D(2026, 12, 29)))
    assert {c.transfer_id for c in stale} == {first_id, second_id}
    run_on(services, source, D(2026, 12, 30))  # the first run raises both
    services.now = lambda: dt.datetime(2026, 12, 30, 9, 0, tzinfo=dt.UTC)

    class Stale(FakeClockSource):
        def clocks_due(self, due):
            return stale if due == D(2026, 12, 29) else []

    late = Stale(store)
    late.processed_through = D(2026, 12, 28)
    report = run_on(services, late, D(2026, 12, 30))
    assert report.transfer_overdue == 0
    assert report.already_raised == 2
    assert len(overdue(store, first_id)) == 2
    assert len(overdue(store, second_id)) == 2


def test_review_due_once_when_the_review_date_passes(env):
    services, store, _, source = env
    services.now = lambda: dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    review_by = dt.date.today() + dt.timedelta(days=10)
    child_id = register(services, review_by=review_by)
    source.processed_through = review_by - dt.timedelta(days=2)
    assert run_on(services, source, review_by).review_due == 0, "due today: not passed yet"
    assert run_on(services, source, review_by + dt.timedelta(days=1)).review_due == 1
    [intent] = [i for i in store.outbox if i.type == "review_due"]
    assert (intent.to_org, intent.child_id) == ("E09000007", child_id)
    source.processed_through = review_by - dt.timedelta(days=1)  # a rerun over the same date
    assert run_on(services, source, review_by + dt.timedelta(days=1)).review_due == 0
    assert len([i for i in store.outbox if i.type == "review_due"]) == 1


def test_a_review_date_moved_on_is_reminded_again_at_its_new_date_and_a_moved_record_to_its_new_la(
    env,
):
    services, store, repo, source = env
    services.now = lambda: dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    first = dt.date.today() + dt.timedelta(days=5)
    child_id = register(services, review_by=first)
    source.processed_through = first - dt.timedelta(days=1)
    run_on(services, source, first + dt.timedelta(days=1))
    later = dt.date.today() + dt.timedelta(days=30)
    records.update_child(services, CAMDEN, child_id, UpdateRequest(review_by=later))
    transfer_id = request_transfer(services, child_id)
    transfers.accept(services, repo, HACKNEY, transfer_id)
    run_on(services, source, later + dt.timedelta(days=1))
    reminders = [(i.to_org, i.child_id) for i in store.outbox if i.type == "review_due"]
    assert reminders == [("E09000007", child_id), ("E09000012", child_id)]


def test_the_run_is_for_the_scheduled_date_in_england_never_ahead_of_today():
    now = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)  # already 1 July in London (BST)
    assert _as_of({}, now) == D(2026, 7, 1)
    assert _as_of({"time": "2026-06-30T22:59:00Z"}, now) == D(2026, 6, 30)
    assert _as_of({"time": "2027-01-01T00:00:00Z"}, now) == D(2026, 7, 1), "not from the future"
    assert _as_of({"time": "not a time"}, now) == D(2026, 7, 1)
