"""Police search windows in the records table: `RATE#<org>#<sub>` / `WINDOW`, with a TTL.

The item holds the times of the practitioner's searches still inside the sliding window
(`searches`, epoch seconds) and a `version`. It is read before a search (to refuse early,
without decrypting any candidate) and rewritten inside the search's own transaction on
condition that its version is still the one read - which is what enforces the limit.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from signpost.dal.clients import dynamodb, key
from signpost.models.security import RateIncrement, RateWindow

RATE_PREFIX = "RATE#"
WINDOW_SK = "WINDOW"


def rate_key(subject: str) -> dict[str, Any]:
    return key(RATE_PREFIX + subject, WINDOW_SK)


def _number(value: float) -> str:
    return str(Decimal(str(round(value, 3))))


def rate_update(table: str, increment: RateIncrement) -> dict[str, Any]:
    """The TransactWriteItems `Update` that stores the window with one more search, if unchanged."""
    values: dict[str, Any] = {
        ":times": {"L": [{"N": _number(t)} for t in increment.times]},
        ":next": {"N": str(increment.expected_version + 1)},
        ":exp": {"N": str(increment.expires_at)},
    }
    if increment.expected_version:
        condition = "#v = :read"
        values[":read"] = {"N": str(increment.expected_version)}
    else:
        condition = "attribute_not_exists(#v)"
    return {
        "Update": {
            "TableName": table,
            "Key": rate_key(increment.subject),
            "UpdateExpression": "SET #t = :times, #v = :next, expires_at = :exp",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#t": "searches", "#v": "version"},
            "ExpressionAttributeValues": values,
        }
    }


class DynamoRateLimits:
    def __init__(self, table: str) -> None:
        self.table = table

    def window(self, subject: str) -> RateWindow:
        resp = dynamodb().get_item(
            TableName=self.table,
            Key=rate_key(subject),
            ConsistentRead=True,
            ProjectionExpression="#t, #v",
            ExpressionAttributeNames={"#t": "searches", "#v": "version"},
        )
        item = resp.get("Item")
        if not item or "version" not in item:
            return RateWindow()
        times = tuple(float(t["N"]) for t in item.get("searches", {}).get("L", []))
        return RateWindow(times=times, version=int(item["version"]["N"]))
