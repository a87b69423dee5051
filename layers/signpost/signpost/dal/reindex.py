"""What `signpost-admin reindex` reads and writes besides the records' own transactions.

Operator tooling, run with an operator's credentials: it pages through every child
record with a Scan (no function may Scan), keeps its place in a checkpoint item
(``pk=REINDEX#<job>``, ``sk=CHECKPOINT``) so that an interrupted run goes on where it
stopped, and removes the per-key index items of the layout before block items
(``CHILD#<id>`` / ``BIX#<hmac>``) once a record has its blocks.
"""

from __future__ import annotations

import json
from typing import Any

from signpost.dal.clients import dynamodb, key
from signpost.dal.records import RECORD_SK, child_from_item, child_pk
from signpost.models.domain import ChildRecord

CHECKPOINT_PREFIX = "REINDEX#"
CHECKPOINT_SK = "CHECKPOINT"
LEGACY_INDEX_PREFIX = "BIX#"
_BATCH_WRITE_LIMIT = 25


class DynamoReindexSource:
    def __init__(self, table: str) -> None:
        self.table = table

    def page(
        self, cursor: dict[str, Any] | None, limit: int
    ) -> tuple[list[ChildRecord], dict[str, Any] | None]:
        """Up to `limit` items' worth of child records, and where the next page starts (None: done)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :r",
            "ExpressionAttributeValues": {":r": {"S": RECORD_SK}},
            "Limit": limit,
            "ConsistentRead": True,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = cursor
        resp = dynamodb().scan(**kwargs)
        return [child_from_item(i) for i in resp["Items"]], resp.get("LastEvaluatedKey")

    def checkpoint(self, job: str) -> dict[str, Any] | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(CHECKPOINT_PREFIX + job, CHECKPOINT_SK), ConsistentRead=True
        )
        item = resp.get("Item")
        return json.loads(item["state"]["S"]) if item else None

    def save_checkpoint(self, job: str, state: dict[str, Any]) -> None:
        dynamodb().put_item(
            TableName=self.table,
            Item={
                **key(CHECKPOINT_PREFIX + job, CHECKPOINT_SK),
                "state": {"S": json.dumps(state, sort_keys=True)},
            },
        )

    def delete_legacy_indexes(self, child_id: str) -> int:
        """Remove the child's per-key index items of the layout before blocks; how many there were."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :bix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": child_pk(child_id)},
                ":bix": {"S": LEGACY_INDEX_PREFIX},
            },
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
        }
        keys: list[dict[str, Any]] = []
        while True:
            resp = dynamodb().query(**kwargs)
            keys.extend(resp["Items"])
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        for start in range(0, len(keys), _BATCH_WRITE_LIMIT):
            request: dict[str, Any] = {
                self.table: [{"DeleteRequest": {"Key": k}} for k in keys[start : start + _BATCH_WRITE_LIMIT]]
            }
            while request:
                request = dynamodb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        return len(keys)
