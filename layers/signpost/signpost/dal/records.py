"""Records table: child records and their blind-index items (one partition per child)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from signpost.dal.clients import dynamodb, from_item, key, to_item
from signpost.models.domain import ChildRecord

RECORD_SK = "RECORD"
BIX_PREFIX = "BIX#"
BLIND_INDEX_GSI = "blind-index"
_BATCH_GET_LIMIT = 100


def child_pk(child_id: str) -> str:
    return f"CHILD#{child_id}"


def child_item(record: ChildRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", exclude={"identity"})
    values.update(
        pk=child_pk(record.child_id),
        sk=RECORD_SK,
        identity=record.identity,
        gsi1pk=f"REVIEW#{record.review_by.isoformat()}" if record.status == "active" else None,
        gsi1sk=child_pk(record.child_id),
    )
    return to_item(values)


def child_from_item(item: dict[str, Any]) -> ChildRecord:
    return ChildRecord.model_validate(from_item(item))


def index_item(child_id: str, bix: str, expires_at: int | None) -> dict[str, Any]:
    return to_item({"pk": child_pk(child_id), "sk": BIX_PREFIX + bix, "bix": bix, "expires_at": expires_at})


def index_key(child_id: str, bix: str) -> dict[str, Any]:
    return key(child_pk(child_id), BIX_PREFIX + bix)


class DynamoRecords:
    def __init__(self, table: str) -> None:
        self.table = table

    def get_child(self, child_id: str) -> ChildRecord | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(child_pk(child_id), RECORD_SK), ConsistentRead=True
        )
        return child_from_item(resp["Item"]) if "Item" in resp else None

    def child_ids_for_indexes(self, indexes: Iterable[str], limit: int) -> list[str]:
        """Child ids whose blind indexes include any of `indexes`, at most `limit` of them.

        One Query per index on the keys-only GSI; each query is itself bounded.
        """
        found: dict[str, None] = {}
        for bix in sorted(set(indexes)):
            resp = dynamodb().query(
                TableName=self.table,
                IndexName=BLIND_INDEX_GSI,
                KeyConditionExpression="bix = :b",
                ExpressionAttributeValues={":b": {"S": bix}},
                Limit=limit + 1,
            )
            for item in resp["Items"]:
                found[item["pk"]["S"].removeprefix("CHILD#")] = None
            if len(found) > limit:
                break
        return list(found)[: limit + 1]

    def get_children(self, child_ids: list[str]) -> list[ChildRecord]:
        records: list[ChildRecord] = []
        for start in range(0, len(child_ids), _BATCH_GET_LIMIT):
            keys = [key(child_pk(c), RECORD_SK) for c in child_ids[start : start + _BATCH_GET_LIMIT]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = dynamodb().batch_get_item(RequestItems=request)
                records.extend(child_from_item(i) for i in resp["Responses"].get(self.table, []))
                request = resp.get("UnprocessedKeys") or {}
        return records

    def indexes_of(self, child_id: str) -> set[str]:
        indexes: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :bix)",
            "ExpressionAttributeValues": {":pk": {"S": child_pk(child_id)}, ":bix": {"S": BIX_PREFIX}},
            "ProjectionExpression": "sk",
            "ConsistentRead": True,
        }
        while True:
            resp = dynamodb().query(**kwargs)
            indexes.update(i["sk"]["S"].removeprefix(BIX_PREFIX) for i in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return indexes
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
