"""Bulk import: reading its items, the uploaded file in S3 and the batch messages in SQS.

The items and how a commit writes them: dal/import_items.py.
"""

from __future__ import annotations

import json
from typing import Any

from signpost.dal.clients import dynamodb, from_item, key, s3, sqs
from signpost.dal.import_items import (
    BATCH_PREFIX,
    DUP_PREFIX,
    JOB_SK,
    REJECT_PREFIX,
    batch_sk,
    import_pk,
    link_key,
    list_pk,
    ref_key,
)
from signpost.models.imports import BatchProgress, DuplicateRow, ImportJob, LocalIdLink, Reject

_BATCH_GET_LIMIT = 100
_SQS_BATCH = 10


# ---------------------------------------------------------------- reads and bookkeeping


class DynamoImports:
    def __init__(self, table: str) -> None:
        self.table = table

    def get_job(self, import_id: str) -> ImportJob | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(import_pk(import_id), JOB_SK), ConsistentRead=True
        )
        return ImportJob.model_validate(from_item(resp["Item"])) if "Item" in resp else None

    def list_jobs(self, org: str, after: str | None, limit: int) -> tuple[list[ImportJob], str | None]:
        """The organisation's imports, newest first; the second value is the sort key to go on from."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": list_pk(org)}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            kwargs["ExclusiveStartKey"] = key(list_pk(org), after)
        resp = dynamodb().query(**kwargs)
        ids = [i["import_id"]["S"] for i in resp["Items"]]
        jobs = self._jobs(ids)
        more = resp.get("LastEvaluatedKey")
        return [jobs[i] for i in ids if i in jobs], (more["sk"]["S"] if more else None)

    def _jobs(self, import_ids: list[str]) -> dict[str, ImportJob]:
        found: dict[str, ImportJob] = {}
        for start in range(0, len(import_ids), _BATCH_GET_LIMIT):
            keys = [key(import_pk(i), JOB_SK) for i in import_ids[start : start + _BATCH_GET_LIMIT]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = dynamodb().batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    job = ImportJob.model_validate(from_item(item))
                    found[job.import_id] = job
                request = resp.get("UnprocessedKeys") or {}
        return found

    def _query(
        self, import_id: str, prefix: str, after: str | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": import_pk(import_id)}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
        }
        if after:
            kwargs["ExclusiveStartKey"] = key(import_pk(import_id), after)
        items: list[dict[str, Any]] = []
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            resp = dynamodb().query(**kwargs)
            items.extend(from_item(i) for i in resp["Items"])
            more = resp.get("LastEvaluatedKey")
            if not more or (limit is not None and len(items) >= limit):
                return items, (more["sk"]["S"] if more else None)
            kwargs["ExclusiveStartKey"] = more

    def batches(self, import_id: str) -> list[BatchProgress]:
        items, _ = self._query(import_id, BATCH_PREFIX, None, None)
        return [_progress(i) for i in items]

    def get_batch(self, import_id: str, batch: int) -> BatchProgress | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(import_pk(import_id), batch_sk(batch)), ConsistentRead=True
        )
        return _progress(from_item(resp["Item"])) if "Item" in resp else None

    def rejects(self, import_id: str, after: str | None, limit: int) -> tuple[list[Reject], str | None]:
        items, more = self._query(import_id, REJECT_PREFIX, after, limit)
        return [Reject.model_validate(i) for i in items], (str(items[-1]["sk"]) if more and items else None)

    def duplicates(
        self, import_id: str, after: str | None, limit: int
    ) -> tuple[list[DuplicateRow], str | None]:
        items, more = self._query(import_id, DUP_PREFIX, after, limit)
        rows = [
            DuplicateRow.model_validate({**i, "signposts": json.loads(str(i["signposts"]))}) for i in items
        ]
        return rows, (str(items[-1]["sk"]) if more and items else None)

    def links(self, local_keys: list[str]) -> dict[str, LocalIdLink]:
        found: dict[str, LocalIdLink] = {}
        unique = list(dict.fromkeys(local_keys))
        for start in range(0, len(unique), _BATCH_GET_LIMIT):
            keys = [link_key(k) for k in unique[start : start + _BATCH_GET_LIMIT]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = dynamodb().batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    link = LocalIdLink.model_validate(from_item(item))
                    found[link.key] = link
                request = resp.get("UnprocessedKeys") or {}
        return found

    def link_of_child(self, child_id: str) -> str | None:
        """The local_id key that the child's record is linked to, if an import registered or linked it."""
        resp = dynamodb().get_item(TableName=self.table, Key=ref_key(child_id), ConsistentRead=True)
        return str(resp["Item"]["local_key"]["S"]) if "Item" in resp else None

    def mark_enqueued(self, import_id: str, at: str) -> None:
        dynamodb().update_item(
            TableName=self.table,
            Key=key(import_pk(import_id), JOB_SK),
            UpdateExpression="SET enqueued_at = :at",
            ExpressionAttributeValues={":at": {"S": at}},
        )

    def mark_completed(self, import_id: str, at: str) -> bool:
        """Record the completion once; False if it was already recorded."""
        try:
            dynamodb().update_item(
                TableName=self.table,
                Key=key(import_pk(import_id), JOB_SK),
                UpdateExpression="SET completed_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(completed_at)",
                ExpressionAttributeValues={":at": {"S": at}},
            )
        except dynamodb().exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_failed(self, import_id: str, batch: int, expires_at: int | None) -> None:
        """The batch gave up (its last delivery failed): the import reports `failed`."""
        values: dict[str, Any] = {":yes": {"BOOL": True}}
        expression = "SET failed = :yes"
        if expires_at is not None:
            expression += ", expires_at = :expires"
            values[":expires"] = {"N": str(expires_at)}
        dynamodb().update_item(
            TableName=self.table,
            Key=key(import_pk(import_id), batch_sk(batch)),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )


def _progress(values: dict[str, Any]) -> BatchProgress:
    return BatchProgress.model_validate(
        {**values, "batch": int(str(values["sk"]).removeprefix(BATCH_PREFIX))}
    )


class S3Uploads:
    """The uploaded files: encrypted under the platform key, deleted when the import completes
    (and by the bucket's lifecycle rule after 7 days whatever happens)."""

    def __init__(self, bucket: str, kms_key_id: str) -> None:
        self.bucket = bucket
        self.kms_key_id = kms_key_id

    def put(self, object_key: str, data: bytes) -> None:
        s3().put_object(
            Bucket=self.bucket,
            Key=object_key,
            Body=data,
            ContentType="text/csv",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.kms_key_id,
            BucketKeyEnabled=True,
        )

    def read(self, object_key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file."""
        if end <= start:
            return b""
        resp = s3().get_object(Bucket=self.bucket, Key=object_key, Range=f"bytes={start}-{end - 1}")
        data: bytes = resp["Body"].read()
        return data

    def delete(self, object_key: str) -> None:
        s3().delete_object(Bucket=self.bucket, Key=object_key)


class SqsBatches:
    """The queue of batches to import (one message per batch)."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def send(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), _SQS_BATCH):
            chunk = messages[start : start + _SQS_BATCH]
            entries = [
                {"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))}
                for i, m in enumerate(chunk)
            ]
            pending = entries
            for _ in range(3):
                resp = sqs().send_message_batch(QueueUrl=self.queue_url, Entries=pending)  # type: ignore[arg-type]
                failed = {f["Id"] for f in resp.get("Failed", [])}
                pending = [e for e in pending if e["Id"] in failed]
                if not pending:
                    break
            if pending:
                raise RuntimeError("the queue refused batch messages")
