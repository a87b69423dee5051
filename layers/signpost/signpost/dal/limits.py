"""DynamoDB's transaction limits, checked before a transaction is sent.

DynamoDB refuses a TransactWriteItems with more than 100 actions, two actions on
the same item, an item over 400 KB, or more than 4 MB in all. moto is kinder on
some of these (it accepts more than 4 MB), so the store checks them itself before
sending; the test fakes and the strict test double (tests/support/dynamodb_limits.py)
run the same check, so no test can pass with a transaction DynamoDB would refuse.
Keys per record are capped (matching/key_scheme.py) so that no request the API
accepts comes near any of them.

Item sizes follow DynamoDB's documented rules (attribute names count; numbers are
rounded up), so the estimate never undercounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from signpost.errors import BadRequest

MAX_TRANSACTION_ITEMS = 100
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
# Key attributes of Signpost's tables (records, audit, audit heads: pk/sk; idempotency: id;
# directory: code): what names "the same item" within one transaction.
KEY_ATTRIBUTES = ("pk", "sk", "id", "code")


class TransactionLimitExceeded(Exception):
    """A transaction DynamoDB would refuse with a ValidationException (an internal error)."""

    def __init__(self, limit: str, detail: str) -> None:
        super().__init__(detail)
        self.limit = limit  # "items" | "same_item" | "item_size" | "transaction_size"


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (in its wire form, e.g. {"S": "x"})."""
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
    """What one transaction action weighs: the item it puts, or its key and the values it writes."""
    if "Item" in op:
        return item_size(op["Item"])
    values = op.get("ExpressionAttributeValues") or {}
    return item_size(op.get("Key", {})) + sum(value_size(v) for v in values.values())


def violation(actions: Iterable[Mapping[str, Any]]) -> TransactionLimitExceeded | None:
    """The first of DynamoDB's transaction limits these TransactItems break, if any."""
    actions = list(actions)
    if len(actions) > MAX_TRANSACTION_ITEMS:
        return TransactionLimitExceeded(
            "items", f"{len(actions)} items in one transaction (limit {MAX_TRANSACTION_ITEMS})"
        )
    seen: set[str] = set()
    total = 0
    for action in actions:
        ((_kind, op),) = action.items()
        if "Item" in op and item_size(op["Item"]) > MAX_ITEM_BYTES:
            size = item_size(op["Item"])
            return TransactionLimitExceeded("item_size", f"an item of {size} bytes (limit {MAX_ITEM_BYTES})")
        key = op.get("Key") or {k: v for k, v in op["Item"].items() if k in KEY_ATTRIBUTES}
        target = json.dumps([op.get("TableName"), key], sort_keys=True, default=str)
        if target in seen:
            return TransactionLimitExceeded("same_item", "two operations on one item in one transaction")
        seen.add(target)
        total += _request_bytes(op)
    if total > MAX_TRANSACTION_BYTES:
        return TransactionLimitExceeded(
            "transaction_size", f"{total} bytes in one transaction (limit {MAX_TRANSACTION_BYTES})"
        )
    return None


def check_limits(actions: Iterable[Mapping[str, Any]]) -> None:
    """Refuse, before sending, a transaction DynamoDB would refuse."""
    found = violation(actions)
    if found is None:
        return
    if found.limit == "items":
        # Possible only for a change the key cap did not foresee: refused whole, never half-written.
        raise BadRequest(
            "this change needs too many index entries at once: change fewer aliases per request",
            errors=[{"field": "other_names", "message": "too many changes in one request"}],
        ) from found
    raise found
