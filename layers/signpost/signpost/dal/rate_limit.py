"""Police rate windows in the records table: `RATE#<sub>` / `<hour>`, a counter with a TTL.

The counter is read before a search (to refuse early, without decrypting any
candidate) and incremented inside the search's own transaction with the
condition that it is still under the limit, which is what actually enforces it.
"""

from __future__ import annotations

from typing import Any

from signpost.dal.clients import dynamodb, key
from signpost.models.security import RateIncrement

RATE_PREFIX = "RATE#"


def rate_key(subject: str, window: str) -> dict[str, Any]:
    return key(RATE_PREFIX + subject, window)


def rate_update(table: str, increment: RateIncrement) -> dict[str, Any]:
    """The TransactWriteItems `Update` that counts one more search, while under the limit."""
    return {
        "Update": {
            "TableName": table,
            "Key": rate_key(increment.subject, increment.window),
            "UpdateExpression": "ADD #c :one SET expires_at = if_not_exists(expires_at, :exp)",
            "ConditionExpression": "attribute_not_exists(#c) OR #c < :limit",
            "ExpressionAttributeNames": {"#c": "searches"},
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":exp": {"N": str(increment.expires_at)},
                ":limit": {"N": str(increment.limit)},
            },
        }
    }


class DynamoRateLimits:
    def __init__(self, table: str) -> None:
        self.table = table

    def count(self, subject: str, window: str) -> int:
        resp = dynamodb().get_item(
            TableName=self.table,
            Key=rate_key(subject, window),
            ConsistentRead=True,
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": "searches"},
        )
        item = resp.get("Item")
        return int(item["searches"]["N"]) if item and "searches" in item else 0
