"""DynamoDB's limits, enforced where moto and the unit fakes are kinder.

- a transaction: at most 100 items, at most 4 MB in all, one operation per item;
- an item: at most 400 KB (attribute names count, as DynamoDB counts them);
- BatchGetItem: at most 100 keys per call.

:func:`check_transaction` takes TransactWriteItems entries as the store sends them
and raises :class:`LimitExceeded`; :class:`StrictDynamoDB` applies the same checks to
every call of a botocore DynamoDB client (before moto sees it) and keeps the item
count of every transaction for tests to assert on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_ITEM_BYTES = 400 * 1024
MAX_BATCH_GET_KEYS = 100


class LimitExceeded(AssertionError):
    """A request DynamoDB would refuse with a ValidationException."""


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (documented rules, rounded up)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner if isinstance(inner, bytes | bytearray) else str(inner).encode("utf-8"))
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def _request_bytes(op: Mapping[str, Any]) -> int:
    """What one transaction entry weighs: the item it puts, or its key and the values it writes."""
    if "Item" in op:
        return item_size(op["Item"])
    size = item_size(op.get("Key", {}))
    values = op.get("ExpressionAttributeValues") or {}
    return size + sum(value_size(v) for v in values.values())


def check_transaction(transact_items: list[Mapping[str, Any]]) -> None:
    if len(transact_items) > MAX_TRANSACTION_ITEMS:
        raise LimitExceeded(f"{len(transact_items)} items in one transaction (limit {MAX_TRANSACTION_ITEMS})")
    total = 0
    targets: set[str] = set()
    for entry in transact_items:
        ((_, op),) = entry.items()
        if "Item" in op and item_size(op["Item"]) > MAX_ITEM_BYTES:
            raise LimitExceeded(f"an item of {item_size(op['Item'])} bytes (limit {MAX_ITEM_BYTES})")
        key = op.get("Key") or {k: v for k, v in op["Item"].items() if k in {"pk", "sk", "id", "code"}}
        target = json.dumps([op["TableName"], key], sort_keys=True, default=str)
        if target in targets:
            raise LimitExceeded("two operations on one item in one transaction")
        targets.add(target)
        total += _request_bytes(op)
    if total > MAX_TRANSACTION_BYTES:
        raise LimitExceeded(f"{total} bytes in one transaction (limit {MAX_TRANSACTION_BYTES})")


@dataclass
class StrictDynamoDB:
    """Checks every request of a botocore DynamoDB client against the limits above."""

    transactions: list[int] = field(default_factory=list)  # item count of each transaction sent

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            check_transaction(params["TransactItems"])
            self.transactions.append(len(params["TransactItems"]))
        elif model.name == "PutItem" and item_size(params["Item"]) > MAX_ITEM_BYTES:
            raise LimitExceeded(f"an item of {item_size(params['Item'])} bytes (limit {MAX_ITEM_BYTES})")
        elif model.name == "BatchGetItem":
            keys = sum(len(t["Keys"]) for t in params["RequestItems"].values())
            if keys > MAX_BATCH_GET_KEYS:
                raise LimitExceeded(f"{keys} keys in one BatchGetItem (limit {MAX_BATCH_GET_KEYS})")


@contextmanager
def strict_dynamodb(client: Any) -> Iterator[StrictDynamoDB]:
    """Enforce DynamoDB's limits on `client` while the block runs (moto enforces only some)."""
    strict = StrictDynamoDB()
    event = "provide-client-params.dynamodb.*"
    client.meta.events.register(event, strict)
    try:
        yield strict
    finally:
        client.meta.events.unregister(event, strict)
