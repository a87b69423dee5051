"""What the clock function reads and marks in the records table.

- live transfer clocks due on a date (gsi1 `DUE#<date>`, see dal/transfers.py);
- active child records whose review date is a given date (gsi1 `REVIEW#<date>`), read
  without their identity ciphertext;
- closed child records still in their blocks, by closing date (gsi1 `CLOSED#<date>`), ids only;
- the watermark item `CLOCK` / `WATERMARK`: the last date whose clocks have all been
  processed, so a run reads only the dates since the last complete run;
- the review reminder mark: an item `REMIND#<child_id>` / `<review_by>#<org>` put only if
  absent, with a condition check that the record is still active, of that organisation,
  with that review date, in the same transaction as its outbox intent: review_due is raised
  once per record, review date and organisation. The mark is an item of its own (not an
  attribute of the record) so that the clock function's role never needs to write records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.clients import dynamodb, from_item, key
from signpost.dal.records import CLOSED_PREFIX, RECORD_SK, child_pk
from signpost.dal.transfers import live_clocks_due
from signpost.models.domain import Changes
from signpost.models.notifications import ReviewDue
from signpost.models.transfers import TransferClock

WATERMARK_KEY = key("CLOCK", "WATERMARK")
REMINDER_PREFIX = "REMIND#"
REMINDER_KEPT = dt.timedelta(days=400)  # a review date is not reminded again after it passed


def reminder_key(due: ReviewDue) -> dict[str, Any]:
    return key(f"{REMINDER_PREFIX}{due.child_id}", f"{due.review_by.isoformat()}#{due.org}")


def reminder_ops(table: str, changes: Changes) -> list[tuple[str, dict[str, Any]]]:
    ops: list[tuple[str, dict[str, Any]]] = []
    for due in changes.review_reminders:
        expires = dt.datetime.combine(due.review_by, dt.time(), tzinfo=dt.UTC) + REMINDER_KEPT
        mark = {
            "TableName": table,
            "Item": {**reminder_key(due), "expires_at": {"N": str(int(expires.timestamp()))}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        still_due = {
            "TableName": table,
            "Key": key(child_pk(due.child_id), RECORD_SK),
            "ConditionExpression": "#status = :active AND org = :org AND review_by = :d",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":d": {"S": due.review_by.isoformat()},
                ":active": {"S": "active"},
                ":org": {"S": due.org},
            },
        }
        ops += [("reminder", {"Put": mark}), ("reminder", {"ConditionCheck": still_due})]
    return ops


class DynamoClockSource:
    def __init__(self, table: str) -> None:
        self.table = table

    def clocks_due(self, due: dt.date) -> Iterator[TransferClock]:
        return live_clocks_due(self.table, due)

    def reviews_due(self, review_by: dt.date) -> Iterator[ReviewDue]:
        # Never the identity ciphertext: the clock needs only who and when.
        # Once per record, date and organisation: the reminder's mark decides (reminder_ops).
        for item in self._gsi1(f"REVIEW#{review_by.isoformat()}", "child_id, org, review_by"):
            yield ReviewDue.model_validate(from_item(item))

    def closed_on(self, closed: dt.date) -> Iterator[str]:
        """Ids of the records closed on that date that are still in their blocks (gsi1 `CLOSED#<date>`)."""
        for item in self._gsi1(f"{CLOSED_PREFIX}{closed.isoformat()}", "child_id"):
            yield item["child_id"]["S"]

    def _gsi1(self, pk: str, projection: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ProjectionExpression": projection,
        }
        while True:
            resp = dynamodb().query(**kwargs)
            yield from resp["Items"]
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def watermark(self) -> dt.date | None:
        resp = dynamodb().get_item(TableName=self.table, Key=WATERMARK_KEY, ConsistentRead=True)
        if "Item" not in resp:
            return None
        return dt.date.fromisoformat(resp["Item"]["processed_through"]["S"])

    def advance_watermark(self, processed_through: dt.date) -> None:
        """Move the watermark forward (never back: a late run must not undo a newer one)."""
        try:
            dynamodb().put_item(
                TableName=self.table,
                Item={**WATERMARK_KEY, "processed_through": {"S": processed_through.isoformat()}},
                ConditionExpression="attribute_not_exists(pk) OR processed_through < :d",
                ExpressionAttributeValues={":d": {"S": processed_through.isoformat()}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
