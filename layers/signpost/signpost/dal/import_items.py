"""Bulk import items in the records table, and the operations that write them in a commit.

Items (records table; docs/DESIGN.md):
  IMPORT#<id>     / IMPORT                the upload: who, when, rows, batches, the S3 key
  IMPORT#<id>     / BATCH#<n>             how far batch n has got and its counts (from its first commit)
  IMPORT#<id>     / REJECT#<row>#<i>      one reject: row, local_id, code, column
  IMPORT#<id>     / DUP#<row>             one cross-authority duplicate: row, local_id, signposts
  IMPORTS#<org>   / <created_at>#<ns>#<id> the organisation's list of imports, oldest first
  LOCALID#<hmac>  / LOCALID               (organisation, local_id) -> child_id and the last row's fingerprint
  LOCALREF#<child_id> / LOCALREF          the child -> the local_id link that registered it
Import items expire (TTL) with the report; LOCALID/LOCALREF items are kept with the records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from signpost.dal.clients import key, to_item
from signpost.models.domain import Changes
from signpost.models.imports import COUNTERS, LocalIdLink, RowProgress

IMPORT_PREFIX = "IMPORT#"
LIST_PREFIX = "IMPORTS#"
LINK_PREFIX = "LOCALID#"
REF_PREFIX = "LOCALREF#"
JOB_SK = "IMPORT"
BATCH_PREFIX = "BATCH#"
REJECT_PREFIX = "REJECT#"
DUP_PREFIX = "DUP#"
LINK_SK = "LOCALID"
REF_SK = "LOCALREF"
_ROW_WIDTH = 7


def import_pk(import_id: str) -> str:
    return f"{IMPORT_PREFIX}{import_id}"


def list_pk(org: str) -> str:
    return f"{LIST_PREFIX}{org}"


def batch_sk(batch: int) -> str:
    return f"{BATCH_PREFIX}{batch:05d}"


def reject_sk(row: int, index: int) -> str:
    return f"{REJECT_PREFIX}{row:0{_ROW_WIDTH}d}#{index:02d}"


def duplicate_sk(row: int) -> str:
    return f"{DUP_PREFIX}{row:0{_ROW_WIDTH}d}"


def link_key(local_key: str) -> dict[str, Any]:
    return key(f"{LINK_PREFIX}{local_key}", LINK_SK)


def ref_key(child_id: str) -> dict[str, Any]:
    return key(f"{REF_PREFIX}{child_id}", REF_SK)


# ---------------------------------------------------------------- writes, in the action's transaction


def import_ops(table: str, changes: Changes) -> list[tuple[str, dict[str, Any]]]:
    """TransactWriteItems operations for the import parts of `changes`, each with the name of
    the condition it can fail (CommitConflict reasons)."""
    ops: list[tuple[str, dict[str, Any]]] = []
    for job in changes.import_jobs:
        values = job.model_dump(mode="json")
        values.update(pk=import_pk(job.import_id), sk=JOB_SK)
        put = {"TableName": table, "Item": to_item(values), "ConditionExpression": "attribute_not_exists(pk)"}
        ops.append(("import_job", {"Put": put}))
        listing = {
            "pk": list_pk(job.org),
            # created_at has whole seconds: the clock's nanoseconds order uploads within one
            "sk": f"{job.created_at.isoformat()}#{time.time_ns():020d}#{job.import_id}",
            "import_id": job.import_id,
            "expires_at": job.expires_at,
        }
        ops.append(("import_job", {"Put": {"TableName": table, "Item": to_item(listing)}}))
    for progress in changes.import_progress:
        ops.append(("import_row", _batch_update(table, progress)))
        ops.extend(
            ("import_row", {"Put": {"TableName": table, "Item": item}}) for item in _detail_items(progress)
        )
        for link, previous in progress.links:
            ops.extend(("local_id", op) for op in _link_puts(table, link, previous))
    return ops


def _batch_update(table: str, progress: RowProgress) -> dict[str, Any]:
    """Move the batch from `from_row` to past `to_row` and add the counts, only if nobody did.

    The expression stays small: every row's transaction carries it.
    """
    names: dict[str, str] = {}
    values: dict[str, Any] = {
        ":from": {"N": str(progress.from_row)},
        ":next": {"N": str(progress.to_row + 1)},
    }
    sets = ["next_row = :next"]
    condition = "next_row = :from"
    if progress.from_row == progress.first_row:  # the batch's first commit creates its item
        condition = "attribute_not_exists(next_row) OR next_row = :from"
        if progress.expires_at is not None:
            sets.append("expires_at = :expires")
            values[":expires"] = {"N": str(progress.expires_at)}
    adds = []
    for name in COUNTERS:
        count = progress.counts.get(name, 0)
        if count:
            adds.append(f"#{name} :{name}")
            names[f"#{name}"] = name
            values[f":{name}"] = {"N": str(count)}
    expression = "SET " + ", ".join(sets) + (" ADD " + ", ".join(adds) if adds else "")
    update: dict[str, Any] = {
        "TableName": table,
        "Key": key(import_pk(progress.import_id), batch_sk(progress.batch)),
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }
    if names:
        update["ExpressionAttributeNames"] = names
    return {"Update": update}


def _detail_items(progress: RowProgress) -> Iterable[dict[str, Any]]:
    pk = import_pk(progress.import_id)
    index: dict[int, int] = {}
    for reject in progress.rejects:
        i = index[reject.row] = index.get(reject.row, -1) + 1
        values = reject.model_dump(mode="json")
        values.update(pk=pk, sk=reject_sk(reject.row, i), expires_at=progress.expires_at)
        yield to_item(values)
    for duplicate in progress.duplicates:
        values = {
            "pk": pk,
            "sk": duplicate_sk(duplicate.row),
            "row": duplicate.row,
            "local_id": duplicate.local_id,
            "signposts": json.dumps(
                [s.model_dump(mode="json", exclude_none=True) for s in duplicate.signposts]
            ),
            "expires_at": progress.expires_at,
        }
        yield to_item(values)


def _link_puts(table: str, link: LocalIdLink, previous: str | None) -> list[dict[str, Any]]:
    values = link.model_dump(mode="json")
    values.update(pk=f"{LINK_PREFIX}{link.key}", sk=LINK_SK)
    put: dict[str, Any] = {"TableName": table, "Item": to_item(values)}
    if previous is None:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "child_id = :previous"
        put["ExpressionAttributeValues"] = {":previous": {"S": previous}}
    ref = {**ref_key(link.child_id), "local_key": {"S": link.key}}
    condition = "attribute_not_exists(pk) OR local_key = :key"
    ref_values: dict[str, Any] = {":key": {"S": link.key}}
    if link.replaces_ref is not None:  # a stale back-link, read by the worker: on condition it still is
        condition += " OR local_key = :stale"
        ref_values[":stale"] = {"S": link.replaces_ref}
    ref_put = {
        "TableName": table,
        "Item": ref,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": ref_values,
    }
    return [{"Put": put}, {"Put": ref_put}]
