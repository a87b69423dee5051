"""Records table: child records (one partition per child), and the blocks that find them (dal/blocks.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from signpost.audit_chain import ChainHead
from signpost.dal.audit import CURSOR_PREFIX, cursor_key
from signpost.dal.blocks import read_blocks
from signpost.dal.clients import dynamodb, from_item, key, to_item
from signpost.models.domain import BlockRead, ChildRecord

RECORD_SK = "RECORD"
CLOSED_PREFIX = "CLOSED#"  # gsi1pk of a closed record still in its blocks: the clock delists it
_BATCH_GET_LIMIT = 100


def child_pk(child_id: str) -> str:
    return f"CHILD#{child_id}"


def _gsi1pk(record: ChildRecord) -> str | None:
    if record.status == "active":
        return f"REVIEW#{record.review_by.isoformat()}"
    if record.closed_at is not None and any(record.blocks.values()):
        return f"{CLOSED_PREFIX}{record.closed_at.date().isoformat()}"
    return None


def child_item(record: ChildRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", exclude={"identity"})
    values.update(
        pk=child_pk(record.child_id),
        sk=RECORD_SK,
        identity=record.identity,
        gsi1pk=_gsi1pk(record),
        gsi1sk=child_pk(record.child_id),
    )
    return to_item(values)


def blocks_update(table: str, record: ChildRecord, expected_version: int) -> dict[str, Any]:
    """Set only the record's block list and version (and its place in the clock's index),
    on the condition that it is still the version read: nothing else of the record changes."""
    values: dict[str, Any] = {
        ":b": to_item({"b": record.blocks})["b"],
        ":nv": {"N": str(record.version)},
        ":v": {"N": str(expected_version)},
    }
    gsi1pk = _gsi1pk(record)
    if gsi1pk is None:
        expression = "SET blocks = :b, version = :nv REMOVE gsi1pk"
    else:
        expression = "SET blocks = :b, version = :nv, gsi1pk = :g"
        values[":g"] = {"S": gsi1pk}
    return {
        "Update": {
            "TableName": table,
            "Key": key(child_pk(record.child_id), RECORD_SK),
            "UpdateExpression": expression,
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": values,
        }
    }


def child_from_item(item: dict[str, Any]) -> ChildRecord:
    return ChildRecord.model_validate(from_item(item))


class DynamoRecords:
    def __init__(self, table: str) -> None:
        self.table = table

    def get_child(self, child_id: str) -> ChildRecord | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(child_pk(child_id), RECORD_SK), ConsistentRead=True
        )
        return child_from_item(resp["Item"]) if "Item" in resp else None

    def read_blocks(self, blocks: Sequence[str], guard: str | None = None) -> BlockRead:
        return read_blocks(self.table, blocks, guard)

    def get_children(self, child_ids: list[str]) -> list[ChildRecord]:
        return self.get_children_and_heads(child_ids, [])[0]

    def get_children_and_heads(
        self, child_ids: list[str], chains: Sequence[str]
    ) -> tuple[list[ChildRecord], dict[str, ChainHead]]:
        """Records and the writers' cursors of their audit chains (AUDITCURSOR items, moved by appends),
        in one BatchGetItem per 100 keys: what a search reads before it audits what it found."""
        wanted = [key(child_pk(c), RECORD_SK) for c in child_ids] + [cursor_key(c) for c in chains]
        records: list[ChildRecord] = []
        heads: dict[str, ChainHead] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            keys = wanted[start : start + _BATCH_GET_LIMIT]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = dynamodb().batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    if item["pk"]["S"].startswith(CURSOR_PREFIX):
                        chain = item["pk"]["S"].removeprefix(CURSOR_PREFIX)
                        heads[chain] = ChainHead(seq=int(item["seq"]["N"]), hash=item["hash"]["S"])
                    else:
                        records.append(child_from_item(item))
                request = resp.get("UnprocessedKeys") or {}
        return records, heads
