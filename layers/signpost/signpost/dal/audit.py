"""Audit table: append-only hash chains (the functions may only put, get and query)."""

from __future__ import annotations

from typing import Any

from signpost.audit_chain import EMPTY, ChainHead
from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.models.domain import AuditEntry

_SEQ_WIDTH = 12


def seq_key(seq: int) -> str:
    return str(seq).zfill(_SEQ_WIDTH)


def audit_item(entry: AuditEntry) -> dict[str, Any]:
    values = entry.model_dump(mode="json")
    values.update(pk=entry.chain, sk=seq_key(entry.seq))
    return to_item(values)


def audit_from_item(item: dict[str, Any]) -> AuditEntry:
    values = from_item(item)
    values["chain"] = values.pop("pk")
    values.pop("sk", None)
    return AuditEntry.model_validate(values)


class DynamoAudit:
    def __init__(self, table: str) -> None:
        self.table = table

    def head(self, chain: str) -> ChainHead:
        resp = dynamodb().query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": chain}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ProjectionExpression="sk, #h",
            ExpressionAttributeNames={"#h": "hash"},
        )
        if not resp["Items"]:
            return EMPTY
        item = resp["Items"][0]
        return ChainHead(seq=int(item["sk"]["S"]), hash=item["hash"]["S"])

    def entries(
        self, chain: str, *, newest_first: bool = True, limit: int = 100, start_after: int | None = None
    ) -> tuple[list[AuditEntry], int | None]:
        """A page of a chain; the second value is the sequence number to continue from."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": chain}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start_after is not None:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": chain}, "sk": {"S": seq_key(start_after)}}
        resp = dynamodb().query(**kwargs)
        entries = [audit_from_item(i) for i in resp["Items"]]
        more = "LastEvaluatedKey" in resp and entries
        return entries, (entries[-1].seq if more else None)

    def get(self, chain: str, seq: int) -> AuditEntry | None:
        resp = dynamodb().get_item(
            TableName=self.table,
            Key={"pk": {"S": chain}, "sk": {"S": seq_key(seq)}},
            ConsistentRead=True,
        )
        return audit_from_item(resp["Item"]) if "Item" in resp else None
