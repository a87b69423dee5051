"""Inbox items in the records table: `INBOX#<org>` / `N#<created_at>#<sequence>#<id>`.

The sort key orders an inbox by time; items created in the same second are ordered by
their stream record's sequence number (zero-padded), so "newest first" holds even for
an acknowledgement and an acceptance a moment apart. The id (`<created_at>-<intent id>`)
names the second, and a lookup by id reads only that second of the inbox.

While an item is unread it also sits in gsi1 under `UNREAD#<org>` (same sort key), a
sparse index: the unread view of an inbox reads only unread items, however many have
been read. Marking an item read removes those keys.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from botocore.exceptions import ClientError

from signpost.dal.clients import dynamodb, from_item, key, to_item
from signpost.dal.cursors import decode_cursor, encode_cursor
from signpost.models.notifications import InboxItem, notification_time

INBOX_TTL_DAYS = 365
_SORT_KEY = re.compile(r"^N#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ#\d{40}#\d{8}T\d{6}Z-[A-Za-z0-9_-]{1,64}$")
_SEQUENCE_DIGITS = 40  # DynamoDB stream sequence numbers are 21 to 40 digits


def inbox_pk(org: str) -> str:
    return f"INBOX#{org}"


def unread_pk(org: str) -> str:
    return f"UNREAD#{org}"


def _second(created_at: dt.datetime) -> str:
    return f"N#{created_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}#"


def inbox_sk(item: InboxItem) -> str:
    sequence = item.sequence if item.sequence.isdigit() else ""
    return f"{_second(item.created_at)}{sequence.zfill(_SEQUENCE_DIGITS)}#{item.id}"


def inbox_item(item: InboxItem) -> dict[str, Any]:
    values = item.model_dump(mode="json")
    sort_key = inbox_sk(item)
    expires = item.created_at + dt.timedelta(days=INBOX_TTL_DAYS)
    values.update(pk=inbox_pk(item.org), sk=sort_key, expires_at=int(expires.timestamp()))
    if not item.read:
        values.update(gsi1pk=unread_pk(item.org), gsi1sk=sort_key)
    return to_item(values)


def inbox_from_item(item: dict[str, Any]) -> InboxItem:
    return InboxItem.model_validate(from_item(item))


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


class DynamoInbox:
    def __init__(self, table: str) -> None:
        self.table = table

    def add(self, item: InboxItem) -> InboxItem:
        """Put the item unless it is there already; return the stored item either way.

        The condition makes delivery idempotent: a redelivered intent finds its item and
        writes nothing (the caller then sees whether it was announced yet).
        """
        try:
            dynamodb().put_item(
                TableName=self.table,
                Item=inbox_item(item),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            existing: Any = exc.response.get("Item")
            if isinstance(existing, dict) and existing:
                return inbox_from_item(existing)
            stored = self.get(item.org, item.id)
            if stored is None:
                raise
            return stored
        return item

    def get(self, org: str, notification_id: str) -> InboxItem | None:
        """`org`'s item with this id: a query of the one second its id names."""
        created_at = notification_time(notification_id)
        if created_at is None:
            return None
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :second)",
            "FilterExpression": "id = :id",
            "ExpressionAttributeValues": {
                ":pk": {"S": inbox_pk(org)},
                ":second": {"S": _second(created_at)},
                ":id": {"S": notification_id},
            },
            "ConsistentRead": True,
        }
        while True:
            resp = dynamodb().query(**kwargs)
            if resp["Items"]:
                return inbox_from_item(resp["Items"][0])
            if "LastEvaluatedKey" not in resp:
                return None
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def mark_announced(self, items: list[InboxItem]) -> None:
        for item in items:
            try:
                dynamodb().update_item(
                    TableName=self.table,
                    Key=key(inbox_pk(item.org), inbox_sk(item)),
                    UpdateExpression="SET announced = :t",
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues={":t": {"BOOL": True}},
                )
            except ClientError as exc:
                if not _conditional_failed(exc):  # gone (TTL): nothing to mark
                    raise

    def mark_read(self, org: str, notification_id: str, at: dt.datetime) -> InboxItem | None:
        """Mark an item of `org`'s inbox read; None if `org` has no such item."""
        found = self.get(org, notification_id)
        if found is None:
            return None
        item_key = key(inbox_pk(org), inbox_sk(found))
        try:
            resp = dynamodb().update_item(
                TableName=self.table,
                Key=item_key,
                UpdateExpression=(
                    "SET #read = :t, read_at = if_not_exists(read_at, :at) REMOVE gsi1pk, gsi1sk"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#read": "read"},
                ExpressionAttributeValues={
                    ":t": {"BOOL": True},
                    ":at": {"S": at.astimezone(dt.UTC).isoformat()},
                },
                # Only what it changed: the inbox role may touch only these attributes (IAM).
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return None
            raise
        changed = from_item(resp["Attributes"])
        return InboxItem.model_validate(
            # read_at is returned only when this update set it (not when it was read before)
            {**found.model_dump(), "read": True, "read_at": changed.get("read_at", found.read_at)}
        )

    def page(
        self, org: str, *, unread_only: bool, limit: int, after: str | None
    ) -> tuple[list[InboxItem], str | None]:
        """A page of `org`'s inbox, newest first; the cursor continues after its last item."""
        if unread_only:
            pk_name, sk_name, pk_value = "gsi1pk", "gsi1sk", unread_pk(org)
        else:
            pk_name, sk_name, pk_value = "pk", "sk", inbox_pk(org)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": f"{pk_name} = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk_value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if unread_only:
            kwargs["IndexName"] = "gsi1"
        else:
            kwargs["ConsistentRead"] = True
        if after is not None:
            sort_key = decode_cursor(after, _SORT_KEY)
            start = {"pk": {"S": inbox_pk(org)}, "sk": {"S": sort_key}}
            if unread_only:
                start.update({pk_name: {"S": pk_value}, sk_name: {"S": sort_key}})
            kwargs["ExclusiveStartKey"] = start
        resp = dynamodb().query(**kwargs)
        items = [inbox_from_item(i) for i in resp["Items"]]
        last = resp.get("LastEvaluatedKey")
        return items, (encode_cursor(last["sk"]["S"]) if last and items else None)
