"""DynamoDB's limits, enforced where moto and the unit fakes are kinder.

- a transaction: at most 100 items, at most 4 MB in all, one operation per item;
- an item: at most 400 KB (attribute names count, as DynamoDB counts them);
- BatchGetItem: at most 100 keys per call.

:func:`check_transaction` takes TransactWriteItems entries as the store sends them
and raises :class:`LimitExceeded` (the rules are the product's own, signpost/dal/limits.py,
which the store applies before sending); :class:`StrictDynamoDB` applies the same checks to
every call of a botocore DynamoDB client (before moto sees it) and keeps the item
count of every transaction for tests to assert on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from signpost.dal.limits import MAX_ITEM_BYTES, item_size, violation

MAX_BATCH_GET_KEYS = 100


class LimitExceeded(AssertionError):
    """A request DynamoDB would refuse with a ValidationException."""


def check_transaction(transact_items: list[Mapping[str, Any]]) -> None:
    """The product's own check (signpost/dal/limits.py), as a test assertion."""
    found = violation(transact_items)
    if found is not None:
        raise LimitExceeded(str(found))


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
