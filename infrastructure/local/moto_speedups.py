"""Two speed-ups that keep moto usable as the local stack's tables grow (semantics unchanged).

1. TransactWriteItems: moto backs up a table before a transaction so it can roll back,
   but once per *item* that names the table (a 15-item registration deep-copied the
   records table 15 times). Here each table is copied once per transaction.
2. Query: moto gathers and *sorts every item of the table* before it filters on the
   partition key. Here a table query looks only at its own partition, and an index
   query skips the pre-sort (moto sorts the matching items afterwards anyway).
"""

from __future__ import annotations

import copy
import inspect
import threading
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.table import Table

_lock = threading.Lock()
_installed = False


class _OncePerObject:
    """Stands in for the `copy` module inside one transact_write_items call."""

    def __init__(self) -> None:
        self._copies: dict[int, Any] = {}

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        key = id(obj)
        if key not in self._copies:
            self._copies[key] = copy.deepcopy(obj, memo)
        return self._copies[key]


def install() -> None:
    global _installed  # noqa: PLW0603 - installed once per process
    with _lock:
        if _installed:
            return
        original = dynamodb_models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            with _lock:
                dynamodb_models.copy = _OncePerObject()  # type: ignore[attr-defined,assignment]
                try:
                    return original(self, transact_items)
                finally:
                    dynamodb_models.copy = copy  # type: ignore[attr-defined]

        dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _install_query_speedup()
        _installed = True


def _install_query_speedup() -> None:
    original_query = Table.query

    signature = inspect.signature(original_query)

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name")
        if index_name:

            def candidates() -> list[Any]:
                return [
                    i
                    for part in self.items.values()
                    for i in (part.values() if self.range_key_attr else [part])
                ]
        elif hash_key is not None and self.range_key_attr:

            def candidates() -> list[Any]:
                return list(self.items.get(hash_key, {}).values())
        else:
            return original_query(self, hash_key, *args, **kwargs)
        self.all_items = candidates  # type: ignore[method-assign]  # shadows the sorting method for this call
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]
