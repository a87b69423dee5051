"""Audit table: append-only hash chains (the functions may only put, get and query), and the
stream records and full reads that the audit sealer and the offline verifier use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import ValidationError

from signpost.audit_chain import EMPTY, ChainHead
from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.logic.audit_sealer import AuditChange
from signpost.models.domain import AuditEntry

_SEQ_WIDTH = 12


def seq_key(seq: int) -> str:
    return str(seq).zfill(_SEQ_WIDTH)


# Writers' cursors: the seq and hash a child chain's newest entry had when a writer appended
# it, kept in the records table so that a search reads them with its candidates (one call) -
# a hint for the next append, never trusted (a stale or forged cursor makes the append collide
# or leave a gap, which the append's condition and the sealer catch). The heads verify-audit
# trusts are the sealer's, in the audit heads table that no writer can write.
CURSOR_PREFIX = "AUDITCURSOR#"
CURSOR_SK = "CURSOR"
CURSOR_CHAINS = ("CHILD#",)  # the chains read with other items; others are read from the audit
# A cursor expires a while after its chain's last append (TTL): one not there costs the next
# append a Query of the audit table, never correctness, and no cursor outlives its record.
CURSOR_KEPT = dt.timedelta(days=30)


def cursor_key(chain: str) -> dict[str, Any]:
    return {"pk": {"S": CURSOR_PREFIX + chain}, "sk": {"S": CURSOR_SK}}


def cursor_puts(table: str, entries: list[AuditEntry]) -> list[dict[str, Any]]:
    """One cursor Put per child chain that `entries` append to (its last entry)."""
    last: dict[str, AuditEntry] = {}
    for entry in entries:
        if entry.chain.startswith(CURSOR_CHAINS) and (
            entry.chain not in last or entry.seq > last[entry.chain].seq
        ):
            last[entry.chain] = entry
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {
                    **cursor_key(chain),
                    "seq": {"N": str(e.seq)},
                    "hash": {"S": e.hash},
                    "expires_at": {"N": str(int((e.at + CURSOR_KEPT).timestamp()))},
                },
            }
        }
        for chain, e in sorted(last.items())
    ]


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

    def items(self, chain: str) -> Iterator[tuple[str, str, AuditEntry]]:
        """The chain's items in key order, each with its stored (pk, sk) to check against its fields."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": chain}},
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        while True:
            resp = dynamodb().query(**kwargs)
            for item in resp["Items"]:
                yield item["pk"]["S"], item["sk"]["S"], audit_from_item(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def chains(self) -> Iterator[str]:
        """Every chain present in the audit table: a paginated, keys-only Scan.

        Only the offline verifier's `--full-scan` uses this (no function role may Scan): it
        is how a chain that was never sealed (the sealer missed it, or it was injected
        around the stream) is found.
        """
        previous = None
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "ProjectionExpression": "pk",
            "ConsistentRead": True,
        }
        while True:
            resp = dynamodb().scan(**kwargs)
            for item in resp["Items"]:
                chain = item["pk"]["S"]
                if chain != previous:  # a Scan returns each partition's items together
                    previous = chain
                    yield chain
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def get(self, chain: str, seq: int) -> AuditEntry | None:
        resp = dynamodb().get_item(
            TableName=self.table,
            Key={"pk": {"S": chain}, "sk": {"S": seq_key(seq)}},
            ConsistentRead=True,
        )
        return audit_from_item(resp["Item"]) if "Item" in resp else None


def audit_change(record: Mapping[str, Any]) -> AuditChange:
    """One record of the audit table's stream (NEW_AND_OLD_IMAGES) as the sealer sees it."""
    body = record.get("dynamodb") or {}
    keys = body.get("Keys") or {}
    chain = str(keys.get("pk", {}).get("S", ""))
    sk = str(keys.get("sk", {}).get("S", ""))
    seq = int(sk) if sk.isdigit() else -1
    new_image = body.get("NewImage")
    entry = None
    if new_image:
        try:
            entry = audit_from_item(dict(new_image))
        except ValidationError:
            entry = None  # not an audit entry: the sealer records it as tampering
    return AuditChange(event=str(record.get("eventName", "")), chain=chain, seq=seq, entry=entry)
