"""The notifier handler on sample stream events against moto: inbox items exactly once, partial
batch failures reported per record, SNS failing and recovering, and SNS bodies free of PII."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.sns.models import sns_backends
from signpost.dal import clients

from infrastructure.local.aws import ACCOUNT_ID, REGION, LocalAws
from tests.integration.faults import Fault, inject
from tests.support.callers import CAMDEN, HACKNEY
from tests.support.lambda_events import invoke, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
ANNOUNCEMENT = ("You have 1 new notification in Signpost. Sign in to read them.",)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _seconds: None)


@pytest.fixture
def subscribers(aws: LocalAws) -> dict[str, str]:
    """An SQS queue per organisation, subscribed with the per-organisation filter policy."""
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    queues = {}
    for org in ("E09000007", "E09000012"):
        url = sqs.create_queue(QueueName=f"inbox-mail-{org}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=aws.topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps({"org": [org]}), "RawMessageDelivery": "true"},
        )
        queues[org] = url
    return queues


def received(url: str) -> list[str]:
    sqs = boto3.client("sqs", region_name=REGION)
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def sample() -> dict[str, Any]:
    return json.loads((EVENTS / "notifier-stream.json").read_text())


def sequence(event: dict[str, Any], index: int) -> str:
    return str(event["Records"][index]["dynamodb"]["SequenceNumber"])


def inbox_items(aws: LocalAws, org: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb", region_name=REGION)
    resp = client.query(
        TableName=aws.tables["RecordsTable"],
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"INBOX#{org}"}},
    )
    return resp["Items"]


def sent_messages(aws: LocalAws) -> list[tuple[str, str]]:
    topic = sns_backends[ACCOUNT_ID][REGION].topics[aws.topic_arn]
    return [(attrs["org"]["Value"], message) for _, message, _, attrs, _ in topic.sent_notifications]


def test_the_sample_batch_lands_in_each_inbox_and_each_org_gets_a_count(aws, subscribers):
    assert invoke("notifier", sample()) == {"batchItemFailures": []}
    [viewed] = invoke("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN)).json()["items"]
    assert viewed["type"] == "record_viewed"
    assert viewed["id"] == "20260115T090000Z-e1f2a3b4c5d64e7f8a9b0c1d2e3f4a5b"
    assert viewed["search_id"] == "9b1e4d7a2c8f4a6e8d3b5c7e9f1a2b3c"
    [requested] = invoke("inbox", make_event("GET", "/v1/notifications", caller=HACKNEY)).json()["items"]
    assert requested["type"] == "transfer_requested"
    assert requested["transfer_id"] == "5c7e9a1b3d5f4e6a8c0b2d4f6a8c0e1d"
    assert received(subscribers["E09000007"]) == list(ANNOUNCEMENT)
    assert received(subscribers["E09000012"]) == list(ANNOUNCEMENT)


def test_a_redelivered_batch_makes_no_second_inbox_item_and_no_second_message(aws, subscribers):
    event = sample()
    for _ in range(3):
        assert invoke("notifier", copy.deepcopy(event)) == {"batchItemFailures": []}
    assert len(inbox_items(aws, "E09000007")) == 1
    assert len(inbox_items(aws, "E09000012")) == 1
    assert len(sent_messages(aws)) == 2


def test_only_the_failing_record_is_reported(aws, subscribers):
    event = sample()
    hackney_only = Fault(
        "ProvisionedThroughputExceededException", times=None, when=lambda r: b"INBOX#E09000012" in r.body
    )
    with inject(clients.dynamodb(), "PutItem", hackney_only):
        response = invoke("notifier", copy.deepcopy(event))
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(event, 1)}]}
    assert len(inbox_items(aws, "E09000007")) == 1, "the other record went through"
    assert inbox_items(aws, "E09000012") == []
    # The stream retries from the failed record: it lands once; nothing else is doubled.
    assert invoke("notifier", {"Records": event["Records"][1:]}) == {"batchItemFailures": []}
    assert invoke("notifier", copy.deepcopy(event)) == {"batchItemFailures": []}
    assert len(inbox_items(aws, "E09000012")) == 1
    assert len(inbox_items(aws, "E09000007")) == 1
    assert sorted(org for org, _ in sent_messages(aws)) == ["E09000007", "E09000012"]


def test_sns_failing_keeps_each_item_once_and_the_message_goes_out_on_redelivery(aws, subscribers):
    event = sample()
    with inject(clients.sns(), "Publish", Fault("InternalError", status=500, times=None)) as fault:
        response = invoke("notifier", copy.deepcopy(event))
    assert fault.injected >= 2
    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == sorted(
        [sequence(event, 0), sequence(event, 1)]
    )
    camden, hackney = inbox_items(aws, "E09000007"), inbox_items(aws, "E09000012")
    assert (len(camden), len(hackney)) == (1, 1), "the inbox is written even though SNS is down"
    assert camden[0]["announced"] == {"BOOL": False}
    assert sent_messages(aws) == []

    assert invoke("notifier", copy.deepcopy(event)) == {"batchItemFailures": []}
    assert len(inbox_items(aws, "E09000007")) == 1
    assert len(inbox_items(aws, "E09000012")) == 1
    assert inbox_items(aws, "E09000007")[0]["announced"] == {"BOOL": True}
    assert received(subscribers["E09000007"]) == list(ANNOUNCEMENT)
    assert received(subscribers["E09000012"]) == list(ANNOUNCEMENT)
    invoke("notifier", copy.deepcopy(event))
    assert len(sent_messages(aws)) == 2, "announced once each, however often redelivered"


def test_sns_bodies_carry_nothing_about_a_child(aws, subscribers):
    event = sample()
    identifiers = set()
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        identifiers |= {v["S"] for k, v in image.items() if k not in ("type", "to_org", "sk") and "S" in v}
    invoke("notifier", event)
    messages = sent_messages(aws) + [("?", body) for url in subscribers.values() for body in received(url)]
    assert messages
    for _, body in messages:
        assert body.startswith("You have ")
        assert body.endswith("Sign in to read them.")
        for value in identifiers | {"Amelia", "Example", "2015-03-14", "9990001235", "NW1"}:
            assert value not in body


def test_records_that_are_not_intent_inserts_are_passed_over(aws):
    event = sample()
    modify = copy.deepcopy(event["Records"][0])
    modify["eventName"] = "MODIFY"
    child = copy.deepcopy(event["Records"][1])
    child["dynamodb"]["Keys"] = child["dynamodb"]["NewImage"] = {
        "pk": {"S": "CHILD#abc"},
        "sk": {"S": "RECORD"},
        "identity": {"B": "c2VjcmV0"},
    }
    assert invoke("notifier", {"Records": [modify, child]}) == {"batchItemFailures": []}
    assert inbox_items(aws, "E09000007") == []


def test_an_unreadable_intent_is_reported_for_retry_and_the_failure_destination(aws):
    event = sample()
    broken = copy.deepcopy(event["Records"][0])
    del broken["dynamodb"]["NewImage"]["to_org"]
    response = invoke("notifier", {"Records": [broken, event["Records"][1]]})
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence(event, 0)}]}
    assert len(inbox_items(aws, "E09000012")) == 1


def test_same_second_items_are_newest_first_by_stream_order_and_read_by_id(aws):
    event = sample()
    first, second = copy.deepcopy(event["Records"][0]), copy.deepcopy(event["Records"][0])
    for record, intent_id, kind, sequence in (
        (first, "aaaa0001", "transfer_acknowledged", "900000000000000000001"),
        (second, "0000ffff", "transfer_accepted", "1000000000000000000002"),
    ):
        image = record["dynamodb"]["NewImage"]
        image.update(intent_id={"S": intent_id}, type={"S": kind}, pk={"S": f"OUTBOX#{intent_id}"})
        record["dynamodb"]["Keys"]["pk"] = image["pk"]
        record["dynamodb"]["SequenceNumber"] = sequence
    assert invoke("notifier", {"Records": [first, second]}) == {"batchItemFailures": []}
    items = invoke("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN)).json()["items"]
    assert [i["type"] for i in items] == ["transfer_accepted", "transfer_acknowledged"]
    path = f"/v1/notifications/{items[1]['id']}/read"
    assert invoke("inbox", make_event("POST", path, caller=HACKNEY)).status == 404
    read = invoke("inbox", make_event("POST", path, caller=CAMDEN))
    assert read.json() == {**items[1], "read": True}
    unread = invoke("inbox", make_event("GET", "/v1/notifications", caller=CAMDEN, query={"unread": "true"}))
    assert [i["type"] for i in unread.json()["items"]] == ["transfer_accepted"]
