"""Speed-ups that keep moto usable as the local stack's tables grow (semantics unchanged).

1. TransactWriteItems: moto backs up a table before a transaction so it can roll back,
   by deep-copying the whole table once per *item* that names it (a 15-item registration
   deep-copied the records table 15 times). Here only the items the transaction names are
   copied, and a cancelled transaction puts those back in place: a transaction can only
   replace, delete or change the items it names, so nothing else needs a copy.
2. Query: moto gathers and *sorts every item of the table* before it filters on the
   partition key. Here a table query looks only at its own partition, and an index
   query looks only at the items whose index partition key has the queried value (kept
   in a per-table map that every put, update, delete and rollback maintains; moto sorts
   the matching items afterwards as before).
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Iterator
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_lock = threading.RLock()
_installed = False
_MISSING = object()


class _SameTable:
    """Stands in for the `copy` module inside one transact_write_items call: moto's "backup"
    of a table is the table itself (its rollback then assigns the table to itself), and the
    items the transaction names are put back by :class:`_NamedItems` instead."""

    @staticmethod
    def deepcopy(obj: Any, memo: Any = None) -> Any:
        return obj if isinstance(obj, Table) else copy.deepcopy(obj, memo)


class _NamedItems:
    """The items one transaction names, as they were before it, to put back if it is cancelled."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]) -> None:
        self._saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName", ""))
            named = op.get("Key") or op.get("Item") or {}
            if table is None or table.hash_key_attr not in named:
                continue
            hash_value = DynamoType(named[table.hash_key_attr])
            range_value = None
            if table.range_key_attr:
                if table.range_key_attr not in named:
                    continue
                range_value = DynamoType(named[table.range_key_attr])
            current = _current(table, hash_value, range_value)
            saved = _MISSING if current is None else copy.deepcopy(current)
            self._saved.append((table, hash_value, range_value, saved))

    def restore(self) -> None:
        for table, hash_value, range_value, saved in reversed(self._saved):
            if range_value is None:
                if saved is _MISSING:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = saved
            elif saved is _MISSING:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = saved
            _reindex(table, hash_value, range_value)


def _current(table: Table, hash_value: DynamoType, range_value: DynamoType | None) -> Item | None:
    if range_value is None:
        found = table.items.get(hash_value)
        return found if isinstance(found, Item) else None
    return table.items.get(hash_value, {}).get(range_value)


# ---------------------------------------------------------------- index partitions


class _IndexMap:
    """For one table: index partition-key attribute -> value -> {(hash, range): item}.

    Built on the first index query of an attribute and kept up to date by every write.
    `items` is the table's item dict it was built from: a table whose dict was replaced
    (restored from a backup) is mapped again from scratch.
    """

    def __init__(self, table: Table) -> None:
        self.items = table.items
        self.by_attr: dict[str, dict[DynamoType, dict[tuple[Any, Any], Item]]] = {}
        self.where: dict[str, dict[tuple[Any, Any], DynamoType]] = {}

    def build(self, table: Table, attr: str) -> None:
        buckets: dict[DynamoType, dict[tuple[Any, Any], Item]] = {}
        where: dict[tuple[Any, Any], DynamoType] = {}
        for item in _all_items(table):
            value = item.attrs.get(attr)
            if value is not None:
                item_key = (item.hash_key, item.range_key)
                buckets.setdefault(value, {})[item_key] = item
                where[item_key] = value
        self.by_attr[attr] = buckets
        self.where[attr] = where

    def update(self, item_key: tuple[Any, Any], item: Item | None) -> None:
        for attr, buckets in self.by_attr.items():
            where = self.where[attr]
            old = where.pop(item_key, None)
            if old is not None:
                bucket = buckets.get(old)
                if bucket is not None:
                    bucket.pop(item_key, None)
                    if not bucket:
                        del buckets[old]
            value = item.attrs.get(attr) if item is not None else None
            if value is not None:
                buckets.setdefault(value, {})[item_key] = item  # type: ignore[assignment]
                where[item_key] = value


def _all_items(table: Table) -> Iterator[Item]:
    for part in list(table.items.values()):
        if table.range_key_attr:
            yield from part.values()
        elif isinstance(part, Item):
            yield part


def _index_map(table: Table) -> _IndexMap | None:
    mapped: _IndexMap | None = table.__dict__.get("_signpost_index_map")
    return mapped if mapped is not None and mapped.items is table.items else None


def _reindex(table: Table, hash_value: DynamoType, range_value: DynamoType | None) -> None:
    mapped = _index_map(table)
    if mapped is not None:
        mapped.update((hash_value, range_value), _current(table, hash_value, range_value))


def _index_candidates(table: Table, attr: str, value: DynamoType) -> list[Item]:
    mapped = _index_map(table)
    if mapped is None:
        mapped = _IndexMap(table)
        table.__dict__["_signpost_index_map"] = mapped
    if attr not in mapped.by_attr:
        mapped.build(table, attr)
    return list(mapped.by_attr[attr].get(value, {}).values())


# ---------------------------------------------------------------- installation


def install() -> None:
    global _installed  # noqa: PLW0603 - installed once per process
    with _lock:
        if _installed:
            return
        _install_transaction_speedup()
        _install_write_hooks()
        _install_query_speedup()
        _installed = True


def _install_transaction_speedup() -> None:
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        with _lock:
            named = _NamedItems(self, transact_items)
            dynamodb_models.copy = _SameTable  # type: ignore[attr-defined,assignment]
            try:
                return original(self, transact_items)
            except BaseException:
                named.restore()
                raise
            finally:
                dynamodb_models.copy = copy  # type: ignore[attr-defined]

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _install_write_hooks() -> None:
    """Every write keeps the index map (if the table has one) in step."""
    original_put, original_delete = Table.put_item, Table.delete_item
    original_update = dynamodb_models.DynamoDBBackend.update_item

    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original_put(self, *args, **kwargs)
        _reindex(self, item.hash_key, item.range_key)
        return item

    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        try:
            return original_delete(self, hash_key, range_key)
        finally:
            _reindex(self, hash_key, range_key)

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Item:
        try:
            return original_update(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None and table.hash_key_attr in key:
                range_value = (
                    DynamoType(key[table.range_key_attr])
                    if table.range_key_attr and table.range_key_attr in key
                    else None
                )
                _reindex(table, DynamoType(key[table.hash_key_attr]), range_value)

    Table.put_item = put_item  # type: ignore[method-assign]
    Table.delete_item = delete_item  # type: ignore[method-assign]
    dynamodb_models.DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


def _install_query_speedup() -> None:
    original_query = Table.query

    signature = inspect.signature(original_query)

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        index_name = arguments.get("index_name")
        conditions = arguments.get("hash_key_conditions") or []
        if index_name and len(conditions) == 1:
            attr, value = conditions[0]

            def candidates() -> list[Any]:
                return _index_candidates(self, attr, value)
        elif index_name:

            def candidates() -> list[Any]:
                return list(_all_items(self))
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
