"""Two speed-ups that keep moto usable as the local stack's tables grow (semantics unchanged).

1. TransactWriteItems: moto backs up a table before a transaction so it can roll back,
   by deep-copying the whole table once per *item* that names it (a 15-item registration
   deep-copied the records table 15 times). Here the backup is taken once per table, and
   only the items the transaction names are deep-copied; the others are shared, which is
   safe because a transaction can only replace, delete or change the items it names.
2. Query: moto gathers and *sorts every item of the table* before it filters on the
   partition key. Here a table query looks only at its own partition, and an index
   query skips the pre-sort (moto sorts the matching items afterwards anyway).
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections import defaultdict
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

_lock = threading.Lock()
_installed = False


class _TransactionBackup:
    """Stands in for the `copy` module inside one transact_write_items call."""

    def __init__(self, transact_items: list[dict[str, Any]]) -> None:
        self._copies: dict[int, Any] = {}
        self._named: dict[str, list[dict[str, Any]]] = {}  # table -> keys/items the transaction names
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            self._named.setdefault(op.get("TableName", ""), []).append(op.get("Key") or op.get("Item") or {})

    def deepcopy(self, obj: Any, memo: Any = None) -> Any:
        key = id(obj)
        if key not in self._copies:
            self._copies[key] = self._backup(obj) if isinstance(obj, Table) else copy.deepcopy(obj, memo)
        return self._copies[key]

    def _backup(self, table: Table) -> Table:
        backup = copy.copy(table)
        items: Any = defaultdict(dict)
        for hash_value, partition in table.items.items():
            items[hash_value] = dict(partition) if table.range_key_attr else partition
        for named in self._named.get(table.name, []):
            hash_value = DynamoType(named[table.hash_key_attr]) if table.hash_key_attr in named else None
            if hash_value is None or hash_value not in table.items:
                continue
            if table.range_key_attr:
                range_value = DynamoType(named.get(table.range_key_attr, {"NULL": True}))
                if range_value in table.items[hash_value]:
                    items[hash_value][range_value] = copy.deepcopy(table.items[hash_value][range_value])
            else:
                items[hash_value] = copy.deepcopy(table.items[hash_value])
        backup.items = items
        return backup


def install() -> None:
    global _installed  # noqa: PLW0603 - installed once per process
    with _lock:
        if _installed:
            return
        original = dynamodb_models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            with _lock:
                dynamodb_models.copy = _TransactionBackup(transact_items)  # type: ignore[attr-defined,assignment]
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
