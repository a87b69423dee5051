"""What the notification redrive reads: the failure queue, the records table's stream, the outbox.

The failure queue holds the messages Lambda's event source mapping sends on failure (their
`DDBStreamBatchInfo` names a shard and a sequence range); the stream is read again by
sequence number (DynamoDB Streams keeps records 24 hours); the intents by their keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.clients import dynamodb, dynamodb_streams, from_item, sqs
from signpost.logic.redrive import FailedBatch, StreamUnavailable

_VISIBILITY_SECONDS = 300  # a redrive run holds its messages this long; unfinished ones reappear
_MAX_EMPTY_PAGES = 100  # a shard iterator at the head of an open shard returns empty pages


def failed_batch(receipt: str, body: str) -> FailedBatch | None:
    """A failure-queue message body (Lambda's on-failure record) -> the batch it names."""
    try:
        info = json.loads(body)["DDBStreamBatchInfo"]
        return FailedBatch(
            receipt=receipt,
            stream_arn=str(info["streamArn"]),
            shard_id=str(info["shardId"]),
            first_sequence=str(info["startSequenceNumber"]),
            last_sequence=str(info["endSequenceNumber"]),
            size=int(info.get("batchSize", 0)),
        )
    except (ValueError, KeyError, TypeError):
        return None


class SqsFailureQueue:
    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url
        self.unreadable = 0  # messages that are not on-failure records (left on the queue)

    def failed_batches(self, limit: int) -> Iterator[FailedBatch]:
        taken = 0
        while taken < limit:
            resp = sqs().receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, limit - taken),
                VisibilityTimeout=_VISIBILITY_SECONDS,
                WaitTimeSeconds=1,
            )
            messages = resp.get("Messages", [])
            if not messages:
                return
            for message in messages:
                taken += 1
                batch = failed_batch(message["ReceiptHandle"], message.get("Body", ""))
                if batch is None:
                    self.unreadable += 1
                    continue
                yield batch

    def done(self, batch: FailedBatch) -> None:
        sqs().delete_message(QueueUrl=self.queue_url, ReceiptHandle=batch.receipt)


class DynamoStreamReader:
    def records(self, stream_arn: str, shard_id: str, first: str, last: str) -> Iterator[Mapping[str, Any]]:
        try:
            iterator = dynamodb_streams().get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard_id,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=first,
            )["ShardIterator"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("TrimmedDataAccessException", "ResourceNotFoundException"):
                raise StreamUnavailable from exc
            raise
        empty = 0
        while iterator and empty < _MAX_EMPTY_PAGES:
            resp = dynamodb_streams().get_records(ShardIterator=iterator, Limit=1000)
            records = resp.get("Records", [])
            empty = 0 if records else empty + 1
            for record in records:
                sequence = str(record.get("dynamodb", {}).get("SequenceNumber", "0"))
                if int(sequence) > int(last):
                    return
                yield dict(record)
            iterator = resp.get("NextShardIterator", "")


class DynamoIntentReader:
    def __init__(self, table: str) -> None:
        self.table = table

    def intent_item(self, key: Mapping[str, Any]) -> Mapping[str, Any] | None:
        resp = dynamodb().get_item(TableName=self.table, Key=dict(key), ConsistentRead=True)
        return from_item(resp["Item"]) if "Item" in resp else None
