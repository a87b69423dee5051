"""The organisation directory (DynamoDB table keyed by organisation code)."""

from __future__ import annotations

import time
from typing import Any, Protocol

from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.models.organisation import Organisation

_CACHE_SECONDS = 60.0


class DirectoryRepository(Protocol):
    def get(self, code: str) -> Organisation | None: ...
    def put(self, organisation: Organisation) -> None: ...


class DynamoDirectory:
    """Reads are cached for a minute: the directory changes rarely and every request needs it."""

    def __init__(self, table: str) -> None:
        self._table = table
        self._cache: dict[str, tuple[float, Organisation | None]] = {}

    def get(self, code: str) -> Organisation | None:
        hit = self._cache.get(code)
        now = time.monotonic()
        if hit and now - hit[0] < _CACHE_SECONDS:
            return hit[1]
        resp = dynamodb().get_item(TableName=self._table, Key={"code": {"S": code}})
        org = Organisation.model_validate(from_item(resp["Item"])) if "Item" in resp else None
        self._cache[code] = (now, org)
        return org

    def put(self, organisation: Organisation) -> None:
        dynamodb().put_item(TableName=self._table, Item=to_item(organisation.model_dump(mode="json")))
        self._cache.pop(organisation.code, None)

    def put_op(self, organisation: Organisation) -> dict[str, Any]:
        """The TransactWriteItems `Put` of an entry, for a change committed with its audit."""
        self._cache.pop(organisation.code, None)
        return {"Put": {"TableName": self._table, "Item": to_item(organisation.model_dump(mode="json"))}}
