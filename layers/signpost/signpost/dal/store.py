"""The store: the repositories logic reads from, and one transactional commit for writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.audit import DynamoAudit, audit_item
from signpost.dal.audit_heads import head_puts
from signpost.dal.clients import dynamodb, to_item, versioned_put
from signpost.dal.clock import reminder_ops
from signpost.dal.directory import DynamoDirectory
from signpost.dal.guards import DynamoGuards, nhs_guard_key
from signpost.dal.idempotency import DynamoIdempotency, completion_put
from signpost.dal.rate_limit import DynamoRateLimits, rate_update
from signpost.dal.records import DynamoRecords, child_item, index_item, index_key
from signpost.dal.transfers import DynamoTransfers, transfer_ops
from signpost.errors import BadRequest
from signpost.models.domain import Changes, CommitConflict, OutboxIntent

OUTBOX_TTL_DAYS = 14
MAX_TRANSACTION_ITEMS = 100


def outbox_item(intent: OutboxIntent) -> dict[str, Any]:
    values = intent.model_dump(mode="json")
    expires = intent.created_at + dt.timedelta(days=OUTBOX_TTL_DAYS)
    values.update(pk=f"OUTBOX#{intent.intent_id}", sk="INTENT", expires_at=int(expires.timestamp()))
    return to_item(values)


class DynamoStore:
    def __init__(self, records_table: str, audit_table: str, idempotency_table: str, directory_table: str):
        self.records = DynamoRecords(records_table)
        self.audit = DynamoAudit(audit_table)
        self.idempotency = DynamoIdempotency(idempotency_table)
        self.directory = DynamoDirectory(directory_table)
        self.guards = DynamoGuards(records_table)
        self.rate_limits = DynamoRateLimits(records_table)
        self.transfers = DynamoTransfers(records_table)

    def commit(self, changes: Changes) -> None:
        """Write everything in `changes` in one TransactWriteItems, or nothing.

        Raises CommitConflict naming the failed conditions: `version` (the record
        changed since it was read), `audit_chain` (another writer appended first),
        `nhs_guard` (an active record with this NHS number exists), `idempotency`
        (this request's claim on its Idempotency-Key was taken over), `conflict` (a police search
        window moved since it was read, or DynamoDB saw a concurrent transaction).
        """
        ops: list[tuple[str, dict[str, Any]]] = []
        rt, at = self.records.table, self.audit.table
        for record, expected in changes.put_children:
            ops.append(("version", versioned_put(rt, child_item(record), expected)))
        expires = {r.child_id: r.expires_at for r, _ in changes.put_children}
        for child_id, bix in changes.add_indexes:
            ops.append(
                (
                    "index",
                    {"Put": {"TableName": rt, "Item": index_item(child_id, bix, expires.get(child_id))}},
                )
            )
        for child_id, bix in changes.remove_indexes:
            ops.append(("index", {"Delete": {"TableName": rt, "Key": index_key(child_id, bix)}}))
        for nhs_index, child_id in changes.add_nhs_guards:
            item = {**nhs_guard_key(nhs_index), "child_id": {"S": child_id}}
            ops.append(
                (
                    "nhs_guard",
                    {
                        "Put": {
                            "TableName": rt,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                )
            )
        for nhs_index, child_id in changes.remove_nhs_guards:
            ops.append(
                (
                    "nhs_guard",
                    {
                        "Delete": {
                            "TableName": rt,
                            "Key": nhs_guard_key(nhs_index),
                            "ConditionExpression": "attribute_not_exists(pk) OR child_id = :c",
                            "ExpressionAttributeValues": {":c": {"S": child_id}},
                        }
                    },
                )
            )
        for entry in changes.audit:
            ops.append(
                (
                    "audit_chain",
                    {
                        "Put": {
                            "TableName": at,
                            "Item": audit_item(entry),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                )
            )
        # Each chain's head moves with its entries (detects removal of a chain's newest items).
        ops.extend(("audit_chain", op) for op in head_puts(rt, changes.audit))
        for intent in changes.outbox:
            ops.append(("outbox", {"Put": {"TableName": rt, "Item": outbox_item(intent)}}))
        ops.extend(("rate_limit", rate_update(rt, increment)) for increment in changes.rate_limits)
        ops.extend(transfer_ops(rt, changes))  # transfers and their clocks
        ops.extend(reminder_ops(rt, changes))
        if changes.idempotency is not None:
            # Replaces this request's claim on the key (logic/idempotency.py), if still its own.
            ops.append(("idempotency", completion_put(self.idempotency.table, changes.idempotency)))
        if not ops:
            return
        if len(ops) > MAX_TRANSACTION_ITEMS:
            # DynamoDB's limit of 100 items per transaction: possible only for a child with many
            # aliases whose identity changes at once. Refused whole, never half-written.
            raise BadRequest(
                "this change needs too many index entries at once: change fewer aliases per request",
                errors=[{"field": "other_names", "message": "too many changes in one request"}],
            )
        try:
            dynamodb().transact_write_items(TransactItems=[op for _, op in ops])  # type: ignore[misc]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            failed = {
                # A police window moved since it was read: a race to retry (reading it again), and
                # the limit itself is decided on that fresh read.
                "conflict" if ops[i][0] == "rate_limit" else ops[i][0]
                for i, r in enumerate(reasons)
                if r.get("Code") in ("ConditionalCheckFailed", "TransactionConflict")
            }
            raise CommitConflict(failed or {"conflict"}) from exc
