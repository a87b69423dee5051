"""What an operation asks of AWS: calls by service and API, and DynamoDB request units.

Counted with botocore event hooks on the real clients (so on moto here, and the same calls
in AWS). DynamoDB's on-demand bill is in request units, not calls, so each call is also
priced by DynamoDB's published rules, from the items it sends and gets back:

- a write is 1 WRU per KB of the item (2 in a transaction, ConditionCheck included); each
  global secondary index whose partition key the written item carries adds 1 WRU per KB of
  the projected item (an update that sets or removes an index key: 1);
- an eventually consistent read is 0.5 RRU per 4 KB (strongly consistent 1, transactional 2);
  a Query is priced on the total size of what it read, rounded up to 4 KB, once per page;
  a GetItem or a BatchGetItem key that finds nothing still costs its minimum.

Item size is DynamoDB's: attribute names plus values (numbers ~ 1 byte per 2 digits + 1).
Stream reads by the Lambda trigger are free, and are not counted. Updates are priced as
1 KB (our updated items are small); a delete as 1 WRU. These approximations are stated with
the figures; the call counts themselves are exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB adds per index entry


def template_indexes(tables: Mapping[str, str]) -> dict[str, dict[str, tuple[str, str]]]:
    """Every table's global secondary indexes, from template.yaml: table name -> index name ->
    (partition key attribute, projection type). `tables`: logical id -> table name."""
    from infrastructure.local.aws import parsed_template  # noqa: PLC0415 - only the benchmark needs it

    resources = parsed_template()["Resources"]
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for logical_id, name in tables.items():
        indexes = resources[logical_id]["Properties"].get("GlobalSecondaryIndexes") or []
        out[name] = {
            index["IndexName"]: (
                next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"),
                index["Projection"]["ProjectionType"],
            )
            for index in indexes
        }
    return out


def import_settings() -> dict[str, Any]:
    """The bulk import's settings in template.yaml: rows per batch (queue message), the worker's
    SQS mapping (messages per invocation, concurrency), memory and timeout of both functions."""
    from infrastructure.local.aws import parsed_template  # noqa: PLC0415 - only the benchmark needs it

    resources = parsed_template()["Resources"]
    worker = resources["ImportWorkerFunction"]["Properties"]
    api = resources["ImportsFunction"]["Properties"]
    (event,) = worker["Events"].values()
    return {
        "batch_rows": int(api["Environment"]["Variables"]["IMPORT_BATCH_ROWS"]),
        "batch_size": int(event["Properties"]["BatchSize"]),
        "concurrency": int(event["Properties"]["ScalingConfig"]["MaximumConcurrency"]),
        "memory_gb": int(worker["MemorySize"]) / 1024,
        "timeout_s": int(worker["Timeout"]),
        "api_memory_gb": int(api["MemorySize"]) / 1024,
    }


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "B":
        return len(inner)
    if kind == "N":
        return math.ceil(len(inner.lstrip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(math.ceil(len(n) / 2) + 1 for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(v) + 1 for k, v in inner.items())
    return 0


def item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def _write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def _index_writes(item: Mapping[str, Any], indexes: Mapping[str, tuple[str, str]]) -> int:
    units = 0
    for key_attribute, projection in indexes.values():
        if key_attribute in item:
            projected = (
                item_size(item)
                if projection == "ALL"
                else sum(item_size({k: item[k]}) for k in ("pk", "sk", key_attribute) if k in item)
            )
            units += _write_units(projected + INDEX_ENTRY_OVERHEAD)
    return units


def _update_index_writes(update: Mapping[str, Any], indexes: Mapping[str, tuple[str, str]]) -> int:
    expression = str(update.get("UpdateExpression", ""))
    names = update.get("ExpressionAttributeNames") or {}
    touched = set(expression.replace(",", " ").split()) | {names.get(w, w) for w in expression.split()}
    return sum(1 for key_attribute, _ in indexes.values() if key_attribute in touched)


def _kind(item: Mapping[str, Any]) -> str:
    """An item's kind: its partition key up to the first '#' (CHILD, OUTBOX, AUDITHEAD, ...)."""
    first = item.get("pk") or item.get("id") or item.get("code") or {}
    return str(first.get("S", "?")).split("#")[0]


class Usage:
    """Calls and request units, counted while `active`; `take()` returns and resets them."""

    def __init__(
        self,
        clients: Iterable[Any],
        indexes: Mapping[str, Mapping[str, tuple[str, str]]],
        logical: Mapping[str, str] | None = None,
    ) -> None:
        self.indexes = indexes  # table name -> its indexes
        self.logical = dict(logical or {})  # table name -> template logical id
        self.active = True
        self.calls: Counter[str] = Counter()
        self.units: Counter[str] = Counter()
        for client in clients:
            client.meta.events.register("provide-client-params.*.*", self._params)
            client.meta.events.register("after-call.*.*", self._after)

    def take(self) -> tuple[Counter[str], Counter[str]]:
        calls, units = self.calls, self.units
        self.calls, self.units = Counter(), Counter()
        return calls, units

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["usage_params"] = dict(params)

    def _after(self, model: Any, parsed: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        if not self.active:
            return
        operation, params = model.name, context.get("usage_params", {})
        service = model.service_model.service_name
        self.calls[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            self._price(operation, params, parsed)

    def _table(self, params: Mapping[str, Any]) -> str:
        name = str(params.get("TableName", ""))
        return self.logical.get(name, name)

    def _idx(self, table: str) -> Mapping[str, tuple[str, str]]:
        return self.indexes.get(table, {})

    def _price(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> None:
        u = self.units
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            u["rru"] += _read_units(item_size(parsed.get("Item") or {}), consistent)
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = parsed.get("Responses", {}).get(table, [])
                strong = bool(request.get("ConsistentRead"))
                u["rru"] += sum(_read_units(item_size(i), strong) for i in found)
                u["rru"] += max(0, len(request.get("Keys", [])) - len(found)) * _read_units(0, strong)
        elif operation == "Query":
            read = sum(item_size(i) for i in parsed.get("Items", []))
            u["rru"] += _read_units(read, consistent)
        elif operation == "TransactGetItems":
            for entry in parsed.get("Responses", []):
                u["rru"] += 2 * _read_units(item_size(entry.get("Item") or {}), True)
        elif operation == "PutItem":
            item = params.get("Item", {})
            u[f"written:Put:{self._table(params)}:{_kind(item)}"] += 1
            u["wru"] += _write_units(item_size(item))
            u["wru_index"] += _index_writes(item, self._idx(params.get("TableName", "")))
        elif operation in ("UpdateItem", "DeleteItem"):
            u["wru"] += 1
            if operation == "UpdateItem":
                u["wru_index"] += _update_index_writes(params, self._idx(params.get("TableName", "")))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((kind, body),) = entry.items()
                table = body.get("TableName", "")
                u[
                    f"written:{kind}:{self._table(body)}:{_kind(body.get('Item') or body.get('Key') or {})}"
                ] += 1
                if kind == "Put":
                    u["wru"] += 2 * _write_units(item_size(body.get("Item", {})))
                    u["wru_index"] += _index_writes(body.get("Item", {}), self._idx(table))
                else:  # Update, Delete, ConditionCheck
                    u["wru"] += 2
                    if kind == "Update":
                        u["wru_index"] += _update_index_writes(body, self._idx(table))
