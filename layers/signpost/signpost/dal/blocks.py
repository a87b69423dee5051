"""Block items and identity guards in the records table.

A block is one item per blind index (``pk=BLOCK#<hmac>``, ``sk=BLOCK``) listing the
children written under that key: one attribute per child, named by its id, whose
value is its status there (``a`` active, ``c:<date>`` closed on that date), and
``n``, how many children it holds. A search reads all its blocks in one
BatchGetItem (strongly consistent, on the base table); a registration, correction,
closure or delisting changes the child's own attribute in each of its blocks
(SET/REMOVE of that attribute only) in the same transaction as the record.

A block holds at most MAX_BLOCK_ENTRIES children (about 50 KB, an eighth of
DynamoDB's 400 KB item limit): adding to a full block fails its condition
(`block_full`) and the writer leaves that key out of the child's blocks (its other
keys still find it). No key of the current scheme comes near: the largest block
at 500,000 children holds a few dozen (see README, "Blind-index storage").

An identity guard (``pk=IDGUARD#<hmac>``, ``sk=GUARD``) is a counter per normalised
identity that each registration of that identity bumps on the condition that it
still holds the value read with the blocks: two registrations racing each other
cannot both commit without the second seeing the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from signpost.dal.clients import dynamodb, key
from signpost.models.domain import BlockEntry, BlockRead, IdentityGuard

BLOCK_PREFIX = "BLOCK#"
BLOCK_SK = "BLOCK"
GUARD_PREFIX = "IDGUARD#"
GUARD_SK = "GUARD"
COUNT = "n"
MAX_BLOCK_ENTRIES = 1000
_NOT_ENTRIES = frozenset({"pk", "sk", COUNT})
_BATCH_GET_LIMIT = 100


def block_key(block: str) -> dict[str, Any]:
    return key(BLOCK_PREFIX + block, BLOCK_SK)


def guard_key(guard: str) -> dict[str, Any]:
    return key(GUARD_PREFIX + guard, GUARD_SK)


def entries_of(item: dict[str, Any]) -> dict[str, str]:
    return {name: value["S"] for name, value in item.items() if name not in _NOT_ENTRIES}


def _entry_update(
    table: str, entry: BlockEntry, expression: str, condition: str, values: dict[str, Any]
) -> dict[str, Any]:
    """An UpdateItem of one child's attribute in a block (`#c`; `#n` the count, where used)."""
    names = {"#c": entry.child_id} | ({"#n": COUNT} if "#n" in expression else {})
    return {
        "Update": {
            "TableName": table,
            "Key": block_key(entry.block),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def add_entry(table: str, entry: BlockEntry) -> dict[str, Any]:
    """Add the child to the block (created if absent), unless it is there or the block is full."""
    op = _entry_update(
        table,
        entry,
        "SET #c = :s ADD #n :one",
        "attribute_not_exists(#c) AND (attribute_not_exists(#n) OR #n < :cap)",
        {":s": {"S": entry.status}, ":one": {"N": "1"}, ":cap": {"N": str(MAX_BLOCK_ENTRIES)}},
    )
    # Tells a full block (`block_full`) from an entry already there.
    op["Update"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return op


def set_entry(table: str, entry: BlockEntry) -> dict[str, Any]:
    return _entry_update(table, entry, "SET #c = :s", "attribute_exists(#c)", {":s": {"S": entry.status}})


def remove_entry(table: str, entry: BlockEntry) -> dict[str, Any]:
    minus = {":minus": {"N": "-1"}}
    return _entry_update(table, entry, "REMOVE #c ADD #n :minus", "attribute_exists(#c)", minus)


def bump_guard(table: str, guard: IdentityGuard) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table,
        "Key": guard_key(guard.guard),
        "UpdateExpression": "SET expires_at = :exp ADD #n :one",
        "ExpressionAttributeNames": {"#n": COUNT},
        "ExpressionAttributeValues": {":exp": {"N": str(guard.expires_at)}, ":one": {"N": "1"}},
    }
    if guard.seen == 0:
        update["ConditionExpression"] = "attribute_not_exists(#n)"
    elif guard.seen is not None:
        update["ConditionExpression"] = "#n = :seen"
        update["ExpressionAttributeValues"][":seen"] = {"N": str(guard.seen)}
    return {"Update": update}


def is_full(failed_item: dict[str, Any] | None) -> bool:
    """Whether an add's failed condition was the block's limit (the item as it was, ALL_OLD)."""
    if not failed_item or COUNT not in failed_item:
        return False
    return int(failed_item[COUNT]["N"]) >= MAX_BLOCK_ENTRIES


def read_blocks(table: str, blocks: Sequence[str], guard: str | None = None) -> BlockRead:
    """Every block named (absent ones are empty) and the identity guard's counter, strongly
    consistent, in one BatchGetItem per 100 keys (a search names about a dozen)."""
    wanted = [block_key(b) for b in dict.fromkeys(blocks)]
    if guard is not None:
        wanted.append(guard_key(guard))
    entries: dict[str, dict[str, str]] = {}
    seen = 0
    for start in range(0, len(wanted), _BATCH_GET_LIMIT):
        request: dict[str, Any] = {
            table: {"Keys": wanted[start : start + _BATCH_GET_LIMIT], "ConsistentRead": True}
        }
        while request:
            resp = dynamodb().batch_get_item(RequestItems=request)
            for item in resp["Responses"].get(table, []):
                pk = item["pk"]["S"]
                if pk.startswith(GUARD_PREFIX):
                    seen = int(item[COUNT]["N"]) if COUNT in item else 0
                else:
                    entries[pk.removeprefix(BLOCK_PREFIX)] = entries_of(item)
            request = resp.get("UnprocessedKeys") or {}
    return BlockRead(entries=entries, guard=seen)
