"""Blind-index storage against moto with DynamoDB's limits enforced: block items read in one
call, transactions far inside 100 items, the duplicate-registration race, hot and full blocks,
and closed records leaving their blocks."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from signpost import wiring
from signpost.dal import clients
from signpost.matching.key_scheme import KEY_SCHEME_VERSION

from infrastructure.local.aws import LocalAws
from tests.integration.faults import Fault, inject
from tests.support.callers import CAMDEN, HACKNEY, ROYAL_FREE
from tests.support.dynamodb_limits import StrictDynamoDB, strict_dynamodb
from tests.support.eventual import lagging_reads
from tests.support.identities import OTHER_TEN_ALIASES, TEN_ALIASES
from tests.support.lambda_events import invoke, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {
    "given_names": "Zofia Maria",
    "family_name": "Wiśniewska-Hart",
    "date_of_birth": "2013-09-30",
    "sex": "female",
    "postcode": "E8 1DY",
}

CURRENT = str(KEY_SCHEME_VERSION)  # the version registrations write


@pytest.fixture
def strict(aws: LocalAws) -> Iterator[StrictDynamoDB]:
    with strict_dynamodb(clients.dynamodb()) as limits:
        yield limits


class Calls:
    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


def _count_calls() -> Calls:
    calls = Calls()
    clients.dynamodb().meta.events.register("before-call.dynamodb.*", calls)
    return calls


def _register(body: dict[str, Any], who=CAMDEN, headers: dict[str, str] | None = None):
    payload = {**body, "categories": ["looked_after"], "review_by": REVIEW_BY}
    return invoke("records", make_event("POST", "/v1/children", payload, caller=who, headers=headers))


def _search(identity: dict[str, Any], who=ROYAL_FREE):
    body = {k: v for k, v in identity.items() if k != "other_names"}
    return invoke(
        "search", make_event("POST", "/v1/searches", {**body, "reason": "emergency_care"}, caller=who)
    )


def _items(local: LocalAws) -> list[dict[str, Any]]:
    """Test-only inspection of the whole records table (the product never scans)."""
    client = boto3.client("dynamodb", region_name="eu-west-2")
    return client.scan(TableName=local.tables["RecordsTable"])["Items"]


def _records(local: LocalAws) -> list[dict[str, Any]]:
    return [i for i in _items(local) if i["sk"]["S"] == "RECORD"]


def _blocks_holding(local: LocalAws, child_id: str) -> set[str]:
    return {
        i["pk"]["S"].removeprefix("BLOCK#")
        for i in _items(local)
        if i["sk"]["S"] == "BLOCK" and child_id in i
    }


def _listed_blocks(local: LocalAws, child_id: str) -> dict[str, set[str]]:
    record = next(i for i in _records(local) if i["child_id"]["S"] == child_id)
    return {v: {b["S"] for b in ids["L"]} for v, ids in record.get("blocks", {"M": {}})["M"].items()}


# ------------------------------------------------------------------ calls per operation


def test_search_reads_every_block_in_one_call_three_calls_in_all(aws, strict):
    registered = _register({**CHILD, "nhs_number": "9434765870", "other_names": TEN_ALIASES})
    assert registered.status == 201, registered.json()
    calls = _count_calls()
    found = _search({**CHILD, "nhs_number": "9434765870"})
    assert found.json()["outcome"] == "match"
    # One BatchGetItem of every block the search's keys name, one of the candidates, one transaction.
    assert Counter(calls.names) == {"BatchGetItem": 2, "TransactWriteItems": 1}, calls.names
    calls.names.clear()
    nobody = _search({"given_names": "Nobody", "family_name": "Known", "date_of_birth": "2016-01-01"})
    assert nobody.json()["outcome"] == "no_match"
    assert Counter(calls.names) == {"BatchGetItem": 1, "TransactWriteItems": 1}, calls.names


def test_registration_is_at_most_four_dynamodb_calls(aws, strict):
    _register({**CHILD, "given_names": "Zuzanna"})  # a sister, in some of the same blocks
    invoke("inbox", make_event("GET", "/v1/organisations/E09000007", caller=CAMDEN))  # directory warm
    calls = _count_calls()
    resp = _register({**CHILD, "nhs_number": "9434765870"}, headers={"Idempotency-Key": "reg-1"})
    assert resp.status == 201, resp.json()
    # Idempotency read, blocks (with the identity guard), candidates, the transaction.
    assert Counter(calls.names) == {
        "GetItem": 1,
        "BatchGetItem": 2,
        "TransactWriteItems": 1,
    }, calls.names


# ------------------------------------------------------------------ 100 items per transaction


def test_a_child_with_ten_aliases_registers_updates_and_closes_within_transaction_limits(aws, strict):
    resp = _register({**CHILD, "nhs_number": "9434765870", "other_names": TEN_ALIASES})
    assert resp.status == 201, resp.json()
    child_id = resp.json()["child_id"]
    # Found under an alias (a former name) as well as under the primary name.
    alias = {**CHILD, "given_names": "Zosia", "family_name": "Nowak-Kowalczyk"}
    assert [s["child_id"] for s in _search(alias).json()["signposts"]] == [child_id]

    # Every identity field replaced at once: every key changes.
    change = {
        "given_names": "Aleksandra Teresa",
        "family_name": "Brzęczyszczykiewicz-Lloyd",
        "date_of_birth": "2012-02-29",
        "postcode": "SW1A 1AA",
        "nhs_number": "9434765919",
        "other_names": OTHER_TEN_ALIASES,
    }
    patch = make_event("PATCH", f"/v1/children/{child_id}", change, caller=CAMDEN)
    updated = invoke("records", patch)
    assert updated.status == 200, updated.json()
    closed = invoke(
        "records",
        make_event("POST", f"/v1/children/{child_id}/close", {"reason": "moved_abroad"}, caller=CAMDEN),
    )
    assert closed.status == 200, closed.json()
    assert strict.transactions, "the strict double saw the transactions"
    # Far below DynamoDB's 100, whatever the identity: the key cap bounds every one.
    assert max(strict.transactions) <= 75, strict.transactions


# ------------------------------------------------------------------ duplicate registration race


def test_duplicate_registration_race_a_second_apart_is_refused_with_lagging_reads(aws, strict):
    """Index and eventually consistent reads lag (as on AWS): the second registration, a second
    after the first, must still see it."""
    child = {k: v for k, v in CHILD.items() if k != "postcode"}  # no NHS number, no postcode
    with lagging_reads(clients.dynamodb(), [aws.tables["RecordsTable"]]):
        first = _register(child)
        second = _register(child, who=HACKNEY)
    assert first.status == 201, first.json()
    assert second.status == 409, second.json()
    assert second.json()["signposts"][0]["child_id"] == first.json()["child_id"]
    assert len(_records(aws)) == 1


def test_duplicate_registrations_racing_to_commit_cannot_both_succeed(aws, strict):
    """Both read before either commits: the identity guard makes the later commit fail and retry,
    and the retry's duplicate check finds the first."""
    child = {k: v for k, v in CHILD.items() if k != "postcode"}
    racing: dict[str, Any] = {}

    def the_other_registration_commits_first(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems" and "response" not in racing:
            racing["response"] = "running"
            racing["response"] = _register(child, who=HACKNEY)

    events = clients.dynamodb().meta.events
    events.register("before-call.dynamodb.TransactWriteItems", the_other_registration_commits_first)
    try:
        mine = _register(child)
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", the_other_registration_commits_first)
    theirs = racing["response"]
    assert theirs.status == 201, theirs.json()
    assert mine.status == 409, mine.json()
    assert mine.json()["signposts"][0]["child_id"] == theirs.json()["child_id"]
    assert len(_records(aws)) == 1


def test_twins_both_register_and_each_is_found_apart(aws, strict):
    twin = {**CHILD, "given_names": "Zofia", "postcode": "E8 1DY"}
    other = {**twin, "given_names": "Zuzanna"}
    first, second = _register(twin), _register(other)
    assert first.status == 201, first.json()
    assert second.status == 201, second.json()
    for identity, registered in ((twin, first), (other, second)):
        found = _search(identity).json()
        assert found["outcome"] == "match"
        assert [s["child_id"] for s in found["signposts"]] == [registered.json()["child_id"]]


# ------------------------------------------------------------------ hot and full blocks


def test_hot_block_transaction_conflict_is_retried(aws, strict):
    """Two registrations writing the same block at the same moment: DynamoDB cancels one with
    TransactionConflict on the block item; that is a race to retry, not a failure."""
    reasons = [{"Code": "None"} for _ in range(40)]
    reasons[1] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    conflict = Fault("TransactionCanceledException", body={"CancellationReasons": reasons})
    with inject(clients.dynamodb(), "TransactWriteItems", conflict) as fault:
        resp = _register(CHILD)
    assert fault.injected == 1
    assert resp.status == 201, resp.json()
    assert len(_records(aws)) == 1


def test_a_full_block_leaves_its_key_out_and_the_child_is_still_found(aws, strict, monkeypatch):
    monkeypatch.setattr("signpost.dal.blocks.MAX_BLOCK_ENTRIES", 2)
    family = {"family_name": "Hartley", "date_of_birth": "2014-05-09", "postcode": "NW1 2AB"}
    ids = []
    for given in ("Ava", "Bella", "Cora"):
        resp = _register({"given_names": given, **family})
        assert resp.status == 201, resp.json()
        ids.append(resp.json()["child_id"])
    counts = Counter(i["pk"]["S"] for i in _items(aws) if i["sk"]["S"] == "BLOCK" for c in ids if c in i)
    assert counts
    assert max(counts.values()) <= 2
    shared = _listed_blocks(aws, ids[0])[CURRENT] & _listed_blocks(aws, ids[1])[CURRENT]
    assert shared, "siblings share blocks (postcode/date, family/date...)"
    cora = _listed_blocks(aws, ids[2])[CURRENT]
    assert cora
    assert not cora & shared, "the full blocks were left out of the third child's list"
    assert cora == _blocks_holding(aws, ids[2])
    found = _search({"given_names": "Cora", **family}).json()
    assert found["outcome"] == "match"
    assert [s["child_id"] for s in found["signposts"]] == [ids[2]]


# ------------------------------------------------------------------ closed records


def test_records_closed_longer_than_findable_leave_their_blocks(aws, strict):
    resp = _register(CHILD)
    child_id = resp.json()["child_id"]
    days = wiring.services().settings.closed_findable_days
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    wiring.services().now = lambda: now - dt.timedelta(days=days + 10)
    close = {"reason": "moved_abroad"}
    closed = invoke("records", make_event("POST", f"/v1/children/{child_id}/close", close, caller=CAMDEN))
    assert closed.status == 200, closed.json()
    held = _blocks_holding(aws, child_id)
    assert held, "a closed record stays in its blocks while findable"
    wiring.services().now = lambda: now
    event = json.loads((EVENTS / "clock-schedule.json").read_text())
    event["time"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = invoke("clock", event)
    assert summary["delisted"] == 1
    assert _blocks_holding(aws, child_id) == set()
    assert _listed_blocks(aws, child_id) == {}
    assert _search(CHILD).json()["outcome"] == "no_match"
    assert invoke("clock", event)["delisted"] == 0
