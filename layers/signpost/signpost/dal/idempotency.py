"""Idempotency table: stored responses for Idempotency-Key replays (TTL `expiration`)."""

from __future__ import annotations

from typing import Any

from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.models.domain import StoredResponse


def stored_item(response: StoredResponse) -> dict[str, Any]:
    values = response.model_dump(mode="json")
    values["id"] = values.pop("key")
    return to_item(values)


class DynamoIdempotency:
    def __init__(self, table: str) -> None:
        self.table = table

    def get(self, idem_key: str) -> StoredResponse | None:
        resp = dynamodb().get_item(TableName=self.table, Key={"id": {"S": idem_key}}, ConsistentRead=True)
        if "Item" not in resp:
            return None
        values = from_item(resp["Item"])
        values["key"] = values.pop("id")
        return StoredResponse.model_validate(values)
