"""Subscribers are told when their inbox goes from nothing new to something new: not again
while what they were told about is unread, and again once they have read it."""

from __future__ import annotations

import datetime as dt

from signpost.logic.notifications import deliver

from tests.unit.notifier.test_deliver import AT, batch, intent
from tests.unit.transfers.fakes import FakeAnnouncer, FakeInbox


def _read_all(inbox: FakeInbox, org: str) -> None:
    for item in inbox.of(org):
        inbox.mark_read(org, item.id, AT + dt.timedelta(hours=1))


def test_one_message_while_the_told_about_notifications_are_unread() -> None:
    inbox, sns = FakeInbox(), FakeAnnouncer()
    assert deliver(inbox, sns, batch(intent(1), intent(2))) == []
    for n in range(3, 8):  # more batches for Camden, one intent each, nothing read meanwhile
        assert deliver(inbox, sns, batch(intent(n))) == []
    assert [org for org, _ in sns.sent] == ["E09000007"]
    assert len(inbox.of("E09000007")) == 7  # every notification is in the inbox all the same
    # only what a message went out for is marked: the others cannot keep a later one back
    assert sorted(i.id[-4:] for i in inbox.of("E09000007") if i.announced) == ["0001", "0002"]


def test_each_organisation_is_told_for_itself() -> None:
    inbox, sns = FakeInbox(), FakeAnnouncer()
    deliver(inbox, sns, batch(intent(1)))
    deliver(inbox, sns, batch(intent(2, to_org="E09000012")))
    deliver(inbox, sns, batch(intent(3), intent(4, to_org="E09000012")))
    assert [org for org, _ in sns.sent] == ["E09000007", "E09000012"]


def test_reading_the_inbox_re_arms_the_message() -> None:
    inbox, sns = FakeInbox(), FakeAnnouncer()
    deliver(inbox, sns, batch(intent(1)))
    _read_all(inbox, "E09000007")
    deliver(inbox, sns, batch(intent(2)))
    assert [org for org, _ in sns.sent] == ["E09000007", "E09000007"]
    assert sns.sent[-1][1] == "You have 1 new notification in Signpost. Sign in to read them."


def test_an_unread_notification_never_announced_does_not_silence_the_next() -> None:
    inbox, sns = FakeInbox(), FakeAnnouncer()
    sns.failures = 1  # the first message fails: its item stays unannounced, its record is retried
    records = batch(intent(1))
    assert deliver(inbox, sns, records) == ["100"]
    assert deliver(inbox, sns, batch(intent(2))) == []
    assert [org for org, _ in sns.sent] == ["E09000007"]


def test_reading_what_was_announced_re_arms_it_even_with_later_ones_unread() -> None:
    inbox, sns = FakeInbox(), FakeAnnouncer()
    deliver(inbox, sns, batch(intent(1)))
    deliver(inbox, sns, batch(intent(2)))  # told already: no message
    [first] = [i for i in inbox.of("E09000007") if i.announced]
    inbox.mark_read("E09000007", first.id, AT + dt.timedelta(hours=1))
    deliver(inbox, sns, batch(intent(3)))
    assert [text for _, text in sns.sent] == [
        "You have 1 new notification in Signpost. Sign in to read them.",
        "You have 1 new notification in Signpost. Sign in to read them.",
    ]
