"""Idempotency table: stored responses for Idempotency-Key replays (TTL `expiration`).

A response is put in the action's own transaction on condition that the key is free or its
response has expired: DynamoDB's TTL deletes lazily, so an expired item may still be there.
"""

from __future__ import annotations

from typing import Any

from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.models.domain import StoredResponse


def stored_item(response: StoredResponse) -> dict[str, Any]:
    values = response.model_dump(mode="json")
    values["id"] = values.pop("key")
    return to_item(values)


def response_put(table: str, response: StoredResponse) -> dict[str, Any]:
    """The TransactWriteItems `Put` that stores the response, unless the key holds a live one."""
    written = response.written_at if response.written_at is not None else 0
    return {
        "Put": {
            "TableName": table,
            "Item": stored_item(response),
            "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
            "ExpressionAttributeValues": {":now": {"N": str(written)}},
        }
    }


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
