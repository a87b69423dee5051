"""Audit chain heads, and the offline readers that `signpost-admin verify-audit` uses.

Every append to an audit chain also moves that chain's head item in the records
table (`AUDITHEAD#<chain>` / `HEAD`: the last seq and hash), in the same
transaction and on condition that the head is where the writer read it. The
heads are what make removal of a chain's *newest* items detectable: hash links
show a changed, removed or reordered item inside a chain, but only a record kept
elsewhere shows that the chain used to be longer. The audit table itself stays
append-only (no function may update or delete there), which is why the heads do
not live in it.

The heads double as the chain registry: each carries a sparse `gsi2` key spread
over a few shards, so verification pages through them with Query, not a Scan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from signpost.dal.audit import audit_from_item
from signpost.dal.clients import dynamodb, key
from signpost.models.domain import AuditEntry
from signpost.models.security import AuditHeadRecord

HEAD_PREFIX = "AUDITHEAD#"
HEAD_SK = "HEAD"
REGISTRY_PREFIX = "AUDITHEADS#"
REGISTRY_INDEX = "gsi2"
REGISTRY_SHARDS = 16


def registry_shard(chain: str) -> str:
    digest = hashlib.sha256(chain.encode("utf-8")).digest()
    return f"{REGISTRY_PREFIX}{int.from_bytes(digest[:2], 'big') % REGISTRY_SHARDS:02d}"


def head_key(chain: str) -> dict[str, Any]:
    return key(HEAD_PREFIX + chain, HEAD_SK)


def head_put(table: str, first_seq: int, last: AuditEntry) -> dict[str, Any]:
    """The TransactWriteItems `Put` moving `last.chain`'s head from `first_seq - 1` to `last`.

    A chain's first entry needs no head yet; any later append needs the head at the
    sequence number the writer extended, so a lost race (or a deleted head) fails
    the whole transaction instead of silently re-basing the chain.
    """
    put: dict[str, Any] = {
        "TableName": table,
        "Item": {
            **head_key(last.chain),
            "seq": {"N": str(last.seq)},
            "hash": {"S": last.hash},
            "gsi2pk": {"S": registry_shard(last.chain)},
            "gsi2sk": {"S": last.chain},
        },
    }
    if first_seq == 0:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "#s = :prev"
        put["ExpressionAttributeNames"] = {"#s": "seq"}
        put["ExpressionAttributeValues"] = {":prev": {"N": str(first_seq - 1)}}
    return {"Put": put}


def head_puts(table: str, entries: list[AuditEntry]) -> list[dict[str, Any]]:
    """One head move per chain that `entries` append to."""
    first: dict[str, int] = {}
    last: dict[str, AuditEntry] = {}
    for entry in entries:
        first[entry.chain] = min(first.get(entry.chain, entry.seq), entry.seq)
        if entry.chain not in last or entry.seq > last[entry.chain].seq:
            last[entry.chain] = entry
    return [head_put(table, first[chain], last[chain]) for chain in sorted(last)]


class DynamoAuditSource:
    """Read-only access for the offline verifier (an operator's credentials, never a function's)."""

    def __init__(self, records_table: str, audit_table: str) -> None:
        self.records_table = records_table
        self.audit_table = audit_table

    def heads(self) -> Iterator[AuditHeadRecord]:
        for shard in range(REGISTRY_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.records_table,
                "IndexName": REGISTRY_INDEX,
                "KeyConditionExpression": "gsi2pk = :p",
                "ExpressionAttributeValues": {":p": {"S": f"{REGISTRY_PREFIX}{shard:02d}"}},
            }
            while True:
                resp = dynamodb().query(**kwargs)
                for item in resp["Items"]:
                    yield AuditHeadRecord(
                        chain=item["gsi2sk"]["S"], seq=int(item["seq"]["N"]), hash=item["hash"]["S"]
                    )
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def head(self, chain: str) -> AuditHeadRecord | None:
        resp = dynamodb().get_item(TableName=self.records_table, Key=head_key(chain), ConsistentRead=True)
        item = resp.get("Item")
        if not item:
            return None
        return AuditHeadRecord(chain=chain, seq=int(item["seq"]["N"]), hash=item["hash"]["S"])

    def items(self, chain: str) -> Iterator[tuple[str, str, AuditEntry]]:
        """The chain's items in key order, each with its stored (pk, sk) to check against its fields."""
        kwargs: dict[str, Any] = {
            "TableName": self.audit_table,
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

        Only the offline verifier's `--full-scan` uses this (no function role may
        Scan): it is how a chain whose head was deleted, or a chain injected
        without a head, is found.
        """
        previous = None
        kwargs: dict[str, Any] = {
            "TableName": self.audit_table,
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
