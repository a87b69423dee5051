"""The transfers handler against moto (tables from template.yaml), with the local stream
feeding the notifier, and faults injected in the middle of an accept: throttling and
transaction conflicts show no lost, no duplicated notification and no half-done transfer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from signpost import wiring
from signpost.dal import clients
from signpost.dal.transfers import DynamoTransfers
from signpost.logic import transfers

from infrastructure.local.aws import LocalAws
from infrastructure.local.stream import LocalStream
from tests.integration.faults import Fault, inject, transaction_conflict
from tests.support.callers import CAMDEN, HACKNEY, ROYAL_FREE
from tests.support.lambda_events import invoke, make_event

CHILD = {"given_names": "Tomasz", "family_name": "Nowak-Ellis", "date_of_birth": "2016-02-11"}


@pytest.fixture(autouse=True)
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off sleeps, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", slept.append)
    return slept


def deliver(stream: LocalStream) -> None:
    stream.flush(lambda event: invoke("notifier", event))


def items(aws: LocalAws, prefix: str) -> list[dict[str, Any]]:
    """Test-only look at the records table (the product never scans)."""
    client = boto3.client("dynamodb", region_name="eu-west-2")
    found = client.scan(TableName=aws.tables["RecordsTable"])["Items"]
    return [i for i in found if i["pk"]["S"].startswith(prefix)]


def audit_actions(aws: LocalAws, child_id: str) -> list[str]:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    resp = client.query(
        TableName=aws.tables["AuditTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CHILD#{child_id}"}},
    )
    return [i["action"]["S"] for i in resp["Items"]]


def inbox(org_caller) -> list[dict[str, Any]]:
    resp = invoke("inbox", make_event("GET", "/v1/notifications", caller=org_caller))
    assert resp.status == 200, resp.json()
    return resp.json()["items"]


def register() -> str:
    review_by = (dt.date.today() + dt.timedelta(days=60)).isoformat()
    body = {**CHILD, "categories": ["looked_after"], "review_by": review_by}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def request_transfer(child_id: str, **overrides: Any):
    body = {
        "to_org": "E09000012",
        "reason": "family_moved",
        "move_date": dt.date.today().isoformat(),
        **overrides,
    }
    return invoke("transfers", make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN))


def act(verb: str, transfer_id: str, who=HACKNEY, body: Any = None):
    return invoke("transfers", make_event("POST", f"/v1/transfers/{transfer_id}/{verb}", body, caller=who))


def open_transfer(stream: LocalStream) -> tuple[str, str]:
    child_id = register()
    resp = request_transfer(child_id)
    assert resp.status == 201, resp.json()
    deliver(stream)
    return child_id, str(resp.json()["transfer_id"])


def test_request_writes_transfer_clocks_marker_audit_and_intent_in_one_transaction(aws, stream):
    child_id = register()
    calls: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["TransactItems"]))

    clients.dynamodb().meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", count)
    resp = request_transfer(child_id)
    assert resp.status == 201
    assert len(calls) == 1, "one TransactWriteItems for the whole request"
    transfer_id = resp.json()["transfer_id"]
    [transfer] = [i for i in items(aws, f"TRANSFER#{transfer_id}") if i["sk"]["S"] == "TRANSFER"]
    assert transfer["gsi1pk"]["S"] == "IN#E09000012"
    assert transfer["gsi2pk"]["S"] == "OUT#E09000007"
    clocks = {
        i["sk"]["S"]: i["gsi1pk"]["S"]
        for i in items(aws, f"TRANSFERCLOCK#{transfer_id}")
        if i["sk"]["S"].startswith("CLOCK#")
    }
    assert clocks == {
        "CLOCK#acknowledge": f"DUE#{resp.json()['acknowledge_by']}",
        "CLOCK#decide": f"DUE#{resp.json()['decide_by']}",
    }
    [intent] = items(aws, "OUTBOX#")
    assert intent["type"]["S"] == "transfer_requested"
    assert audit_actions(aws, child_id)[-1] == "transfer_requested"
    deliver(stream)
    assert [n["type"] for n in inbox(HACKNEY)] == ["transfer_requested"]


def test_refusals_through_the_handler(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    assert request_transfer(child_id).status == 409
    assert request_transfer(child_id, to_org="E23000001").status == 400
    assert request_transfer("unknown-child").status == 404
    health = make_event("POST", f"/v1/children/{child_id}/transfers", {}, caller=ROYAL_FREE)
    assert invoke("transfers", health).status == 403, "the role is checked before the body"
    assert act("acknowledge", transfer_id, who=CAMDEN).status == 404
    assert act("decline", transfer_id, body={"reason": "because"}).status == 400
    assert act("acknowledge", transfer_id, body={"urgent": True}).status == 400
    first = act("acknowledge", transfer_id, body={})
    assert first.status == 200
    again = act("acknowledge", transfer_id)  # re-sent: the first response again (API.md)
    assert (again.status, again.json()) == (200, first.json())
    assert act("withdraw", transfer_id, body={"why": "x"}).status == 400
    assert act("withdraw", transfer_id).status == 404, "only the sending organisation may withdraw"


def test_transfers_and_closure_the_sending_la_withdraws_and_the_receiving_la_is_told(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    withdrawn = act("withdraw", transfer_id, who=CAMDEN, body={})
    assert withdrawn.status == 200, withdrawn.json()
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["withdrawn_at"]
    again = act("withdraw", transfer_id, who=CAMDEN)
    assert (again.status, again.json()) == (200, withdrawn.json())
    assert act("accept", transfer_id).status == 409
    deliver(stream)
    assert [n["type"] for n in inbox(HACKNEY)][:1] == ["transfer_withdrawn"]
    assert audit_actions(aws, child_id)[-1] == "transfer_withdrawn"
    clocks = [i for i in items(aws, f"TRANSFERCLOCK#{transfer_id}") if i["sk"]["S"].startswith("CLOCK#")]
    assert len(clocks) == 2
    assert all("gsi1pk" not in c and "stopped_at" in c for c in clocks), "no clock still runs"


def test_transfers_and_closure_closing_the_record_withdraws_its_open_transfer(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    close = make_event("POST", f"/v1/children/{child_id}/close", {"reason": "moved_abroad"}, caller=CAMDEN)
    assert invoke("records", close).status == 200
    [transfer] = [i for i in items(aws, f"TRANSFER#{transfer_id}") if i["sk"]["S"] == "TRANSFER"]
    assert transfer["status"]["S"] == "withdrawn"
    clocks = [i for i in items(aws, f"TRANSFERCLOCK#{transfer_id}") if i["sk"]["S"].startswith("CLOCK#")]
    assert len(clocks) == 2
    assert all("gsi1pk" not in c and "stopped_at" in c for c in clocks), "no clock still runs"
    assert audit_actions(aws, child_id)[-2:] == ["close", "transfer_withdrawn"]
    deliver(stream)
    assert [n["type"] for n in inbox(HACKNEY)][:1] == ["transfer_withdrawn"]
    refused = act("accept", transfer_id)
    assert refused.status == 409
    search = make_event("POST", "/v1/searches", {**CHILD, "reason": "emergency_care"}, caller=ROYAL_FREE)
    signposts = invoke("search", search).json()["signposts"]
    assert [s["organisation"]["code"] for s in signposts] == ["E09000007"]


def test_list_pages_with_a_next_link(aws, stream):
    transfer_ids = []
    for given in ("Ada", "Bea", "Cal"):
        review_by = (dt.date.today() + dt.timedelta(days=60)).isoformat()
        body = {**CHILD, "given_names": given, "categories": ["looked_after"], "review_by": review_by}
        child_id = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN)).json()[
            "child_id"
        ]
        transfer_ids.append(request_transfer(child_id).json()["transfer_id"])
    seen: list[str] = []
    query: dict[str, str] = {"direction": "incoming", "limit": "2"}
    while True:
        resp = invoke("transfers", make_event("GET", "/v1/transfers", caller=HACKNEY, query=query))
        assert resp.status == 200, resp.json()
        seen += [t["transfer_id"] for t in resp.json()["items"]]
        if "next" not in resp.json():
            break
        query = dict(pair.split("=", 1) for pair in resp.json()["next"].split("?", 1)[1].split("&"))
    assert sorted(seen) == sorted(transfer_ids)
    assert len(seen) == 3
    camden_incoming = invoke("transfers", make_event("GET", "/v1/transfers", caller=CAMDEN))
    assert camden_incoming.json()["items"] == []


def _assert_not_moved(aws: LocalAws, child_id: str, transfer_id: str, outbox_before: int) -> None:
    [record] = [i for i in items(aws, f"CHILD#{child_id}") if i["sk"]["S"] == "RECORD"]
    assert record["org"]["S"] == "E09000007"
    assert record["transfer"]["M"]["transfer_id"]["S"] == transfer_id
    [transfer] = [i for i in items(aws, f"TRANSFER#{transfer_id}") if i["sk"]["S"] == "TRANSFER"]
    assert transfer["status"]["S"] in ("requested", "acknowledged")
    assert len(items(aws, "OUTBOX#")) == outbox_before
    assert "transfer_accepted" not in audit_actions(aws, child_id)


def test_throttling_throughout_an_accept_leaves_nothing_half_done_and_a_retry_completes_it(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    outbox_before = len(items(aws, "OUTBOX#"))
    with inject(clients.dynamodb(), "TransactWriteItems", Fault("ThrottlingException", times=None)) as fault:
        resp = act("accept", transfer_id)
    assert resp.status == 500
    assert resp.header("Content-Type") == "application/problem+json"
    assert fault.injected == fault.calls >= 3, "botocore's own retries, every one throttled"
    _assert_not_moved(aws, child_id, transfer_id, outbox_before)
    deliver(stream)
    assert inbox(CAMDEN) == []

    assert act("accept", transfer_id).status == 200
    deliver(stream)
    assert [n["type"] for n in inbox(CAMDEN)] == ["transfer_accepted"]
    assert audit_actions(aws, child_id).count("transfer_accepted") == 1


def test_brief_throttling_in_the_middle_of_an_accept_is_absorbed_once(aws, stream, backoffs):
    child_id, transfer_id = open_transfer(stream)
    with inject(clients.dynamodb(), "TransactWriteItems", Fault("ThrottlingException", times=2)) as fault:
        resp = act("accept", transfer_id)
    assert resp.status == 200, resp.json()
    assert (fault.injected, len(backoffs)) == (2, 2), "two throttled attempts, backed off, then through"
    deliver(stream)
    assert [n["type"] for n in inbox(CAMDEN)] == ["transfer_accepted"]
    assert audit_actions(aws, child_id).count("transfer_accepted") == 1
    assert invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=HACKNEY)).status == 200


def test_a_transaction_conflict_in_the_middle_of_an_accept_is_retried_by_the_logic(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    with inject(clients.dynamodb(), "TransactWriteItems", transaction_conflict(items=6)) as fault:
        resp = act("accept", transfer_id)
    assert resp.status == 200, resp.json()
    assert (fault.injected, fault.calls) == (1, 2), "cancelled once, then committed by the retry"
    deliver(stream)
    assert [n["type"] for n in inbox(CAMDEN)] == ["transfer_accepted"]
    assert audit_actions(aws, child_id).count("transfer_accepted") == 1


def test_a_real_concurrent_change_during_an_accept_is_kept_and_the_accept_still_lands_once(aws, stream):
    """Camden updates the record between the accept's reads and its commit: moto refuses the
    stale version, the accept re-reads and commits on top of Camden's change."""
    child_id, transfer_id = open_transfer(stream)
    raced: list[bool] = []

    def camden_patches_first(params: dict[str, Any], **_: Any) -> None:
        if raced:
            return
        raced.append(True)
        patch = make_event(
            "PATCH", f"/v1/children/{child_id}", {"categories": ["child_in_need"]}, caller=CAMDEN
        )
        assert invoke("records", patch).status == 200

    client = clients.dynamodb()
    client.meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", camden_patches_first)
    try:
        resp = act("accept", transfer_id)
    finally:
        client.meta.events.unregister(
            "before-parameter-build.dynamodb.TransactWriteItems", camden_patches_first
        )
    assert resp.status == 200, resp.json()
    view = invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=HACKNEY)).json()
    assert view["organisation"]["code"] == "E09000012"
    assert view["categories"] == ["child_in_need"], "Camden's change is not lost"
    deliver(stream)
    assert [n["type"] for n in inbox(CAMDEN)] == ["transfer_accepted"]


def test_a_throttled_inbox_read_is_an_error_not_an_empty_inbox(aws, stream):
    open_transfer(stream)
    with inject(clients.dynamodb(), "Query", Fault("ThrottlingException", times=None)):
        resp = invoke("inbox", make_event("GET", "/v1/notifications", caller=HACKNEY))
    assert resp.status == 500
    assert len(inbox(HACKNEY)) == 1


def test_the_store_surfaces_other_client_errors(aws, stream):
    child_id, transfer_id = open_transfer(stream)
    repository = DynamoTransfers(aws.tables["RecordsTable"])
    with (
        inject(clients.dynamodb(), "TransactWriteItems", Fault("ValidationException", times=None)),
        pytest.raises(ClientError),
    ):
        transfers.accept(wiring.services(), repository, HACKNEY, transfer_id)
    _assert_not_moved(aws, child_id, transfer_id, len(items(aws, "OUTBOX#")))
