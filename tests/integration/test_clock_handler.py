"""The clock handler on EventBridge scheduled events against moto, with a frozen clock: a
transfer requested on Christmas Eve goes overdue after the bank holidays, to both sides,
once per clock; reviews fall due once; running twice, late or out of time is safe."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from signpost import wiring

from functions.clock.app import lambda_handler as clock_handler
from infrastructure.local.stream import LocalStream
from tests.support.callers import CAMDEN, HACKNEY
from tests.support.lambda_events import function_spec, invoke, lambda_context, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
UTC = dt.UTC


def freeze(at: dt.datetime) -> None:
    wiring.services().now = lambda: at


def scheduled(at: dt.datetime) -> dict[str, Any]:
    """The sample scheduled event, fired at `at` (the frozen clock moves with it)."""
    event = json.loads((EVENTS / "clock-schedule.json").read_text())
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    freeze(at + dt.timedelta(seconds=3))
    return event


def run_clock(at: dt.datetime, stream: LocalStream) -> dict[str, Any]:
    summary = invoke("clock", scheduled(at))
    stream.flush(lambda event: invoke("notifier", event))
    return dict(summary)


def inbox_types(who) -> list[str]:
    resp = invoke("inbox", make_event("GET", "/v1/notifications", caller=who))
    return [i["type"] for i in resp.json()["items"]]


def register(review_by: dt.date) -> str:
    body = {
        "given_names": "Isla",
        "family_name": "Marchetti",
        "date_of_birth": "2019-08-08",
        "categories": ["child_protection_plan"],
        "review_by": review_by.isoformat(),
    }
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def christmas_eve_transfer(stream: LocalStream) -> dict[str, Any]:
    freeze(dt.datetime(2026, 12, 24, 11, 30, tzinfo=UTC))
    child_id = register(dt.date.today() + dt.timedelta(days=200))
    body = {"to_org": "E09000012", "reason": "placed_out_of_area", "move_date": dt.date.today().isoformat()}
    resp = invoke("transfers", make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    stream.flush(lambda event: invoke("notifier", event))
    return dict(resp.json())


def test_the_sample_event_runs_and_a_second_run_does_nothing(aws, stream):
    event = json.loads((EVENTS / "clock-schedule.json").read_text())
    freeze(dt.datetime(2026, 1, 15, 9, 15, 4, tzinfo=UTC))
    first = invoke("clock", copy.deepcopy(event))
    assert first["as_of"] == "2026-01-15"
    assert first["complete"] is True
    assert first["dates"] > 0
    again = invoke("clock", copy.deepcopy(event))
    assert again["dates"] == 0
    assert again["transfer_overdue"] == 0


def test_christmas_transfer_overdue_to_both_sides_once_per_clock(aws, stream):
    transfer = christmas_eve_transfer(stream)
    assert (transfer["acknowledge_by"], transfer["decide_by"]) == ("2026-12-29", "2027-01-19")
    assert inbox_types(HACKNEY) == ["transfer_requested"]

    # Every 15 minutes over the holiday: nothing until acknowledge_by has passed.
    for day in (25, 26, 28, 29):
        assert run_clock(dt.datetime(2026, 12, day, 9, 0, tzinfo=UTC), stream)["transfer_overdue"] == 0
    first = run_clock(dt.datetime(2026, 12, 30, 0, 15, tzinfo=UTC), stream)
    assert first["transfer_overdue"] == 2
    assert inbox_types(CAMDEN) == ["transfer_overdue"]
    assert inbox_types(HACKNEY) == ["transfer_overdue", "transfer_requested"]

    # The next runs that day, and a redelivery of the same event: nothing more.
    for minute in (15, 30, 45):
        assert run_clock(dt.datetime(2026, 12, 30, 0, minute, tzinfo=UTC), stream)["transfer_overdue"] == 0
    assert inbox_types(CAMDEN) == ["transfer_overdue"]

    # decide_by passes on 20 January: overdue again, once.
    assert run_clock(dt.datetime(2027, 1, 20, 0, 15, tzinfo=UTC), stream)["transfer_overdue"] == 2
    assert run_clock(dt.datetime(2027, 1, 20, 0, 30, tzinfo=UTC), stream)["transfer_overdue"] == 0
    assert inbox_types(CAMDEN) == ["transfer_overdue", "transfer_overdue"]
    [item, *_] = invoke("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN)).json()["items"]
    assert item["transfer_id"] == transfer["transfer_id"]
    assert item["from_org"] == "E09000012"


def test_a_late_run_catches_up_and_an_acknowledged_transfer_is_not_overdue(aws, stream):
    transfer = christmas_eve_transfer(stream)
    freeze(dt.datetime(2026, 12, 29, 10, 0, tzinfo=UTC))
    ack = invoke(
        "transfers",
        make_event("POST", f"/v1/transfers/{transfer['transfer_id']}/acknowledge", caller=HACKNEY),
    )
    assert ack.status == 200
    stream.flush(lambda event: invoke("notifier", event))
    # The clock was down from Christmas Eve until 21 January: one run catches up.
    summary = run_clock(dt.datetime(2027, 1, 21, 8, 0, tzinfo=UTC), stream)
    assert summary["transfer_overdue"] == 2, "decide_by only: acknowledge_by was met"
    assert inbox_types(HACKNEY).count("transfer_overdue") == 1


def test_an_event_from_the_future_does_not_move_the_clock_on(aws, stream):
    christmas_eve_transfer(stream)
    event = scheduled(dt.datetime(2027, 3, 1, 0, 0, tzinfo=UTC))
    freeze(dt.datetime(2026, 12, 24, 12, 0, tzinfo=UTC))
    assert invoke("clock", event)["as_of"] == "2026-12-24"
    assert run_clock(dt.datetime(2026, 12, 30, 0, 15, tzinfo=UTC), stream)["transfer_overdue"] == 2


def test_out_of_time_a_run_stops_and_the_next_one_finishes(aws, stream):
    christmas_eve_transfer(stream)
    context = lambda_context("clock")
    context.get_remaining_time_in_millis = lambda: 1_000  # type: ignore[method-assign]
    summary = clock_handler(scheduled(dt.datetime(2026, 12, 30, 0, 15, tzinfo=UTC)), context)
    assert summary["complete"] is False
    assert summary["transfer_overdue"] == 0
    assert function_spec("clock").timeout_seconds >= 60
    assert run_clock(dt.datetime(2026, 12, 30, 0, 30, tzinfo=UTC), stream)["transfer_overdue"] == 2


def test_review_due_once_when_the_review_date_passes(aws, stream):
    review_by = dt.date.today() + dt.timedelta(days=10)
    freeze(dt.datetime.combine(dt.date.today(), dt.time(9), tzinfo=UTC))
    child_id = register(review_by)
    invoke("clock", scheduled(dt.datetime.combine(review_by, dt.time(12), tzinfo=UTC)))
    the_day_after = dt.datetime.combine(review_by + dt.timedelta(days=1), dt.time(0, 15), tzinfo=UTC)
    assert run_clock(the_day_after, stream)["review_due"] == 1
    assert run_clock(the_day_after + dt.timedelta(minutes=15), stream)["review_due"] == 0
    [item] = invoke("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN)).json()["items"]
    assert (item["type"], item["child_id"]) == ("review_due", child_id)
