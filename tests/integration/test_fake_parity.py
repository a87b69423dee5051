"""The unit tests' fake store must refuse what DynamoDB refuses: the same Changes, committed in
the same order to the fake and to the real store on moto, end the same way, condition by
condition (and DynamoDB's transaction limits, which the store checks before sending because
moto is kinder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from signpost.dal.inbox import DynamoInbox
from signpost.dal.limits import TransactionLimitExceeded
from signpost.dal.store import DynamoStore
from signpost.errors import BadRequest
from signpost.models.domain import (
    AuditEntry,
    Changes,
    ChildRecord,
    CommitConflict,
    OutboxIntent,
    StoredResponse,
)
from signpost.models.notifications import InboxItem, ReviewDue
from signpost.models.security import RateIncrement
from signpost.models.transfers import ClockName, ClockUpdate, TransferClock

from infrastructure.local.aws import LocalAws
from tests.unit.logic.fakes import FakeStore
from tests.unit.transfers.fakes import FakeInbox

TABLES = ("RecordsTable", "AuditTable", "IdempotencyTable", "DirectoryTable")
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
REVIEW_BY = dt.date(2027, 3, 1)


def child(child_id: str, version: int = 1, org: str = "E09000007") -> ChildRecord:
    return ChildRecord(
        child_id=child_id, org=org, status="active", categories=["child_in_need"], review_by=REVIEW_BY,
        created_at=NOW, updated_at=NOW, since=NOW.date(), identity=b"ciphertext", version=version,
    )  # fmt: skip


def entry(chain: str, seq: int, **extra: object) -> AuditEntry:
    return AuditEntry(
        chain=chain, seq=seq, at=NOW, action="view", org="E09000007", role="la_practitioner",
        sub="sw-1", prev_hash="0" * 64, hash=f"{seq:064d}", **extra,
    )  # fmt: skip


def intent(n: int, **extra: object) -> OutboxIntent:
    return OutboxIntent(
        intent_id=f"intent-{n}", to_org="E09000007", type="record_viewed", created_at=NOW, **extra
    )


def clock(transfer_id: str = "t1") -> TransferClock:
    return TransferClock(
        transfer_id=transfer_id, clock=ClockName.ACKNOWLEDGE, due=REVIEW_BY, child_id="c1",
        from_org="E09000007", to_org="E09000012",
    )  # fmt: skip


def remind(org: str) -> Changes:
    return Changes(review_reminders=[ReviewDue(child_id="c1", org=org, review_by=REVIEW_BY)])


def fire(transfer_id: str = "t1") -> ClockUpdate:
    return ClockUpdate(transfer_id=transfer_id, clock=ClockName.ACKNOWLEDGE, at=NOW)


Step = Callable[[], Changes]
# name -> the steps, each with the outcome DynamoDB gives it
SCENARIOS: dict[str, list[tuple[Step, str]]] = {
    "a second guard for an NHS number is refused, even for the same child": [
        (lambda: Changes(put_children=[(child("c1"), None)], add_nhs_guards=[("nhs1", "c1")]), "ok"),
        (lambda: Changes(add_nhs_guards=[("nhs1", "c1")]), "conflict:nhs_guard"),
        (lambda: Changes(add_nhs_guards=[("nhs1", "c2")]), "conflict:nhs_guard"),
    ],
    "another child's guard cannot be removed": [
        (lambda: Changes(add_nhs_guards=[("nhs1", "c1")]), "ok"),
        (lambda: Changes(remove_nhs_guards=[("nhs1", "c2")]), "conflict:nhs_guard"),
        (lambda: Changes(remove_nhs_guards=[("nhs1", "c1")]), "ok"),
        (lambda: Changes(remove_nhs_guards=[("nhs1", "c1")]), "ok"),  # gone already: nothing to check
        (lambda: Changes(add_nhs_guards=[("nhs1", "c2")]), "ok"),
    ],
    "a record is created once and changed only at the version read": [
        (lambda: Changes(put_children=[(child("c1"), None)]), "ok"),
        (lambda: Changes(put_children=[(child("c1"), None)]), "conflict:version"),
        (lambda: Changes(put_children=[(child("c1", version=2), 1)]), "ok"),
        (lambda: Changes(put_children=[(child("c1", version=3), 1)]), "conflict:version"),
        (lambda: Changes(put_children=[(child("c9", version=2), 1)]), "conflict:version"),
    ],
    "an audit entry is written once": [
        (lambda: Changes(audit=[entry("CHILD#c1", 0)]), "ok"),
        (lambda: Changes(audit=[entry("CHILD#c1", 0, outcome="no_match")]), "conflict:audit_chain"),
        (lambda: Changes(audit=[entry("CHILD#c1", 1)]), "ok"),
    ],
    "an idempotency key is stored once, and again once its response has expired": [
        (lambda: Changes(idempotency=_stored("k1")), "ok"),
        (lambda: Changes(idempotency=_stored("k1")), "conflict:idempotency"),
        (lambda: Changes(idempotency=_stored("k1", written_at=1_900_000_001)), "ok"),  # TTL not yet run
        (lambda: Changes(idempotency=_stored("k1", written_at=1_900_000_002)), "conflict:idempotency"),
    ],
    "the police window moves only from the version read": [
        (lambda: Changes(rate_limits=[_window((1.0,), read=0)]), "ok"),
        (lambda: Changes(rate_limits=[_window((1.0,), read=0)]), "conflict:conflict"),  # it moved
        (lambda: Changes(rate_limits=[_window((1.0, 2.0), read=1)]), "ok"),
        (lambda: Changes(rate_limits=[_window((1.0, 2.0, 3.0), read=1)]), "conflict:conflict"),
    ],
    "a clock starts once and fires once, only while it runs": [
        (lambda: Changes(fire_clocks=[fire()]), "conflict:clock"),
        (lambda: Changes(start_clocks=[clock()]), "ok"),
        (lambda: Changes(start_clocks=[clock()]), "conflict:clock"),
        (lambda: Changes(fire_clocks=[fire()]), "ok"),
        (lambda: Changes(fire_clocks=[fire()]), "conflict:clock"),
    ],
    "a review is reminded once, for an active record of that organisation and date": [
        (lambda: remind("E09000007"), "conflict:reminder"),
        (lambda: Changes(put_children=[(child("c1"), None)]), "ok"),
        (lambda: remind("E09000012"), "conflict:reminder"),
        (lambda: remind("E09000007"), "ok"),
        (lambda: remind("E09000007"), "conflict:reminder"),
    ],
    "DynamoDB's transaction limits": [
        (lambda: Changes(outbox=[intent(n) for n in range(100)]), "ok"),
        (lambda: Changes(outbox=[intent(n) for n in range(101)]), "bad_request"),
        (lambda: Changes(outbox=[intent(1), intent(1)]), "limit:same_item"),
        (lambda: Changes(audit=[entry("CHILD#big", 0, details={"x": "a" * 420_000})]), "limit:item_size"),
        (
            lambda: Changes(audit=[entry("CHILD#big", n, details={"x": "a" * 390_000}) for n in range(11)]),
            "limit:transaction_size",
        ),
        (lambda: Changes(audit=[entry("CHILD#big", 0, details={"x": "a" * 390_000})]), "ok"),
    ],
}


def _stored(key: str, written_at: int | None = None) -> StoredResponse:
    expiration = 1_900_000_000 if written_at is None else written_at + 86_400
    return StoredResponse(
        key=key, request_hash="h", status=201, body={}, expiration=expiration, written_at=written_at
    )


def _window(times: tuple[float, ...], read: int) -> RateIncrement:
    return RateIncrement("E23000001#sub-1", times, read, 1_900_000_000)


def outcome(store: object, changes: Changes) -> str:
    try:
        store.commit(changes)  # type: ignore[attr-defined]
    except CommitConflict as conflict:
        return "conflict:" + ",".join(sorted(conflict.reasons))
    except BadRequest:
        return "bad_request"
    except TransactionLimitExceeded as exceeded:
        return f"limit:{exceeded.limit}"
    return "ok"


@pytest.fixture
def dynamo_store() -> Iterator[DynamoStore]:
    with LocalAws(seed_path=None) as aws:
        yield DynamoStore(*(aws.tables[t] for t in TABLES))


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_fake_store_ends_every_commit_as_dynamodb_does(dynamo_store: DynamoStore, scenario: str) -> None:
    fake = FakeStore()
    expected = [want for _, want in SCENARIOS[scenario]]
    on_dynamodb = [outcome(dynamo_store, step()) for step, _ in SCENARIOS[scenario]]
    on_the_fake = [outcome(fake, step()) for step, _ in SCENARIOS[scenario]]
    assert on_dynamodb == expected
    assert on_the_fake == on_dynamodb


def test_the_fake_inbox_writes_once_and_reads_marks_as_dynamodb_does(dynamo_store: DynamoStore) -> None:
    """The notifier's conditional inbox write, and marking read, on the fake and on moto."""
    item = InboxItem(
        id="20261127T100000Z-intent-1",
        org="E09000007",
        type="record_viewed",
        created_at=NOW,
        sequence="1" * 21,
    )
    later = NOW + dt.timedelta(minutes=5)

    def run(inbox: Any) -> list[Any]:
        first = inbox.add(item)
        again = inbox.add(item.model_copy(update={"type": "transfer_requested"}))  # a redelivery
        inbox.mark_announced([first])
        read = inbox.mark_read("E09000007", item.id, NOW)
        read_again = inbox.mark_read("E09000007", item.id, later)  # keeps the first read_at
        foreign = inbox.mark_read("E09000012", item.id, NOW)  # another organisation's: not found
        page, _ = inbox.page("E09000007", unread_only=True, limit=10, after=None)
        return [
            again.type, read.read_at if read else None, read_again.read_at if read_again else None,
            foreign, [i.id for i in page], first.model_dump(exclude={"announced"}),
        ]  # fmt: skip

    assert run(FakeInbox()) == run(DynamoInbox(dynamo_store.records.table))
