"""Idempotency table: claims on Idempotency-Keys and the responses they replay (TTL `expiration`).

The item's life follows Powertools' idempotency utility: a conditional put claims the key
(INPROGRESS, with `in_progress_expiration` in epoch ms), the action's own transaction
replaces the claim with the response (COMPLETED) on condition the claim is still its own,
and a failed request deletes its claim.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.clients import dynamodb, from_item, to_item
from signpost.models.domain import StoredResponse

# The key is free, its response expired (TTL deletion is lazy), or a claim lapsed.
CLAIM_CONDITION = (
    "attribute_not_exists(id) OR expiration < :now"
    " OR (#state = :in_progress AND in_progress_expiration < :now_ms)"
)


def stored_item(response: StoredResponse) -> dict[str, Any]:
    values = response.model_dump(mode="json")
    values["id"] = values.pop("key")
    return to_item(values)


def completion_put(table: str, response: StoredResponse) -> dict[str, Any]:
    """The TransactWriteItems `Put` that turns this request's claim into its response."""
    return {
        "Put": {
            "TableName": table,
            "Item": stored_item(response),
            "ConditionExpression": "#claim = :claim",
            "ExpressionAttributeNames": {"#claim": "claim"},
            "ExpressionAttributeValues": {":claim": {"S": response.claim or ""}},
        }
    }


def _condition_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


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

    def claim(self, claim: StoredResponse, now: dt.datetime) -> bool:
        """Claim the key for one request (False: another request holds or completed it)."""
        try:
            dynamodb().put_item(
                TableName=self.table,
                Item=stored_item(claim),
                ConditionExpression=CLAIM_CONDITION,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now.timestamp()))},
                    ":now_ms": {"N": str(int(now.timestamp() * 1000))},
                    ":in_progress": {"S": "INPROGRESS"},
                },
            )
        except ClientError as exc:
            if _condition_failed(exc):
                return False
            raise
        return True

    def release(self, idem_key: str, token: str) -> None:
        """Drop this request's claim (it failed: errors are not stored), if it still holds it."""
        try:
            dynamodb().delete_item(
                TableName=self.table,
                Key={"id": {"S": idem_key}},
                ConditionExpression="#claim = :claim AND #state = :in_progress",
                ExpressionAttributeNames={"#claim": "claim", "#state": "state"},
                ExpressionAttributeValues={":claim": {"S": token}, ":in_progress": {"S": "INPROGRESS"}},
            )
        except ClientError as exc:
            if not _condition_failed(exc):
                raise
