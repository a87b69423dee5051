"""The functions' real writes, against the template's roles: every write each function makes in a
day's work (register, correct, close, search, transfer, notify, read, clocks) is allowed by its
role's policy as template.yaml writes it, and the item families each one writes are exactly the
expected table (tests/support/item_families.py) - derived from what the code does, not assumed.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from signpost import wiring
from signpost.dal import clients
from signpost.settings import get_settings

from infrastructure.local.aws import REGION, TABLES, LocalAws
from infrastructure.local.queue import LocalQueue
from infrastructure.local.stream import AUDIT_SEALER, LocalStream
from tests.support.callers import ADMIN, BIRMINGHAM, CAMDEN, HACKNEY, POLICE
from tests.support.iam import ItemRequest, RolePolicies, expression_attributes
from tests.support.item_families import WRITERS, family_of
from tests.support.lambda_events import function_spec, invoke, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
_running: contextvars.ContextVar[str] = contextvars.ContextVar("running", default="")


def nhs_number(first_nine: str) -> str:
    """A valid NHS number (modulus 11 check digit) starting with `first_nine`."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    assert check != 10
    return f"{first_nine}{check}"


class Recorder:
    """Every item write the product's DynamoDB client sends, with the function that sent it."""

    def __init__(self, tables: dict[str, str]) -> None:
        self.logical = {name: logical for logical, name in tables.items()}
        self.writes: list[tuple[str, ItemRequest]] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = _running.get()
        if model.name == "TransactWriteItems":
            for entry in params["TransactItems"]:
                for kind, body in entry.items():
                    action = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}.get(
                        kind, "ConditionCheckItem"
                    )
                    self._record(function, action, body, None)
        elif model.name in ("PutItem", "UpdateItem", "DeleteItem"):
            self._record(function, model.name, params, params.get("ReturnValues", "NONE"))
        elif model.name == "BatchWriteItem":
            raise AssertionError("no function batch-writes")

    def _record(self, function: str, action: str, body: dict[str, Any], return_values: str | None) -> None:
        item = body.get("Item") or body["Key"]
        names = body.get("ExpressionAttributeNames")
        attributes = set(item) | expression_attributes(
            [body.get("UpdateExpression"), body.get("ConditionExpression")], names
        )
        key = item.get("pk") or item.get("id") or item.get("code")
        request = ItemRequest(
            action=f"dynamodb:{action}",
            table=self.logical[body["TableName"]],
            leading_key=next(iter(key.values())),
            attributes=frozenset(attributes),
            return_values=return_values,
        )
        self.writes.append((function, request))


def run(function: str, event: dict[str, Any]) -> Any:
    token = _running.set(function_spec(function).logical_id)
    try:
        return invoke(function, event)
    finally:
        _running.reset(token)


@pytest.fixture
def recorded() -> Iterator[tuple[LocalAws, LocalStream, Recorder]]:
    # Closed records stay findable for a day only, so the clock's run a week later delists one.
    with LocalAws(extra_env={"CLOSED_FINDABLE_DAYS": "1"}) as aws:
        wiring.reset_services()
        stream = LocalStream(aws).install()
        audit = LocalStream(aws, function=AUDIT_SEALER).install()
        recorder = Recorder(aws.tables)
        events = clients.dynamodb().meta.events
        events.register("before-parameter-build.dynamodb", recorder)
        try:
            yield aws, stream, recorder
            audit.flush(lambda event: run("audit_sealer", event))  # the sealer's writes, checked too
            assert {r.table for f, r in recorder.writes if f == "AuditSealerFunction"} == {"AuditHeadsTable"}
            policies = RolePolicies()
            refused = [(f, r) for f, r in recorder.writes if not policies.allows(f, r)]
            assert not refused, refused[:3]
        finally:
            events.unregister("before-parameter-build.dynamodb", recorder)
            audit.uninstall()
            stream.uninstall()
    wiring.reset_services()


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, resp.json()
    return resp.json()


def bulk_import(aws: LocalAws, known_elsewhere: dict[str, str]) -> None:
    """Birmingham imports its caseload (a new child, one known elsewhere, a bad row), then again
    with the new child's NHS number corrected: registration, duplicate, reject and correction."""
    queue = LocalQueue(aws)
    review = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    header = "local_id,given_names,family_name,date_of_birth,nhs_number,categories,review_by\n"
    elsewhere = ",".join(
        known_elsewhere[k] for k in ("given_names", "family_name", "date_of_birth", "nhs_number")
    )
    for nhs in (nhs_number("943476590"), nhs_number("943476594")):
        rows = (
            f"B-1,Ines,Marlowe,2013-05-06,{nhs},child_in_need,{review}\n"
            f"B-2,{elsewhere},looked_after,{review}\n"
            f"B-3,Otto,Varga,2013-02-30,,child_in_need,{review}\n"
        )
        event = make_event(
            "POST", "/v1/imports", header + rows, BIRMINGHAM, headers={"Content-Type": "text/csv"}
        )
        _ok(run("imports", event), 202)
        queue.drain(lambda event: run("import_worker", event))
    assert (queue.stats.delivered, queue.stats.retried) == (2, 0)


def _age_branch_key() -> None:
    """Back-date the active branch key (with a client of its own: not a product write)."""
    client = boto3.client("dynamodb", region_name=REGION)
    table, key = get_settings().key_store_table, {"pk": {"S": "signpost-identity"}, "sk": {"S": "ACTIVE"}}
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    client.put_item(TableName=table, Item={**item, "created_at": {"S": "2000-01-01T00:00:00+00:00"}})


def a_days_work(aws: LocalAws, stream: LocalStream) -> None:
    today = dt.date.today()
    soon = (today + dt.timedelta(days=1)).isoformat()
    later = (today + dt.timedelta(days=120)).isoformat()
    leo = {"given_names": "Leo", "family_name": "Okafor", "date_of_birth": "2014-02-11"}
    mia = {"given_names": "Mia", "family_name": "Lindqvist", "date_of_birth": "2016-10-03"}

    def register(identity: dict[str, Any], review_by: str, who: Any = CAMDEN, status: int = 201) -> Any:
        body = {**identity, "categories": ["child_in_need"], "review_by": review_by}
        headers = {"Idempotency-Key": f"key-{len(json.dumps(body))}-{who.org}"}
        return _ok(
            run("records", make_event("POST", "/v1/children", body, caller=who, headers=headers)), status
        )

    def transfer(child_id: str) -> str:
        body = {"to_org": "E09000012", "reason": "family_moved", "move_date": today.isoformat()}
        event = make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN)
        return str(_ok(run("transfers", event), 201)["transfer_id"])

    def notify() -> None:
        stream.flush(lambda event: run("notifier", event))

    leo_id = register({**leo, "nhs_number": nhs_number("943476591")}, later)["child_id"]
    register({**leo, "nhs_number": nhs_number("943476591")}, later, who=HACKNEY, status=409)
    patch = {"family_name": "Okafor-Reid", "nhs_number": nhs_number("943476587")}
    _ok(run("records", make_event("PATCH", f"/v1/children/{leo_id}", patch, caller=CAMDEN)))
    search = {**leo, "family_name": "Okafor-Reid", "reason": "police_enquiry", "case_reference": "CAD-1/26"}
    _ok(run("search", make_event("POST", "/v1/searches", search, caller=POLICE)))
    transfer_id = transfer(leo_id)
    notify()
    [note, *_] = _ok(run("inbox", make_event("GET", "/v1/notifications", caller=HACKNEY)))["items"]
    _ok(run("inbox", make_event("POST", f"/v1/notifications/{note['id']}/read", caller=HACKNEY)))
    _ok(run("transfers", make_event("POST", f"/v1/transfers/{transfer_id}/acknowledge", caller=HACKNEY)))
    _ok(run("transfers", make_event("POST", f"/v1/transfers/{transfer_id}/accept", caller=HACKNEY)))
    mia_id = register({**mia, "nhs_number": nhs_number("943476588")}, soon)["child_id"]
    transfer(mia_id)
    close = {"reason": "plan_ended"}
    closed = register({"given_names": "Ada", "family_name": "Price", "date_of_birth": "2012-01-01",
                       "nhs_number": nhs_number("943476589")}, later)["child_id"]  # fmt: skip
    transfer(closed)  # closing withdraws it: the records function stops its clocks
    _ok(run("records", make_event("POST", f"/v1/children/{closed}/close", close, caller=CAMDEN)))
    ben = {"given_names": "Ben", "family_name": "Adeyemi", "date_of_birth": "2013-05-05"}
    withdrawn = transfer(register(ben, later)["child_id"])
    _ok(run("transfers", make_event("POST", f"/v1/transfers/{withdrawn}/withdraw", caller=CAMDEN)))
    bulk_import(aws, {**leo, "family_name": "Okafor-Reid", "nhs_number": nhs_number("943476587")})
    camden = _ok(run("inbox", make_event("GET", "/v1/organisations/E09000007", caller=ADMIN)))
    camden["contact"]["phone"] = "020 7974 0000"
    _ok(run("inbox", make_event("PUT", "/v1/organisations/E09000007", camden, caller=ADMIN)))
    notify()
    # A week later: Mia's transfer clock and her review date have passed.
    at = dt.datetime.combine(today + dt.timedelta(days=7), dt.time(0, 15), tzinfo=dt.UTC)
    scheduled = json.loads((EVENTS / "clock-schedule.json").read_text())
    scheduled["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    wiring.services().now = lambda: at
    _age_branch_key()  # a year old by then: this run of the clock also rotates it
    summary = run("clock", scheduled)
    assert summary["branch_key_rotated"] is True, summary
    assert summary["transfer_overdue"] >= 2, summary
    assert summary["review_due"] >= 1, summary
    assert summary["delisted"] >= 1, summary
    notify()


def test_every_write_of_a_days_work_is_allowed_and_needs_exactly_the_expected_families(recorded):
    aws, stream, recorder = recorded
    a_days_work(aws, stream)
    policies = RolePolicies()
    refused = [(f, r) for f, r in recorder.writes if not policies.allows(f, r)]
    assert not refused, refused[:3]
    observed: dict[str, dict[str, set[str]]] = {function: {} for function in WRITERS}
    for function, request in recorder.writes:
        if request.table == "RecordsTable":
            family = family_of(str(request.leading_key))
            observed[function].setdefault(family, set()).add(request.action)
    assert observed == WRITERS


def test_the_recorder_sees_every_table(recorded):
    """The recorder is not blind: the day's work writes every table but the heads (the sealer's,
    checked as the fixture ends)."""
    aws, stream, recorder = recorded
    a_days_work(aws, stream)
    assert {r.table for _, r in recorder.writes} == set(TABLES) - {"AuditHeadsTable"}
