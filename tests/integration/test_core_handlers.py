"""The records, search and inbox handlers against moto, with tables built from template.yaml."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from signpost import wiring
from signpost.dal import clients
from signpost.errors import BadRequest
from signpost.matching.key_scheme import KEY_SCHEME_VERSION
from signpost.models.domain import BlockEntry, Changes

from infrastructure.local.aws import LocalAws
from infrastructure.local.routes import load_routes
from tests.support.callers import AUDITOR, CAMDEN, HACKNEY, ROYAL_FREE
from tests.support.lambda_events import invoke, make_event

ROOT = Path(__file__).resolve().parents[2]
REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {
    "given_names": "Zofia",
    "family_name": "Wiśniewska-Hart",
    "date_of_birth": "2013-09-30",
    "nhs_number": "9434765870",
    "postcode": "e8 1dy",
}
OTHER_CHILD = {
    "given_names": "Tom",
    "family_name": "Other",
    "date_of_birth": "2014-02-02",
    "categories": ["child_in_need"],
    "review_by": REVIEW_BY,
}
IDENTITY_VALUES = ("Zofia", "Wiśniewska", "Hart", "2013-09-30", "9434765870", "E8 1DY")


class ScanForbidden(AssertionError):
    pass


def _no_scans(model: Any, **_: Any) -> None:
    if model.name == "Scan":
        raise ScanForbidden("the product code must never Scan a table")


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with LocalAws() as local:
        wiring.reset_services()
        clients.dynamodb().meta.events.register("before-call.dynamodb.*", _no_scans)
        yield local
    wiring.reset_services()


def _items(local: LocalAws, logical_id: str) -> list[dict[str, Any]]:
    """Test-only inspection of a whole table (the product never scans)."""
    client = boto3.client("dynamodb", region_name="eu-west-2")
    return client.scan(TableName=local.tables[logical_id])["Items"]


def _register(body: dict[str, Any] | None = None, who=CAMDEN, headers: dict[str, str] | None = None):
    payload = body if body is not None else {**CHILD, "categories": ["looked_after"], "review_by": REVIEW_BY}
    return invoke("records", make_event("POST", "/v1/children", payload, caller=who, headers=headers))


def _search(identity: dict[str, Any], who=ROYAL_FREE, reason: str = "emergency_care"):
    return invoke("search", make_event("POST", "/v1/searches", {**identity, "reason": reason}, caller=who))


def test_register_writes_ciphertext_blind_indexes_and_audit_together(aws):
    resp = _register()
    assert resp.status == 201
    child_id = resp.json()["child_id"]
    assert resp.header("Location") == f"/v1/children/{child_id}"
    records = _items(aws, "RecordsTable")
    record = next(i for i in records if i["sk"]["S"] == "RECORD")
    assert "B" in record["identity"]
    dumped = json.dumps(records, default=str)
    for value in IDENTITY_VALUES:
        assert value not in dumped
    holding = {
        i["pk"]["S"].removeprefix("BLOCK#") for i in records if child_id in i and i["sk"]["S"] == "BLOCK"
    }
    assert holding, "the child is written in its blocks"
    assert holding == {b["S"] for b in record["blocks"]["M"][str(KEY_SCHEME_VERSION)]["L"]}
    audit = _items(aws, "AuditTable")
    assert [(a["pk"]["S"], a["action"]["S"]) for a in audit] == [(f"CHILD#{child_id}", "register")]


def test_core_path_register_search_match_and_no_match(aws):
    child_id = _register().json()["child_id"]
    typed = {**CHILD, "given_names": "ZOFIA", "family_name": "wisniewska hart"}
    typed.pop("nhs_number")
    for who in (HACKNEY, ROYAL_FREE):
        body = _search(typed, who=who, reason="new_to_service").json()
        assert body["outcome"] == "match"
        [signpost] = body["signposts"]
        assert signpost["child_id"] == child_id
        assert signpost["organisation"]["code"] == "E09000007"
        assert signpost["contact"]["team"].startswith("Camden")
        for value in IDENTITY_VALUES:
            assert value not in json.dumps(body, ensure_ascii=False)
    other = {"given_names": "Nobody", "family_name": "Known", "date_of_birth": "2016-01-01"}
    nothing = _search(other).json()
    assert nothing["outcome"] == "no_match"
    assert nothing["signposts"] == []


def test_every_search_is_audited_before_answering(aws):
    _register()
    resp = _search({"given_names": "Nobody", "family_name": "Known", "date_of_birth": "2016-01-01"})
    search_id = resp.json()["search_id"]
    audit = {a["pk"]["S"]: a for a in _items(aws, "AuditTable")}
    assert audit[f"SEARCH#{search_id}"]["outcome"]["S"] == "no_match"
    assert audit[f"SEARCH#{search_id}"]["org"]["S"] == "RAL"


def test_role_and_organisation_rules(aws):
    child_id = _register().json()["child_id"]
    assert _register(who=ROYAL_FREE).status == 403
    assert invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=HACKNEY)).status == 404
    assert invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=ROYAL_FREE)).status == 403
    assert invoke("records", make_event("GET", "/v1/children/does-not-exist", caller=CAMDEN)).status == 404
    own = invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=CAMDEN))
    assert own.status == 200
    assert own.json()["postcode"] == "E8 1DY"
    no_caller = invoke("records", make_event("GET", f"/v1/children/{child_id}"))
    assert no_caller.status == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"colour": "blue"}, "colour"),
        ({"nhs_number": "9434765871"}, "nhs_number"),
        ({"date_of_birth": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "date_of_birth"),
        ({"date_of_birth": "1990-01-01"}, "date_of_birth"),
        ({"postcode": "NOT A POSTCODE"}, "postcode"),
        ({"categories": ["sexual_health"]}, "categories.0"),
        ({"review_by": "2020-01-01"}, "review_by"),
        ({"organisation": "E09000012"}, "organisation"),
        ({"status": "closed"}, "status"),
    ],
)
def test_bad_input_is_400_problem_json_naming_the_field_and_stores_nothing(aws, change, field):
    body = {**CHILD, "categories": ["looked_after"], "review_by": REVIEW_BY, **change}
    resp = _register(body)
    assert resp.status == 400
    assert resp.header("Content-Type") == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 400
    assert field in [e["field"] for e in problem["errors"]]
    text = resp["body"]
    for value in IDENTITY_VALUES + tuple(str(v) for v in change.values()):
        if value not in ("E09000012", "closed", "blue", "['sexual_health']"):
            assert value not in text
    assert _items(aws, "RecordsTable") == []
    assert _items(aws, "AuditTable") == []


def test_duplicate_registration_is_409_with_the_existing_signpost(aws):
    child_id = _register().json()["child_id"]
    resp = _register(who=HACKNEY)
    assert resp.status == 409
    problem = resp.json()
    assert problem["signposts"][0]["child_id"] == child_id
    assert problem["signposts"][0]["organisation"]["code"] == "E09000007"
    assert sum(1 for i in _items(aws, "RecordsTable") if i["sk"]["S"] == "RECORD") == 1


def test_idempotency_key_replay_and_conflict(aws):
    first = _register(headers={"Idempotency-Key": "camden-0001"})
    again = _register(headers={"Idempotency-Key": "camden-0001"})
    assert first.status == again.status == 201
    assert again.json() == first.json()
    clash = _register(OTHER_CHILD, headers={"Idempotency-Key": "camden-0001"})
    assert clash.status == 409
    assert sum(1 for i in _items(aws, "RecordsTable") if i["sk"]["S"] == "RECORD") == 1


def _idempotency_items(aws) -> list[dict[str, Any]]:
    return _items(aws, "IdempotencyTable")


def test_idempotency_gaps_an_expired_key_still_in_the_table_is_a_new_request_not_a_500(aws):
    first = _register(headers={"Idempotency-Key": "camden-0002"})
    assert first.status == 201
    # Age the stored response past `expiration`; DynamoDB's TTL has not deleted it yet.
    client = boto3.client("dynamodb", region_name="eu-west-2")
    [stored] = _idempotency_items(aws)
    past = int(dt.datetime.now(dt.UTC).timestamp()) - 60
    client.put_item(TableName=aws.tables["IdempotencyTable"], Item={**stored, "expiration": {"N": str(past)}})
    again = _register(OTHER_CHILD, headers={"Idempotency-Key": "camden-0002"})
    assert again.status == 201, again.body
    assert again.json()["child_id"] != first.json()["child_id"]
    [stored] = _idempotency_items(aws)
    assert int(stored["expiration"]["N"]) > past


def test_idempotency_gaps_a_retry_in_flight_gets_the_first_response_and_writes_no_duplicate(aws):
    dynamodb = clients.dynamodb()
    real = dynamodb.transact_write_items
    answers: list[Any] = []
    pending = [True]

    def commit_with_a_retry_in_flight(**kwargs: Any) -> Any:
        if pending:  # the client's retry arrives, and commits, before the first request's commit
            pending.clear()
            answers.append(_register(headers={"Idempotency-Key": "camden-0003"}))
        return real(**kwargs)

    dynamodb.transact_write_items = commit_with_a_retry_in_flight  # type: ignore[method-assign]
    try:
        first = _register(headers={"Idempotency-Key": "camden-0003"})
    finally:
        dynamodb.transact_write_items = real  # type: ignore[method-assign]
    [retry] = answers
    assert (first.status, first.json()) == (retry.status, retry.json())
    assert first.status == 201
    actions = [a["action"]["S"] for a in _items(aws, "AuditTable")]
    assert actions == ["register"], "one child, and no register_duplicate entry"
    assert sum(1 for i in _items(aws, "RecordsTable") if i["sk"]["S"] == "RECORD") == 1
    replayed = _register(headers={"Idempotency-Key": "camden-0003"})
    assert (replayed.status, replayed.json()) == (201, first.json())


def test_idempotency_gaps_a_retry_that_meets_the_first_requests_child_replays_it_without_a_duplicate(aws):
    """The retry read the key while the first request was in flight (nothing stored yet), and
    looked the child up after the first committed: it answers the first response, not a 409
    with a register_duplicate audit entry and a notification about its own child."""
    first = _register(headers={"Idempotency-Key": "camden-0004"})
    assert first.status == 201
    dynamodb = clients.dynamodb()
    real = dynamodb.get_item
    stale = [True]

    def read_while_the_first_was_in_flight(**kwargs: Any) -> Any:
        if stale and kwargs.get("TableName") == aws.tables["IdempotencyTable"]:
            stale.clear()
            return {}
        return real(**kwargs)

    dynamodb.get_item = read_while_the_first_was_in_flight  # type: ignore[method-assign]
    try:
        retry = _register(headers={"Idempotency-Key": "camden-0004"})
    finally:
        dynamodb.get_item = real  # type: ignore[method-assign]
    assert not stale
    assert (retry.status, retry.json()) == (201, first.json())
    assert [a["action"]["S"] for a in _items(aws, "AuditTable")] == ["register"]
    assert not [i for i in _items(aws, "RecordsTable") if i["pk"]["S"].startswith("OUTBOX#")]


def test_idempotency_gaps_a_refused_request_is_not_stored(aws):
    _register()
    duplicate = _register(who=HACKNEY, headers={"Idempotency-Key": "hackney-0001"})
    assert duplicate.status == 409
    assert "signposts" in duplicate.json()
    assert _idempotency_items(aws) == [], "errors are not stored: a retry runs again"


def test_a_failed_transaction_leaves_nothing_behind(aws, monkeypatch):
    def throttled(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
            "TransactWriteItems",
        )

    monkeypatch.setattr(clients.dynamodb(), "transact_write_items", throttled)
    resp = _register()
    assert resp.status == 500
    assert resp.header("Content-Type") == "application/problem+json"
    assert _items(aws, "RecordsTable") == []
    assert _items(aws, "AuditTable") == []


def test_update_close_and_access_log(aws):
    child_id = _register().json()["child_id"]
    _search({k: v for k, v in CHILD.items() if k != "nhs_number"}, who=HACKNEY, reason="new_to_service")
    patched = invoke(
        "records",
        make_event(
            "PATCH",
            f"/v1/children/{child_id}",
            {"categories": ["looked_after", "domestic_abuse"]},
            caller=CAMDEN,
        ),
    )
    assert patched.status == 200
    assert patched.json()["categories"] == ["looked_after", "domestic_abuse"]
    closed = invoke(
        "records",
        make_event("POST", f"/v1/children/{child_id}/close", {"reason": "plan_ended"}, caller=CAMDEN),
    )
    assert closed.json()["status"] == "closed"
    found = _search(
        {k: v for k, v in CHILD.items() if k != "nhs_number"}, who=HACKNEY, reason="new_to_service"
    )
    assert found.json()["signposts"][0]["status"] == "closed"
    log = invoke("records", make_event("GET", f"/v1/children/{child_id}/access-log", caller=CAMDEN)).json()
    assert [i["action"] for i in log["items"]] == ["search", "close", "update", "search", "register"]
    assert log["items"][0]["org"] == "E09000012"
    assert (
        invoke("records", make_event("GET", f"/v1/children/{child_id}/access-log", caller=HACKNEY)).status
        == 404
    )
    assert (
        invoke("records", make_event("GET", f"/v1/children/{child_id}/access-log", caller=AUDITOR)).status
        == 200
    )
    assert (
        invoke("records", make_event("GET", f"/v1/children/{child_id}/access-log", caller=ROYAL_FREE)).status
        == 403
    )


def test_openapi_lists_every_routed_path_and_schema(aws):
    resp = invoke("inbox", make_event("GET", "/openapi.json"))
    assert resp.status == 200
    document = resp.json()
    routes = load_routes(ROOT / "template.yaml")
    served = {(m.lower(), p) for p, ops in document["paths"].items() for m in ops}
    for route in routes.routes:
        if route.resource == "/openapi.json":
            continue
        assert (route.method.lower(), route.resource) in served, (
            f"{route.method} {route.resource} not in OpenAPI"
        )
    for name in ("RegisterRequest", "SearchRequest", "SearchResult", "Problem", "Contact"):
        assert any(re.fullmatch(f"{name}(-Input|-Output)?", s) for s in document["components"]["schemas"]), (
            name
        )


def test_health_needs_no_token(aws):
    resp = invoke("inbox", make_event("GET", "/health"))
    assert resp.status == 200
    assert resp.json() == {"status": "ok"}


def test_a_change_beyond_one_transaction_is_refused_whole(aws):
    store = wiring.services().store
    changes = Changes(add_block_entries=[BlockEntry(f"{i:064x}", "child-x") for i in range(101)])
    with pytest.raises(BadRequest):
        store.commit(changes)
    assert _items(aws, "RecordsTable") == []
