"""Notifications the notifier gave up on are not lost: `signpost-admin redrive-notifications` reads
the failure queue's metadata-only messages, re-reads the failed batch from the stream by sequence
number and each intent by its key, and delivers it exactly once (moto; the local stream stands in
for DynamoDB Streams, with the template's retry settings and its OnFailure message shape)."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import dynamodb_backends
from signpost import admin, admin_redrive
from signpost.dal import redrive as redrive_dal
from signpost.dal.inbox import DynamoInbox
from signpost.dal.notifier import SnsAnnouncer
from signpost.logic.redrive import StreamUnavailable
from signpost.settings import reset_settings

from infrastructure.local.aws import LocalAws
from infrastructure.local.stream import LocalStream
from tests.support.callers import CAMDEN, HACKNEY, ROYAL_FREE
from tests.support.lambda_events import invoke, make_event

REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {"given_names": "Nadia", "family_name": "Okonkwo", "date_of_birth": "2012-04-04"}


def _queue_depth(aws: LocalAws) -> int:
    attributes = boto3.client("sqs", region_name="eu-west-2").get_queue_attributes(
        QueueUrl=aws.queue_urls["NotifierFailureQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _inbox(who: Any) -> list[dict[str, Any]]:
    resp = invoke("inbox", make_event("GET", "/v1/notifications", caller=who))
    return list(resp.json()["items"])


def _redrive(stream: LocalStream, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    args = argparse.Namespace(max_messages=100, json="--json" in extra)
    return admin_redrive.run(args, out, streams=stream), out.getvalue()


def _notifications_that_fail(stream: LocalStream, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Activity whose notifications the notifier cannot deliver: SNS is down for Camden's
    announcement, and Hackney's inbox refuses writes, through every retry."""
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    child_id = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN)).json()["child_id"]
    real_add, real_announce = DynamoInbox.add, SnsAnnouncer.announce

    def add(self: DynamoInbox, item: Any) -> Any:
        if item.org == "E09000012":
            raise ConnectionError("injected: inbox unavailable")
        return real_add(self, item)

    def announce(self: SnsAnnouncer, org: str, text: str) -> None:
        if org == "E09000007":
            raise ConnectionError("injected: SNS unavailable")
        real_announce(self, org, text)

    monkeypatch.setattr(DynamoInbox, "add", add)
    monkeypatch.setattr(SnsAnnouncer, "announce", announce)
    search = {**CHILD, "reason": "emergency_care"}
    assert invoke("search", make_event("POST", "/v1/searches", search, caller=ROYAL_FREE)).status == 200
    move = {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()}
    event = make_event("POST", f"/v1/children/{child_id}/transfers", move, caller=CAMDEN)
    assert invoke("transfers", event).status == 201
    stream.flush(lambda event: invoke("notifier", event))
    monkeypatch.setattr(DynamoInbox, "add", real_add)
    monkeypatch.setattr(SnsAnnouncer, "announce", real_announce)
    return [child_id]


def test_lost_notifications_are_redriven_exactly_once(aws, stream, monkeypatch):
    _notifications_that_fail(stream, monkeypatch)
    assert stream.stats.set_aside, "the notifier gave up on the batch"
    # The failure queue holds metadata only: no key, no intent, nothing about a child.
    [message] = boto3.client("sqs", region_name="eu-west-2").receive_message(
        QueueUrl=aws.queue_urls["NotifierFailureQueue"], VisibilityTimeout=0
    )["Messages"]
    body = json.loads(message["Body"])
    assert set(body["DDBStreamBatchInfo"]) >= {
        "shardId",
        "startSequenceNumber",
        "endSequenceNumber",
        "streamArn",
    }
    assert "OUTBOX#" not in message["Body"]
    assert "Nadia" not in message["Body"]
    assert _inbox(HACKNEY) == []  # lost, until redriven
    camden_before = _inbox(CAMDEN)

    code, output = _redrive(stream)
    assert code == 0, output
    assert "message 1: shard shardId-" in output
    assert "- done" in output
    assert [n["type"] for n in _inbox(HACKNEY)] == ["transfer_requested"]
    assert len(_inbox(CAMDEN)) == len(camden_before)  # delivered before: not again
    summary = dict(part.split("=") for part in output.strip().splitlines()[-1].split(", "))
    assert (summary["delivered"], summary["already_delivered"], summary["failed"]) == ("1", "1", "0")
    assert _queue_depth(aws) == 0

    # A second run, or the same message delivered twice: nothing more in any inbox.
    assert _redrive(stream)[0] == 0
    boto3.client("sqs", region_name="eu-west-2").send_message(
        QueueUrl=aws.queue_urls["NotifierFailureQueue"], MessageBody=message["Body"]
    )
    code, output = _redrive(stream, "--json")
    assert code == 0
    assert json.loads(output.strip().splitlines()[-1])["already_delivered"] == 2
    assert [n["type"] for n in _inbox(HACKNEY)] == ["transfer_requested"]


def test_a_redrive_that_cannot_deliver_exits_non_zero_and_keeps_the_message(aws, stream, monkeypatch):
    _notifications_that_fail(stream, monkeypatch)

    def still_down(self: SnsAnnouncer, org: str, text: str) -> None:
        raise ConnectionError("injected: SNS unavailable")

    monkeypatch.setattr(SnsAnnouncer, "announce", still_down)
    code, output = _redrive(stream)
    assert code == 1
    assert "kept on the queue" in output
    assert _queue_depth(aws) == 1


def test_a_batch_older_than_the_stream_is_reported(aws, stream, monkeypatch):
    _notifications_that_fail(stream, monkeypatch)

    class Trimmed:
        def records(self, *_: Any) -> list[Any]:
            raise StreamUnavailable

    out = io.StringIO()
    args = argparse.Namespace(max_messages=100, json=False)
    assert admin_redrive.run(args, out, streams=Trimmed()) == 1  # type: ignore[arg-type]
    assert "no longer in the stream" in out.getvalue()
    assert _queue_depth(aws) == 1


def test_the_admin_command_is_wired(aws, monkeypatch):
    out = io.StringIO()
    assert admin.main(["redrive-notifications"], out=out) == 0  # an empty queue: nothing to do
    assert "messages=0" in out.getvalue()
    monkeypatch.delenv("NOTIFIER_FAILURE_QUEUE_URL")
    reset_settings()
    assert admin.main(["redrive-notifications"], out=io.StringIO()) == 2


def test_the_stream_reader_reads_a_sequence_range_from_dynamodb_streams(aws):
    """The production reader against moto's DynamoDB Streams (a table of its own)."""
    dynamodb = boto3.client("dynamodb", region_name="eu-west-2")
    table = dynamodb.create_table(
        TableName="stream-probe",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    for n in range(5):
        dynamodb.put_item(TableName="stream-probe", Item={"pk": {"S": f"OUTBOX#{n}"}, "sk": {"S": "INTENT"}})
    # (moto answers DescribeStream "not yet implemented": its one shard's id, from its model)
    moto_shard = dynamodb_backends["123456789012"]["eu-west-2"].get_table("stream-probe").stream_shard
    shard = {"ShardId": moto_shard.id}
    first = str(moto_shard.starting_sequence_number)
    all_records = list(
        redrive_dal.DynamoStreamReader().records(table["LatestStreamArn"], shard["ShardId"], first, "9" * 38)
    )
    sequences = [r["dynamodb"]["SequenceNumber"] for r in all_records]
    assert len(sequences) == 5
    middle = list(
        redrive_dal.DynamoStreamReader().records(
            table["LatestStreamArn"], shard["ShardId"], sequences[1], sequences[3]
        )
    )
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in middle] == ["OUTBOX#1", "OUTBOX#2", "OUTBOX#3"]


def test_an_unreadable_message_is_left_and_reported():
    assert redrive_dal.failed_batch("r", "not json") is None
    assert redrive_dal.failed_batch("r", json.dumps({"requestContext": {}})) is None
