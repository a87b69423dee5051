"""The audit heads table: seals and sealed chain heads (only the audit sealer writes here).

Items:
- seal `SEAL` / `<seq, 12 digits>`: number, time, previous seal's hash, the heads and
  tampering it seals, its MAC (audit MAC key) and hash - see signpost/audit_seal.py;
- sealed head `HEADS#<shard>` / `<chain>`: the chain's last sealed seq and hash, and the
  seal that sealed it. The chains spread over REGISTRY_SHARDS partitions, so reading every
  head is a few Queries (no Scan), and one chain's head is a GetItem.

A seal and the heads it moves are one transaction, on condition that the seal number is
new (two sealers racing: one retries) and that no head moves backwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from signpost.audit_seal import Anchor, Seal, SealedHead, Tampering
from signpost.dal.audit import DynamoAudit
from signpost.dal.audit_anchors import S3Anchors
from signpost.dal.clients import dynamodb
from signpost.logic.audit_sealer import SealConflict
from signpost.models.domain import AuditEntry

SEAL_PK = "SEAL"
REGISTRY_PREFIX = "HEADS#"
REGISTRY_SHARDS = 16
_SEQ_WIDTH = 12
_BATCH_GET_LIMIT = 100


def registry_shard(chain: str) -> str:
    number = int.from_bytes(hashlib.sha256(chain.encode("utf-8")).digest()[:2], "big") % REGISTRY_SHARDS
    return f"{REGISTRY_PREFIX}{number:02d}"


def head_key(chain: str) -> dict[str, Any]:
    return {"pk": {"S": registry_shard(chain)}, "sk": {"S": chain}}


def seal_key(seq: int) -> dict[str, Any]:
    return {"pk": {"S": SEAL_PK}, "sk": {"S": str(seq).zfill(_SEQ_WIDTH)}}


def seal_item(seal: Seal) -> dict[str, Any]:
    return {
        **seal_key(seal.seq),
        "seq": {"N": str(seal.seq)},
        "at": {"S": seal.at},
        "prev_hash": {"S": seal.prev_hash},
        "heads": {
            "L": [
                {"M": {"c": {"S": h.chain}, "s": {"N": str(h.seq)}, "h": {"S": h.hash}}} for h in seal.heads
            ]
        },
        "tampering": {
            "L": [
                {"M": {"c": {"S": t.chain}, "s": {"N": str(t.seq)}, "k": {"S": t.kind}}}
                for t in seal.tampering
            ]
        },
        "mac": {"S": seal.mac},
        "hash": {"S": seal.hash},
    }


def seal_from_item(item: dict[str, Any]) -> Seal:
    return Seal(
        seq=int(item["seq"]["N"]),
        at=item["at"]["S"],
        prev_hash=item["prev_hash"]["S"],
        heads=tuple(
            SealedHead(h["M"]["c"]["S"], int(h["M"]["s"]["N"]), h["M"]["h"]["S"]) for h in item["heads"]["L"]
        ),
        tampering=tuple(
            Tampering(t["M"]["c"]["S"], int(t["M"]["s"]["N"]), t["M"]["k"]["S"])
            for t in item["tampering"]["L"]
        ),
        mac=item["mac"]["S"],
        hash=item["hash"]["S"],
    )


def head_item(head: SealedHead, seal: int) -> dict[str, Any]:
    return {
        **head_key(head.chain),
        "seq": {"N": str(head.seq)},
        "hash": {"S": head.hash},
        "seal": {"N": str(seal)},
    }


def _head_from_item(item: dict[str, Any]) -> SealedHead:
    return SealedHead(item["sk"]["S"], int(item["seq"]["N"]), item["hash"]["S"])


class DynamoSealStore:
    """What the audit sealer reads and writes."""

    def __init__(self, table: str) -> None:
        self.table = table

    def heads(self, chains: Iterable[str]) -> dict[str, SealedHead]:
        wanted = sorted(set(chains))
        found: dict[str, SealedHead] = {}
        for start in range(0, len(wanted), _BATCH_GET_LIMIT):
            keys = [head_key(c) for c in wanted[start : start + _BATCH_GET_LIMIT]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                resp = dynamodb().batch_get_item(RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    head = _head_from_item(item)
                    found[head.chain] = head
                request = resp.get("UnprocessedKeys") or {}
        return found

    def last_seal(self) -> Seal | None:
        resp = dynamodb().query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": SEAL_PK}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        return seal_from_item(resp["Items"][0]) if resp["Items"] else None

    def commit(self, seal: Seal) -> None:
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": seal_item(seal),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        for head in seal.heads:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": head_item(head, seal.seq),
                        "ConditionExpression": "attribute_not_exists(pk) OR #s < :s",
                        "ExpressionAttributeNames": {"#s": "seq"},
                        "ExpressionAttributeValues": {":s": {"N": str(head.seq)}},
                    }
                }
            )
        try:
            dynamodb().transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise SealConflict from exc
            raise

    # the offline verifier's reads ----------------------------------------------------------
    def seals(self) -> Iterator[Seal]:
        """Every seal, oldest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": SEAL_PK}},
            "ConsistentRead": True,
        }
        while True:
            resp = dynamodb().query(**kwargs)
            yield from (seal_from_item(item) for item in resp["Items"])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def registry(self) -> Iterator[SealedHead]:
        """Every sealed head item."""
        for shard in range(REGISTRY_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": f"{REGISTRY_PREFIX}{shard:02d}"}},
                "ConsistentRead": True,
            }
            while True:
                resp = dynamodb().query(**kwargs)
                yield from (_head_from_item(item) for item in resp["Items"])
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


class DynamoAuditSource:
    """Everything the offline verifier reads (an operator's credentials, never a function's)."""

    def __init__(self, audit_table: str, heads_table: str, anchor_bucket: str) -> None:
        self._audit = DynamoAudit(audit_table)
        self._seals = DynamoSealStore(heads_table)
        self._anchors = S3Anchors(anchor_bucket) if anchor_bucket else None

    def seals(self) -> Iterator[Seal]:
        return self._seals.seals()

    def registry(self) -> Iterator[SealedHead]:
        return self._seals.registry()

    def items(self, chain: str) -> Iterator[tuple[str, str, AuditEntry]]:
        return self._audit.items(chain)

    def chains(self) -> Iterator[str]:
        return self._audit.chains()

    def anchors(self) -> Iterator[Anchor]:
        return self._anchors.versions() if self._anchors else iter(())
