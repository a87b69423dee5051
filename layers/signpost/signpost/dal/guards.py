"""Guard items in the records table: one item per unique key of an active record.

`NHSIDX#<nhs blind index>` / `GUARD` holds the `child_id` of the active record with that NHS
number; a second record's conditional put on it fails (`nhs_guard`). Reading a guard's owner
is how a conflict finds the child it revealed, so that the answer can be audited and notified.
"""

from __future__ import annotations

from typing import Any

from signpost.dal.clients import dynamodb, key

NHS_GUARD_PREFIX = "NHSIDX#"
GUARD_SK = "GUARD"


def nhs_guard_key(nhs_index: str) -> dict[str, Any]:
    return key(f"{NHS_GUARD_PREFIX}{nhs_index}", GUARD_SK)


class DynamoGuards:
    def __init__(self, table: str) -> None:
        self.table = table

    def _owner(self, guard_key: dict[str, Any]) -> str | None:
        resp = dynamodb().get_item(
            TableName=self.table,
            Key=guard_key,
            ConsistentRead=True,
            ProjectionExpression="child_id",
        )
        item = resp.get("Item")
        return item["child_id"]["S"] if item and "child_id" in item else None

    def nhs_owner(self, nhs_index: str) -> str | None:
        """The child whose active record holds this NHS number's guard, if any."""
        return self._owner(nhs_guard_key(nhs_index))
