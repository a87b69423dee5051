"""DynamoDB's transaction limits, checked before a transaction is sent.

DynamoDB refuses a TransactWriteItems with more than 100 actions, two actions on
the same item, an item over 400 KB, or more than 4 MB in all. moto is kinder on
some of these, so the store checks them itself before sending; the test fakes
run the same check over the same transaction items, so no test can pass on a
fake with a transaction that DynamoDB would refuse.

Item sizes follow DynamoDB's rules (attribute name lengths plus value sizes);
numbers are counted at their upper bound, so the estimate never undercounts.
"""

from __future__ import annotations

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

    def __init__(self, limit: str) -> None:
        super().__init__(f"transaction exceeds DynamoDB's limit: {limit}")
        self.limit = limit  # "same_item" | "item_size" | "transaction_size"


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (in its wire form, e.g. {"S": "x"})."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        return len(str(inner).lstrip("-").replace(".", "")) // 2 + 2
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def _target(action: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...], int]:
    """(table, key, bytes written) of one transaction action."""
    ((_kind, body),) = action.items()
    item = body.get("Item") or body.get("Key") or {}
    key = tuple(sorted((name, str(item[name])) for name in KEY_ATTRIBUTES if name in item))
    return str(body.get("TableName")), key, item_size(body["Item"]) if "Item" in body else item_size(item)


def check_limits(actions: Iterable[Mapping[str, Any]]) -> None:
    """Refuse, before sending, a transaction DynamoDB would refuse."""
    actions = list(actions)
    if len(actions) > MAX_TRANSACTION_ITEMS:
        # Possible only for a child with many aliases whose identity changes at once.
        # Refused whole, never half-written.
        raise BadRequest(
            "this change needs too many index entries at once: change fewer aliases per request",
            errors=[{"field": "other_names", "message": "too many changes in one request"}],
        )
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    total = 0
    for action in actions:
        table, key, size = _target(action)
        if (table, key) in seen:
            raise TransactionLimitExceeded("same_item")
        seen.add((table, key))
        if size > MAX_ITEM_BYTES:
            raise TransactionLimitExceeded("item_size")
        total += size
    if total > MAX_TRANSACTION_BYTES:
        raise TransactionLimitExceeded("transaction_size")
