"""Delivering outbox intents with the inbox and SNS faked: exactly one inbox item per intent,
partial failures reported per record, announcements retried, and nothing about a child in SNS."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from signpost.errors import Forbidden, NotFound
from signpost.logic import notifications
from signpost.logic.notifications import StreamRecord, deliver, stream_record
from signpost.models.domain import OutboxIntent
from signpost.models.notifications import notification_id, notification_time

from tests.unit.logic.conftest import CAMDEN, HACKNEY, ROYAL_FREE
from tests.unit.transfers.fakes import FakeAnnouncer, FakeInbox

AT = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
ANNOUNCEMENT = re.compile(r"^You have \d+ new notifications? in Signpost\. Sign in to read them\.$")


def intent(n: int, to_org: str = "E09000007", type_: str = "record_viewed", **extra) -> OutboxIntent:
    return OutboxIntent(
        intent_id=f"intent{n:04d}",
        to_org=to_org,
        type=type_,
        created_at=AT + dt.timedelta(seconds=n),
        child_id=f"child{n}",
        **extra,
    )


def batch(*intents: OutboxIntent) -> list[StreamRecord]:
    return [StreamRecord(sequence_number=str(100 + i), intent=x) for i, x in enumerate(intents)]


def image(x: OutboxIntent) -> dict:
    return {**x.model_dump(mode="json"), "pk": f"OUTBOX#{x.intent_id}", "sk": "INTENT", "expires_at": 1}


def test_stream_records_become_intents_and_anything_else_is_passed_over():
    x = intent(1)
    assert stream_record("1", "INSERT", image(x)).intent == x
    assert stream_record("2", "MODIFY", image(x)).intent is None
    assert stream_record("3", "REMOVE", None).intent is None
    assert stream_record("4", "INSERT", {"pk": "CHILD#c", "sk": "RECORD", "identity": b"x"}).intent is None
    broken = stream_record("5", "INSERT", {"pk": "OUTBOX#x", "sk": "INTENT", "type": "record_viewed"})
    assert broken.malformed
    assert broken.intent is None
    unknown_type = stream_record("6", "INSERT", image(intent(6, type_="something_else")))
    assert unknown_type.malformed


def test_each_intent_becomes_one_inbox_item_with_an_id_derived_from_it():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    failed = deliver(inbox, sns, batch(intent(1), intent(2), intent(3, to_org="E09000012")))
    assert failed == []
    assert len(inbox.of("E09000007")) == 2
    assert len(inbox.of("E09000012")) == 1
    item = inbox.items[("E09000007", notification_id(AT + dt.timedelta(seconds=1), "intent0001"))]
    assert item.type == "record_viewed"
    assert item.child_id == "child1"
    assert not item.read
    assert notification_time(item.id) == item.created_at
    assert sorted(sns.sent) == [
        ("E09000007", "You have 2 new notifications in Signpost. Sign in to read them."),
        ("E09000012", "You have 1 new notification in Signpost. Sign in to read them."),
    ]
    assert all(i.announced for i in inbox.items.values())


def test_a_redelivered_batch_makes_no_second_item_and_no_second_message():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    records = batch(intent(1), intent(2))
    deliver(inbox, sns, records)
    assert deliver(inbox, sns, records) == []
    assert inbox.puts == 2
    assert len(inbox.items) == 2
    assert len(sns.sent) == 1


def test_only_the_failing_record_is_reported_and_the_rest_are_delivered():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    inbox.fail_adds = {"intent0002"}
    records = batch(intent(1), intent(2), intent(3))
    assert deliver(inbox, sns, records) == ["101"]
    assert {i.id.rsplit("-", 1)[1] for i in inbox.items.values()} == {"intent0001", "intent0003"}
    assert sns.sent == [("E09000007", "You have 2 new notifications in Signpost. Sign in to read them.")]
    # The stream retries from the failed record (so the third comes again): one more item, no duplicates.
    inbox.fail_adds = set()
    assert deliver(inbox, sns, records[1:]) == []
    assert inbox.puts == 3
    assert len(inbox.items) == 3
    # Camden was told already and has not read its inbox since: no second message.
    assert sns.sent == [("E09000007", "You have 2 new notifications in Signpost. Sign in to read them.")]


def test_an_unreadable_intent_is_reported_not_dropped():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    records = [*batch(intent(1)), StreamRecord("999", None, malformed=True)]
    assert deliver(inbox, sns, records) == ["999"]
    assert len(inbox.items) == 1


def test_sns_failing_keeps_the_items_once_and_retries_the_message_on_redelivery():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    sns.failures = 1
    records = batch(intent(1), intent(2, to_org="E09000012"), intent(3))
    failed = deliver(inbox, sns, records)
    # One organisation's message failed (whichever went first): its records are reported.
    assert len(failed) in (1, 2)
    assert set(failed) < {"100", "101", "102"}
    assert len(inbox.items) == 3
    assert inbox.puts == 3
    unannounced = {i.org for i in inbox.items.values() if not i.announced}
    assert len(unannounced) == 1
    assert deliver(inbox, sns, records) == []
    assert inbox.puts == 3, "no second inbox item on redelivery"
    assert all(i.announced for i in inbox.items.values())
    assert sorted(org for org, _ in sns.sent) == ["E09000007", "E09000012"], "each org told once in the end"


def test_sns_text_never_carries_anything_about_a_child():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    records = batch(
        intent(1, type_="transfer_requested", transfer_id="transfer-1", from_org="E09000012"),
        intent(2, search_id="search-2", from_org="a health service"),
    )
    deliver(inbox, sns, records)
    for _, text in sns.sent:
        assert ANNOUNCEMENT.fullmatch(text)
        for forbidden in ("child", "transfer-1", "search-2", "E09000012", "health"):
            assert forbidden not in text.lower()
    for n in (0, 1, 7, 100):
        assert ANNOUNCEMENT.fullmatch(notifications.announcement(n))


def test_inbox_lists_own_items_newest_first_and_marks_read_only_own():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    deliver(inbox, sns, batch(intent(1), intent(2), intent(3), intent(4, to_org="E09000012")))
    items, cursor = notifications.list_notifications(inbox, CAMDEN, unread_only=False, limit=2, after=None)
    assert [i.child_id for i in items] == ["child3", "child2"]
    assert cursor
    rest, end = notifications.list_notifications(inbox, CAMDEN, unread_only=False, limit=2, after=cursor)
    assert [i.child_id for i in rest] == ["child1"]
    assert end is None
    read = notifications.mark_read(inbox, CAMDEN, items[0].id, AT)
    assert read.read
    unread, _ = notifications.list_notifications(inbox, CAMDEN, unread_only=True, limit=10, after=None)
    assert [i.child_id for i in unread] == ["child2", "child1"]
    with pytest.raises(NotFound):
        notifications.mark_read(inbox, HACKNEY, items[1].id, AT)
    with pytest.raises(NotFound):
        notifications.mark_read(inbox, CAMDEN, "not-an-id", AT)
    with pytest.raises(Forbidden):
        notifications.list_notifications(inbox, ROYAL_FREE, unread_only=False, limit=10, after=None)


def test_items_of_the_same_second_are_ordered_by_the_stream():
    inbox, sns = FakeInbox(), FakeAnnouncer()
    acknowledged = intent(1, type_="transfer_acknowledged")
    accepted = intent(2, type_="transfer_accepted").model_copy(update={"created_at": acknowledged.created_at})
    deliver(inbox, sns, [StreamRecord("9", acknowledged), StreamRecord("10", accepted)])
    items, _ = notifications.list_notifications(inbox, CAMDEN, unread_only=False, limit=10, after=None)
    assert [i.type for i in items] == ["transfer_accepted", "transfer_acknowledged"]
