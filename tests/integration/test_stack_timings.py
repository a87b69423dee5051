"""The local stack's timing harness (`make load`): time per route, SDK time within it, and the
check that every outbox intent reached an inbox."""

from __future__ import annotations

import datetime as dt

import boto3

from infrastructure.local.aws import REGION
from infrastructure.local.timings import StackTimings, undelivered_intents
from tests.support.stack import running_stack

CHILD = {"given_names": "Ines", "family_name": "Kowalczyk", "date_of_birth": "2014-05-06"}


def test_time_per_route_sdk_time_within_it_and_every_intent_in_an_inbox() -> None:
    with running_stack() as stack:
        timings = StackTimings().install(stack.gateway)
        try:
            camden = stack.token("E09000007", "la_practitioner", "sw-1")
            health = stack.token("RAL", "health", "nurse-1")
            review_by = (dt.date.today() + dt.timedelta(days=90)).isoformat()
            body = {**CHILD, "categories": ["child_in_need"], "review_by": review_by}
            assert stack.request("POST", "/v1/children", body, token=camden).status_code == 201
            for _ in range(3):
                found = stack.request(
                    "POST", "/v1/searches", {**CHILD, "reason": "emergency_care"}, token=health
                )
                assert found.json()["outcome"] == "match"
        finally:
            timings.uninstall()
        routes = timings.summary()
        search = routes["POST /v1/searches"]
        assert search["requests"] == 3
        assert routes["POST /v1/children"]["requests"] == 1
        assert 0 < (search["sdk_ms"] or 0) < (search["serve_ms"] or 0)
        assert (search["sdk_calls"] or 0) >= 3  # lookup reads, the commit, the notifier's inbox write
        client = boto3.client("dynamodb", region_name=REGION)
        table = stack.aws.tables["RecordsTable"]
        assert undelivered_intents(client, table) == {"intents": 3, "in_an_inbox": 3, "lost": 0}
        client.put_item(TableName=table, Item={"pk": {"S": "OUTBOX#never-delivered"}, "sk": {"S": "INTENT"}})
        assert undelivered_intents(client, table)["lost"] == 1
