"""A record's whole life with a frozen clock, through the real handlers on moto, judged only by
what the service shows: findable while active and for 365 days after closing, then not
findable; held until the retention period ends, then purged (DynamoDB TTL: identity and
indexes gone); and the audit outlives it: the access log and the auditor's subject access
report of a purged child stay available, and its audit chain still verifies."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from signpost import admin, wiring
from signpost.settings import get_settings

from infrastructure.local.aws import LocalAws
from infrastructure.local.stream import LocalStream
from infrastructure.local.ttl import expire
from tests.support.callers import AUDITOR, CAMDEN, CAMDEN_MANAGER, HACKNEY
from tests.support.lambda_events import invoke, make_event

IDENTITY = {"given_names": "Ines", "family_name": "Marchetti-Obi", "date_of_birth": "2013-02-27"}
NHS_NUMBER = "9434765919"
DAY = dt.timedelta(days=1)
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def stream(aws: LocalAws) -> Iterator[LocalStream]:
    feed = LocalStream(aws).install()
    yield feed
    feed.uninstall()


class Life:
    """The walk's frozen clock and what every step does through the handlers."""

    def __init__(self, aws: LocalAws, stream: LocalStream, start: dt.datetime) -> None:
        self.aws = aws
        self.stream = stream
        self.now = start

    def at(self, moment: dt.datetime) -> Life:
        self.now = moment
        wiring.services().now = lambda: moment
        return self

    def call(self, function: str, method: str, path: str, body: Any = None, who=CAMDEN) -> Any:
        response = invoke(function, make_event(method, path, body, caller=who))
        self.stream.flush(lambda event: invoke("notifier", event))
        return response

    def search(self) -> dict[str, Any]:
        response = self.call(
            "search", "POST", "/v1/searches", {**IDENTITY, "reason": "referral"}, who=HACKNEY
        )
        assert response.status == 200
        return dict(response.json())

    def clock(self) -> dict[str, Any]:
        """The scheduled clock function, as EventBridge runs it every 15 minutes."""
        event = json.loads((EVENTS / "clock-schedule.json").read_text())
        event["time"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        summary = dict(invoke("clock", event))
        self.stream.flush(lambda event: invoke("notifier", event))
        return summary

    def ttl(self) -> None:
        expire(self.aws.tables, self.now)  # what DynamoDB's TTL process does by itself
        self.stream.flush(lambda event: invoke("notifier", event))

    def items_naming(self, child_id: str) -> list[dict[str, Any]]:
        """Test-only look at the whole records table: items that still name the child."""
        client = boto3.client("dynamodb", region_name="eu-west-2")
        items = client.scan(TableName=self.aws.tables["RecordsTable"])["Items"]
        return [i for i in items if child_id in json.dumps(i)]


def _admin(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return admin.main(list(argv), out=out), out.getvalue()


def test_a_record_from_registration_to_purge(aws: LocalAws, stream: LocalStream) -> None:
    retention_days = get_settings().retention_days  # RetentionDays of the stack (7 years by default)
    registered = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    life = Life(aws, stream, registered).at(registered)
    review_by = (dt.date.today() + dt.timedelta(days=200)).isoformat()
    body = {**IDENTITY, "nhs_number": NHS_NUMBER, "categories": ["looked_after"], "review_by": review_by}
    created = life.call("records", "POST", "/v1/children", body)
    assert created.status == 201
    child_id = created.json()["child_id"]

    # active: found by another authority
    found = life.search()
    assert (found["outcome"], found["signposts"][0]["status"]) == ("match", "active")

    # closed: still found, as closed, for 365 days
    closed_at = registered + 30 * DAY
    life.at(closed_at)
    closing = life.call("records", "POST", f"/v1/children/{child_id}/close", {"reason": "plan_ended"})
    assert closing.status == 200
    life.at(closed_at + 365 * DAY - dt.timedelta(hours=1))
    found = life.search()
    assert (found["outcome"], found["signposts"][0]["status"]) == ("match", "closed")
    life.ttl()  # nothing has expired yet
    assert life.call("records", "GET", f"/v1/children/{child_id}").status == 200

    # after 365 days: no longer findable, though still held (the clock takes it out of search)
    life.at(closed_at + 366 * DAY)
    life.clock()
    gone = life.search()
    assert (gone["outcome"], gone["signposts"]) == ("no_match", [])
    life.at(closed_at + (retention_days - 1) * DAY)
    life.ttl()
    assert life.call("records", "GET", f"/v1/children/{child_id}").status == 200
    report = life.call("records", "GET", f"/v1/children/{child_id}/subject-access-report", who=CAMDEN_MANAGER)
    assert report.status == 200
    assert report.json()["purge_after"].startswith((closed_at + retention_days * DAY).date().isoformat())

    # after the retention period: purged (identity and indexes), by TTL
    life.at(closed_at + (retention_days + 1) * DAY)
    life.ttl()
    assert life.call("records", "GET", f"/v1/children/{child_id}").status == 404
    assert life.call("records", "GET", f"/v1/children/{child_id}/access-log").status == 404
    sar = life.call("records", "GET", f"/v1/children/{child_id}/subject-access-report", who=CAMDEN_MANAGER)
    assert sar.status == 404
    assert life.search()["outcome"] == "no_match"
    leftovers = life.items_naming(child_id)
    # Only the writers' audit cursor (the audit itself is in its own table), and it expires too.
    [cursor] = leftovers
    assert cursor["pk"]["S"] == f"AUDITCURSOR#CHILD#{child_id}"
    assert int(cursor["expires_at"]["N"]) <= (life.now + 30 * DAY).timestamp()
    assert not [i for i in leftovers if "identity" in i]

    # the audit outlives the record: the auditor still reads who looked, and it verifies
    log = life.call("records", "GET", f"/v1/children/{child_id}/access-log", who=AUDITOR)
    assert log.status == 200
    actions = [e["action"] for e in log.json()["items"]]
    # newest first; searches that no longer found the child are not on its log
    assert actions == ["subject_access_report", "view", "view", "search", "close", "search", "register"]
    code, out = _admin("subject-access", child_id, "--json")
    assert code == 0
    auditor_report = json.loads(out)
    assert auditor_report["record_held"] is False
    assert next(e["action"] for e in auditor_report["access_log"]) == "subject_access_report"
    for value in (*IDENTITY.values(), NHS_NUMBER):
        assert value not in out
    assert _admin("verify-audit", "--chain", f"CHILD#{child_id}")[0] == 0


def test_an_auditor_gets_404_for_a_child_that_never_existed(aws: LocalAws) -> None:
    response = invoke(
        "records", make_event("GET", "/v1/children/never-registered/access-log", caller=AUDITOR)
    )
    assert response.status == 404


def test_ttl_deletes_only_numbers_in_the_past(aws: LocalAws) -> None:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    table = aws.tables["RecordsTable"]
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    items = {
        "past": {"N": str(int(now.timestamp()) - 1)},
        "future": {"N": str(int(now.timestamp()) + 1)},
        "text": {"S": "1"},
    }
    for name, value in items.items():
        client.put_item(
            TableName=table, Item={"pk": {"S": f"T#{name}"}, "sk": {"S": "X"}, "expires_at": value}
        )
    client.put_item(TableName=table, Item={"pk": {"S": "T#none"}, "sk": {"S": "X"}})
    expire(aws.tables, now)
    left = {i["pk"]["S"] for i in client.scan(TableName=table)["Items"] if i["pk"]["S"].startswith("T#")}
    assert left == {"T#future", "T#text", "T#none"}
