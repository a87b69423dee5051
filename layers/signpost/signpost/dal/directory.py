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
    """Reads are cached for a minute: the directory changes rarely and every request needs it.

    `cache_seconds=0` reads it every time (the authorizer: API Gateway already caches its answer).
    """

    def __init__(self, table: str, cache_seconds: float | None = None) -> None:
        self._table = table
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Organisation | None]] = {}

    def get(self, code: str) -> Organisation | None:
        hit = self._cache.get(code)
        now = time.monotonic()
        ttl = _CACHE_SECONDS if self._cache_seconds is None else self._cache_seconds
        if hit and now - hit[0] < ttl:
            return hit[1]
        resp = dynamodb().get_item(TableName=self._table, Key={"code": {"S": code}})
        org = Organisation.model_validate(from_item(resp["Item"])) if "Item" in resp else None
        self._cache[code] = (now, org)
        return org

    def current(self, code: str) -> Organisation | None:
        """The entry as stored now (a consistent read, bypassing the cache)."""
        resp = dynamodb().get_item(TableName=self._table, Key={"code": {"S": code}}, ConsistentRead=True)
        org = Organisation.model_validate(from_item(resp["Item"])) if "Item" in resp else None
        self._cache[code] = (time.monotonic(), org)
        return org

    def put(self, organisation: Organisation) -> None:
        """Unaudited (seeding by an operator); changes with their audit go through Store.commit."""
        dynamodb().put_item(TableName=self._table, Item=to_item(organisation.model_dump(mode="json")))
        self.forget(organisation.code)

    def put_op(self, organisation: Organisation) -> dict[str, Any]:
        """The TransactWriteItems `Put` of an entry, for a change committed with its audit."""
        self.forget(organisation.code)
        return {"Put": {"TableName": self._table, "Item": to_item(organisation.model_dump(mode="json"))}}

    def forget(self, code: str) -> None:
        self._cache.pop(code, None)
