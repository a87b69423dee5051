"""Security features through the real handlers against moto (tables from template.yaml):
the police rate limit in a DynamoDB transaction, break-glass and subject access. The audit's
seals, anchors and verify-audit: tests/integration/test_audit_seals.py; other commands:
tests/integration/test_admin.py."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from signpost import wiring
from signpost.dal import clients

from infrastructure.local.aws import LocalAws
from tests.support.callers import CAMDEN, CAMDEN_MANAGER, CLINIC, HACKNEY, HACKNEY_MANAGER, POLICE
from tests.support.lambda_events import invoke, make_authorizer_event, make_event

REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {
    "given_names": "Tomasz",
    "family_name": "Adeyemi-Kowal",
    "date_of_birth": "2011-05-06",
    "sex": "male",
}
POLICE_LIMIT = 3
JUSTIFICATION = "Child brought in by ambulance out of hours; need the allocated social worker now."


def _no_scans(model: Any, **_: Any) -> None:
    if model.name == "Scan":
        raise AssertionError("the product code must never Scan a table")


@pytest.fixture
def aws() -> Iterator[LocalAws]:
    with LocalAws(extra_env={"POLICE_SEARCHES_PER_HOUR": str(POLICE_LIMIT)}) as local:
        wiring.reset_services()
        handlers = clients.dynamodb().meta.events
        handlers.register("before-call.dynamodb.*", _no_scans)
        yield local
        handlers.unregister("before-call.dynamodb.*", _no_scans)
    wiring.reset_services()


def _client() -> Any:
    return boto3.client("dynamodb", region_name="eu-west-2")


def _items(local: LocalAws, logical_id: str) -> list[dict[str, Any]]:
    """Test-only inspection of a whole table (the product never scans)."""
    return _client().scan(TableName=local.tables[logical_id])["Items"]


def _register(who=CAMDEN, **extra: Any) -> str:
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY, **extra}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=who))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def _search(who=HACKNEY, **extra: Any):
    reason = (
        {"reason": "police_enquiry", "case_reference": "CAD-77/26"}
        if who.is_police
        else {"reason": "referral"}
    )
    return invoke("search", make_event("POST", "/v1/searches", {**CHILD, **reason, **extra}, caller=who))


# ---------------------------------------------------------------------- police rate limit


def test_police_limit_is_a_conditional_sliding_window_in_the_search_transaction(aws):
    _register()
    for _ in range(POLICE_LIMIT):
        assert _search(POLICE).status == 200
    refused = _search(POLICE)
    assert refused.status == 429
    assert refused.header("Content-Type") == "application/problem+json"
    retry_after = int(refused.header("Retry-After") or "0")
    assert 1 <= retry_after <= 3600
    [window] = [i for i in _items(aws, "RecordsTable") if i["pk"]["S"].startswith("RATE#")]
    assert (window["pk"]["S"], window["sk"]["S"]) == ("RATE#E23000001#mps-officer-1", "WINDOW")
    assert len(window["searches"]["L"]) == POLICE_LIMIT
    assert window["version"]["N"] == str(POLICE_LIMIT)
    assert int(window["expires_at"]["N"]) > dt.datetime.now(dt.UTC).timestamp()
    searches = [a for a in _items(aws, "AuditTable") if a["pk"]["S"].startswith("SEARCH#")]
    assert len(searches) == POLICE_LIMIT  # the refused search left no audit entry


def test_refused_police_requests_are_not_counted(aws):
    _register()
    for _ in range(POLICE_LIMIT + 2):
        assert _search(POLICE, reason="referral").status == 400
        assert _search(POLICE, case_reference=None).status == 400
    assert not [i for i in _items(aws, "RecordsTable") if i["pk"]["S"].startswith("RATE#")]
    for _ in range(POLICE_LIMIT):
        assert _search(POLICE).status == 200


def test_every_police_search_notifies_the_responsible_la(aws):
    _register()
    _search(POLICE)
    outbox = [i for i in _items(aws, "RecordsTable") if i["pk"]["S"].startswith("OUTBOX#")]
    assert [(i["type"]["S"], i["to_org"]["S"], i["from_org"]["S"]) for i in outbox] == [
        ("record_viewed", "E09000007", "E23000001")
    ]
    [signpost] = _search(POLICE).json()["signposts"]
    assert "categories" not in signpost


# ---------------------------------------------------------------------- break-glass


def _break_glass(search_id: str, who=HACKNEY_MANAGER, justification: str = JUSTIFICATION):
    event = make_event(
        "POST", f"/v1/searches/{search_id}/break-glass", {"justification": justification}, caller=who
    )
    return invoke("search", event)


def test_break_glass_reveals_audits_for_review_and_alerts_in_one_transaction(aws):
    child_id = _register(CAMDEN_MANAGER, shielding={"reason": "witness_protection"})
    search = _search(HACKNEY).json()
    assert search["signposts"][0].get("child_id") is None
    resp = _break_glass(search["search_id"])
    assert resp.status == 200, resp.json()
    [signpost] = resp.json()["signposts"]
    assert (signpost["child_id"], signpost["categories"]) == (child_id, ["child_in_need"])
    audit = [a for a in _items(aws, "AuditTable") if a.get("action", {}).get("S") == "break_glass"]
    assert sorted(a["pk"]["S"] for a in audit) == sorted(
        [f"CHILD#{child_id}", f"SEARCH#{search['search_id']}"]
    )
    assert all(a["review"]["BOOL"] for a in audit)
    alerts = [i for i in _items(aws, "RecordsTable") if i.get("type", {}).get("S") == "break_glass_used"]
    assert [(a["to_org"]["S"], a["child_id"]["S"]) for a in alerts] == [("E09000007", child_id)]


def test_break_glass_refusals(aws):
    _register(CAMDEN_MANAGER, shielding={"reason": "refuge"})
    search_id = _search(HACKNEY).json()["search_id"]
    assert _break_glass(search_id, who=HACKNEY).status == 403
    assert _break_glass(search_id, who=POLICE).status == 403
    assert _break_glass(search_id, who=CAMDEN_MANAGER).status == 404
    assert _break_glass("no-such-search").status == 404
    assert _break_glass(search_id, justification="too short").status == 400
    assert _break_glass(search_id, justification="x" * 501).status == 400
    extra = make_event(
        "POST",
        f"/v1/searches/{search_id}/break-glass",
        {"justification": JUSTIFICATION, "review": False},
        caller=HACKNEY_MANAGER,
    )
    assert invoke("search", extra).status == 400
    assert not [i for i in _items(aws, "RecordsTable") if i.get("type", {}).get("S") == "break_glass_used"]


# ---------------------------------------------------------------------- subject access


def _report(child_id: str, who=CAMDEN_MANAGER):
    event = make_event("GET", f"/v1/children/{child_id}/subject-access-report", caller=who)
    return invoke("records", event)


def test_subject_access_report_is_complete_and_redacted(aws):
    child_id = _register()
    _search(CLINIC, reason="emergency_care")
    _search(POLICE)
    resp = _report(child_id)
    assert resp.status == 200, resp.json()
    body = resp.json()
    assert body["child"]["given_names"] == "Tomasz"
    assert [e["org"] for e in body["access_log"]] == [
        "E09000007",
        "E23000001",
        "a health service",
        "E09000007",
    ]
    text = json.dumps(body)
    assert "RAL-SH1" not in text
    assert "Sexual Health" not in text
    assert _report(child_id, who=CAMDEN).status == 403
    assert _report(child_id, who=HACKNEY_MANAGER).status == 404
    assert _report("no-such-child").status == 404


def test_no_trace_of_a_sensitive_service_outside_the_audit_table(aws):
    _register()
    _search(CLINIC, reason="emergency_care")
    outside = json.dumps(_items(aws, "RecordsTable") + _items(aws, "IdempotencyTable"), default=repr)
    assert "a health service" in outside
    for trace in ("RAL-SH1", "clinic-nurse-1"):
        assert trace not in outside
    assert "RAL-SH1" in json.dumps(_items(aws, "AuditTable"))  # only the audit keeps it


# ---------------------------------------------------------------------- logs of a clinic's search


def _records(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record with all its structured fields (Powertools puts them in `extra`)."""
    return json.dumps([r.__dict__ for r in caplog.records], default=str)


def test_the_search_function_logs_nothing_that_names_a_clinic(aws, capfd, caplog):
    _register()
    capfd.readouterr()
    assert _search(CLINIC, reason="emergency_care").status == 200
    out, err = capfd.readouterr()
    text = out + err + _records(caplog)
    assert "Search_match" in text  # the function's output (EMF metrics) was captured
    for trace in ("RAL-SH1", "clinic-nurse-1", "Sexual Health", "Tomasz", "Adeyemi", "2011-05-06"):
        assert trace not in text, trace


def test_the_authorizer_log_never_names_a_sensitive_service(aws, capfd, caplog):
    token = aws.tokens.issue_token("RAL-SH1", "health", "clinic-nurse-1")
    capfd.readouterr()
    policy = invoke("authorizer", make_authorizer_event("POST", "/v1/searches", token=token))
    out, err = capfd.readouterr()
    text = out + err + _records(caplog)
    assert "authorizer decision" in text
    assert policy["context"]["shown_org"] == "a health service"
    assert "RAL-SH1" not in text


# ---------------------------------------------------------------------- ids of any shape


LONG_IDS = ("a" * 65, "b" * 129, "c" * 2000, "é" * 300)
ID_ROUTES = [
    ("records", "GET", "/v1/children/{id}", CAMDEN, None),
    ("records", "PATCH", "/v1/children/{id}", CAMDEN, {"categories": ["child_in_need"]}),
    ("records", "POST", "/v1/children/{id}/close", CAMDEN, {"reason": "plan_ended"}),
    ("records", "GET", "/v1/children/{id}/access-log", CAMDEN, None),
    ("records", "GET", "/v1/children/{id}/subject-access-report", CAMDEN_MANAGER, None),
    (
        "transfers",
        "POST",
        "/v1/children/{id}/transfers",
        CAMDEN,
        {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()},
    ),
    ("transfers", "POST", "/v1/transfers/{id}/acknowledge", HACKNEY, None),
    ("transfers", "POST", "/v1/transfers/{id}/accept", HACKNEY, None),
    ("transfers", "POST", "/v1/transfers/{id}/decline", HACKNEY, {"reason": "other"}),
    ("transfers", "POST", "/v1/transfers/{id}/withdraw", CAMDEN, None),
    ("search", "POST", "/v1/searches/{id}/break-glass", HACKNEY_MANAGER, {"justification": JUSTIFICATION}),
    ("inbox", "POST", "/v1/notifications/{id}/read", CAMDEN, None),
]


@pytest.mark.parametrize(("function", "method", "template", "who", "body"), ID_ROUTES)
def test_ids_longer_than_the_limits_are_404_like_any_unknown_id(aws, function, method, template, who, body):
    """API.md: an id that does not exist, whatever its shape, is 404 - never a 400 that tells
    a prober which ids are well-formed, never a 500 from a key DynamoDB refuses."""
    unknown = invoke(function, make_event(method, template.format(id="0" * 32), body, caller=who))
    assert unknown.status == 404
    for long_id in LONG_IDS:
        answer = invoke(function, make_event(method, template.format(id=long_id), body, caller=who))
        assert answer.status == 404, (long_id[:3], answer.json())
        assert answer.json() == unknown.json()
