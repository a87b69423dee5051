"""The store: the repositories logic reads from, and one transactional commit for writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.audit import DynamoAudit, audit_item, cursor_puts
from signpost.dal.blocks import add_entry, bump_guard, is_full, remove_entry, set_entry
from signpost.dal.clients import dynamodb, to_item, versioned_put
from signpost.dal.clock import reminder_ops
from signpost.dal.directory import DynamoDirectory
from signpost.dal.guards import NHS_GUARD_PREFIX, DynamoGuards, nhs_guard_key
from signpost.dal.idempotency import DynamoIdempotency, response_put
from signpost.dal.limits import check_limits
from signpost.dal.rate_limit import DynamoRateLimits, rate_update
from signpost.dal.records import DynamoRecords, blocks_update, child_item
from signpost.dal.transfers import DynamoTransfers, transfer_ops
from signpost.models.domain import Changes, CommitConflict, OutboxIntent

OUTBOX_TTL_DAYS = 14
OUTBOX_PREFIX = "OUTBOX#"
__all__ = ["NHS_GUARD_PREFIX", "OUTBOX_PREFIX", "DynamoStore", "nhs_guard_key", "outbox_item"]


def outbox_item(intent: OutboxIntent) -> dict[str, Any]:
    values = intent.model_dump(mode="json")
    expires = intent.created_at + dt.timedelta(days=OUTBOX_TTL_DAYS)
    values.update(pk=f"{OUTBOX_PREFIX}{intent.intent_id}", sk="INTENT", expires_at=int(expires.timestamp()))
    return to_item(values)


class DynamoStore:
    def __init__(self, records_table: str, audit_table: str, idempotency_table: str, directory_table: str):
        self.records = DynamoRecords(records_table)
        self.audit = DynamoAudit(audit_table)
        self.idempotency = DynamoIdempotency(idempotency_table)
        self.directory = DynamoDirectory(directory_table)
        self.guard_owners = DynamoGuards(records_table)
        self.rate_limits = DynamoRateLimits(records_table)
        self.transfers = DynamoTransfers(records_table)

    def commit(self, changes: Changes) -> None:
        """Write everything in `changes` in one TransactWriteItems, or nothing.

        Raises CommitConflict naming the failed conditions: `version` (the record
        changed since it was read), `audit_chain` (another writer appended first),
        `nhs_guard` (an active record with this NHS number exists), `id_guard` (a
        registration of the same identity committed since this one read its blocks),
        `block_full` (a block holds MAX_BLOCK_ENTRIES children: see `full_blocks`),
        `block` (an entry to change is missing, or one to add is there),
        `idempotency` (the same Idempotency-Key was used concurrently), `conflict`
        (another transaction was writing the same item, or a police search window moved
        since it was read: retry).
        """
        ops = self.transaction_items(changes)
        if not ops:
            return
        check_limits(op for _, op in ops)  # DynamoDB's limits, before DynamoDB (or kinder moto) sees it
        try:
            dynamodb().transact_write_items(TransactItems=[op for _, op in ops])  # type: ignore[misc]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons: list[Any] = exc.response.get("CancellationReasons") or []
            raise _conflict(ops, reasons) from exc
        for organisation in changes.put_organisations:
            self.directory.forget(organisation.code)

    def transaction_items(self, changes: Changes) -> list[tuple[str, dict[str, Any]]]:
        """The TransactWriteItems entries for `changes`, each with the conflict reason it raises."""
        ops: list[tuple[str, dict[str, Any]]] = []
        rt, at = self.records.table, self.audit.table
        for record, expected in changes.put_children:
            ops.append(("version", versioned_put(rt, child_item(record), expected)))
        ops.extend(("version", blocks_update(rt, r, expected)) for r, expected in changes.update_blocks)
        ops.extend(("block_add", add_entry(rt, e)) for e in changes.add_block_entries)
        ops.extend(("block", set_entry(rt, e)) for e in changes.set_block_entries)
        ops.extend(("block", remove_entry(rt, e)) for e in changes.remove_block_entries)
        ops.extend(("id_guard", bump_guard(rt, g)) for g in changes.identity_guards)
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
        # A writer's cursor of each child chain (read with a search's candidates): a hint, never
        # trusted - the audit sealer keeps the heads that verify-audit checks, out of writers' reach.
        ops.extend(("audit_chain", op) for op in cursor_puts(rt, changes.audit))
        for intent in changes.outbox:
            ops.append(("outbox", {"Put": {"TableName": rt, "Item": outbox_item(intent)}}))
        ops.extend(("rate_limit", rate_update(rt, increment)) for increment in changes.rate_limits)
        ops.extend(transfer_ops(rt, changes))  # transfers and their clocks
        ops.extend(reminder_ops(rt, changes))
        # Directory entries: no condition of their own; the entry's audit chain serialises writers.
        ops.extend(("directory", self.directory.put_op(org)) for org in changes.put_organisations)
        if changes.idempotency is not None:
            # Unless another request stored a live response under the key meanwhile.
            ops.append(("idempotency", response_put(self.idempotency.table, changes.idempotency)))
        return ops


# A condition failing because another transaction held the item at that moment is a race to
# retry, not the condition itself (a counter at its limit, a guard taken).
_RACES = frozenset({"rate_limit", "block_add", "block", "id_guard", "nhs_guard"})


def _conflict(ops: list[tuple[str, dict[str, Any]]], reasons: list[dict[str, Any]]) -> CommitConflict:
    failed: set[str] = set()
    full: set[str] = set()
    for (reason, op), cancelled in zip(ops, reasons, strict=False):
        code = cancelled.get("Code")
        if code == "TransactionConflict":
            failed.add("conflict" if reason in _RACES else reason)
        elif code == "ConditionalCheckFailed":
            if reason == "block_add":
                if is_full(cancelled.get("Item")):
                    full.add(op["Update"]["Key"]["pk"]["S"].split("#", 1)[1])
                    failed.add("block_full")
                else:
                    failed.add("block")
            elif reason == "rate_limit":
                # A police window moved since it was read: a race to retry, reading it again
                # (the limit itself is decided on that fresh read, logic/rate_limit.py).
                failed.add("conflict")
            else:
                failed.add(reason)
    return CommitConflict(failed or {"conflict"}, frozenset(full))
