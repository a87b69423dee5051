"""Transfer items and their clock items in the records table.

- transfer: `TRANSFER#<id>` / `TRANSFER`; gsi1 `IN#<to_org>` and gsi2 `OUT#<from_org>`,
  both sorted by `<requested_at>#<id>`;
- clock: `TRANSFERCLOCK#<id>` / `CLOCK#acknowledge` or `CLOCK#decide`; gsi1 `DUE#<date>` while
  the clock runs; gsi2 `CLOCKS#running#<clock>`, then `CLOCKS#overdue#<clock>` once it has
  fired, until the transfer moves on (what the open and overdue transfer counts read). Clocks
  have a partition of their own so that the clock function's role can be limited to them
  (IAM `dynamodb:LeadingKeys`): it can never touch the transfer itself.

A clock item sits in the `DUE#<date>` index only while it runs: stopping it (the transfer
moved on) or firing it (the date passed, overdue raised) removes its index keys, so the
clock function finds only live clocks, and a conditional fire raises each overdue once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from signpost.dal.clients import dynamodb, from_item, key, to_item, versioned_put
from signpost.dal.cursors import decode_cursor, encode_cursor
from signpost.models.domain import Changes
from signpost.models.transfers import (
    ClockName,
    ClockUpdate,
    Direction,
    Transfer,
    TransferClock,
    TransferStatus,
)

TRANSFER_PREFIX = "TRANSFER#"
TRANSFER_SK = "TRANSFER"
CLOCK_PK_PREFIX = "TRANSFERCLOCK#"
CLOCK_SK_PREFIX = "CLOCK#"
STOPPED_CLOCK_TTL_DAYS = 30
MAX_PAGES_PER_LIST = 20  # a status filter may skip items: bound the reads of one page

_INDEX = {
    Direction.INCOMING: ("gsi1", "gsi1pk", "gsi1sk", "IN#"),
    Direction.OUTGOING: ("gsi2", "gsi2pk", "gsi2sk", "OUT#"),
}
_LIST_SK = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ#([A-Za-z0-9_-]{1,64})$")


def transfer_pk(transfer_id: str) -> str:
    return f"{TRANSFER_PREFIX}{transfer_id}"


def _timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_sort_key(transfer: Transfer) -> str:
    return f"{_timestamp(transfer.requested_at)}#{transfer.transfer_id}"


def transfer_item(transfer: Transfer) -> dict[str, Any]:
    values = transfer.model_dump(mode="json")
    sort_key = list_sort_key(transfer)
    values.update(
        pk=transfer_pk(transfer.transfer_id),
        sk=TRANSFER_SK,
        gsi1pk=f"IN#{transfer.to_org}",
        gsi1sk=sort_key,
        gsi2pk=f"OUT#{transfer.from_org}",
        gsi2sk=sort_key,
    )
    return to_item(values)


def transfer_from_item(item: dict[str, Any]) -> Transfer:
    return Transfer.model_validate(from_item(item))


def clock_pk(transfer_id: str) -> str:
    return f"{CLOCK_PK_PREFIX}{transfer_id}"


def clock_key(transfer_id: str, clock: str) -> dict[str, Any]:
    return key(clock_pk(transfer_id), CLOCK_SK_PREFIX + clock)


def clock_item(clock: TransferClock) -> dict[str, Any]:
    values = clock.model_dump(mode="json")
    values.update(
        pk=clock_pk(clock.transfer_id),
        sk=CLOCK_SK_PREFIX + clock.clock.value,
        gsi1pk=f"DUE#{clock.due.isoformat()}",
        gsi1sk=f"{clock_pk(clock.transfer_id)}#{clock.clock.value}",
        gsi2pk=clock_state_key("running", clock.clock.value),
        gsi2sk=f"{clock_pk(clock.transfer_id)}#{clock.clock.value}",
    )
    return to_item(values)


def clock_state_key(state: str, clock: str) -> str:
    """gsi2 partition of clocks by state: `running` until due, `overdue` once fired, none once stopped."""
    return f"CLOCKS#{state}#{clock}"


def _clock_update(table: str, update: ClockUpdate, marker: str, *, live_only: bool) -> dict[str, Any]:
    values = {":at": {"S": _timestamp(update.at)}}
    if live_only:  # fire: out of the DUE index, into the overdue state until the transfer moves on
        expression = f"SET {marker} = :at, gsi2pk = :overdue REMOVE gsi1pk, gsi1sk"
        values[":overdue"] = {"S": clock_state_key("overdue", update.clock.value)}
    else:  # stop: the transfer moved on; the item expires
        expires = update.at + dt.timedelta(days=STOPPED_CLOCK_TTL_DAYS)
        expression = f"SET {marker} = :at, expires_at = :exp REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk"
        values[":exp"] = {"N": str(int(expires.timestamp()))}
    op: dict[str, Any] = {
        "TableName": table,
        "Key": clock_key(update.transfer_id, update.clock.value),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": values,
    }
    if live_only:
        op["ConditionExpression"] = "attribute_exists(gsi1pk)"
    return {"Update": op}


def transfer_ops(table: str, changes: Changes) -> list[tuple[str, dict[str, Any]]]:
    """The transaction items for a Changes' transfers and clocks, each with its failure reason."""
    ops: list[tuple[str, dict[str, Any]]] = []
    for transfer, expected in changes.put_transfers:
        ops.append(("version", versioned_put(table, transfer_item(transfer), expected)))
    for clock in changes.start_clocks:
        ops.append(
            (
                "clock",
                {
                    "Put": {
                        "TableName": table,
                        "Item": clock_item(clock),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            )
        )
    ops.extend(("clock", _clock_update(table, u, "stopped_at", live_only=False)) for u in changes.stop_clocks)
    ops.extend(("clock", _clock_update(table, u, "fired_at", live_only=True)) for u in changes.fire_clocks)
    return ops


class DynamoTransfers:
    def __init__(self, table: str) -> None:
        self.table = table

    def get(self, transfer_id: str) -> Transfer | None:
        resp = dynamodb().get_item(
            TableName=self.table, Key=key(transfer_pk(transfer_id), TRANSFER_SK), ConsistentRead=True
        )
        return transfer_from_item(resp["Item"]) if "Item" in resp else None

    def page(
        self,
        org: str,
        direction: Direction,
        status: TransferStatus | None,
        limit: int,
        after: str | None,
    ) -> tuple[list[Transfer], str | None]:
        """The organisation's incoming or outgoing transfers, newest first."""
        index, pk_name, sk_name, prefix = _INDEX[direction]
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{pk_name} = :pk",
            "ExpressionAttributeValues": {":pk": {"S": prefix + org}},
            "ScanIndexForward": False,
        }
        if status is not None:
            kwargs["FilterExpression"] = "#status = :status"
            kwargs["ExpressionAttributeNames"] = {"#status": "status"}
            kwargs["ExpressionAttributeValues"][":status"] = {"S": status.value}
        if after is not None:
            sort_key = decode_cursor(after, _LIST_SK)
            transfer_id = _LIST_SK.fullmatch(sort_key).group(1)  # type: ignore[union-attr]
            kwargs["ExclusiveStartKey"] = {
                pk_name: {"S": prefix + org},
                sk_name: {"S": sort_key},
                **key(transfer_pk(transfer_id), TRANSFER_SK),
            }
        found: list[Transfer] = []
        last: dict[str, Any] | None = None
        for _ in range(MAX_PAGES_PER_LIST):
            # Limit counts items read before the filter, so a page never holds more than `limit`.
            resp = dynamodb().query(**kwargs, Limit=limit - len(found))
            found.extend(transfer_from_item(i) for i in resp["Items"])
            last = resp.get("LastEvaluatedKey")
            if last is None or len(found) >= limit:
                break
            kwargs["ExclusiveStartKey"] = last
        return found, (encode_cursor(last[sk_name]["S"]) if last else None)


def live_clocks_due(table: str, due: dt.date) -> Iterator[TransferClock]:
    """Clocks still running whose date is `due` (the clock function's query)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": f"DUE#{due.isoformat()}"}},
    }
    while True:
        resp = dynamodb().query(**kwargs)
        for item in resp["Items"]:
            yield TransferClock.model_validate(from_item(item))
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _transfers_in(table: str, partition: str) -> set[str]:
    """Transfer ids of the clocks in one gsi2 state partition (keys only are read)."""
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": "gsi2",
        "KeyConditionExpression": "gsi2pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ProjectionExpression": "pk",
    }
    found: set[str] = set()
    while True:
        resp = dynamodb().query(**kwargs)
        found.update(item["pk"]["S"].removeprefix(CLOCK_PK_PREFIX) for item in resp["Items"])
        if "LastEvaluatedKey" not in resp:
            return found
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def open_and_overdue_transfers(table: str) -> tuple[int, int]:
    """(open transfers, open transfers past a clock): every open transfer has a decide clock,
    running or overdue; it is overdue when either of its clocks has fired."""
    decide_running = _transfers_in(table, clock_state_key("running", ClockName.DECIDE.value))
    decide_overdue = _transfers_in(table, clock_state_key("overdue", ClockName.DECIDE.value))
    acknowledge_overdue = _transfers_in(table, clock_state_key("overdue", ClockName.ACKNOWLEDGE.value))
    return len(decide_running | decide_overdue), len(decide_overdue | acknowledge_overdue)
