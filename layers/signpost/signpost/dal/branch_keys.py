"""The key store: branch keys wrapped by the KMS data key, in their own small table.

Items (`pk` is the branch key's name, one per deployment today):

| pk                  | sk                 | attributes                       |
|---------------------|--------------------|----------------------------------|
| `signpost-identity` | `VERSION#<32 hex>` | `version`, `wrapped`, `created_at` |
| `signpost-identity` | `ACTIVE`           | the same, for the version that seals new records |

A version item is written once and never changed or deleted; the ACTIVE item is
replaced on rotation, on condition that it still names the version the rotator read.
Functions that seal and open identities may only read (GetItem); only the clock
function (and an operator) may create a version, and it never sees the plaintext.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from botocore.exceptions import ClientError

from signpost.crypto.keyring import VERSION_BYTES, BranchKeyMissing
from signpost.dal.clients import dynamodb, key
from signpost.dal.kms import BRANCH_KEY_NAME, KmsBranchKeys

ACTIVE_SK = "ACTIVE"


def version_sk(version: str) -> str:
    return f"VERSION#{version}"


class DynamoBranchKeys:
    """What a function that seals or opens identities reads: wrapped keys, unwrapped by KMS."""

    def __init__(self, table: str, key_id: str) -> None:
        self._table = table
        self._kms = KmsBranchKeys(key_id)

    def active_branch_key(self) -> tuple[str, bytes]:
        item = self._get(ACTIVE_SK)
        if item is None:
            # The clock function's first run (or signpost-admin rotate-branch-key) creates it.
            raise BranchKeyMissing("records cannot be sealed yet: try again later")
        return item["version"]["S"], item["wrapped"]["B"]

    def wrapped_branch_key(self, version: str) -> bytes:
        item = self._get(version_sk(version))
        if item is None:
            raise BranchKeyMissing("unknown branch key version")
        return bytes(item["wrapped"]["B"])

    def unwrap_branch_key(self, version: str, wrapped: bytes) -> bytes:
        return self._kms.unwrap(version, wrapped)

    def _get(self, sk: str) -> dict[str, Any] | None:
        resp = dynamodb().get_item(TableName=self._table, Key=key(BRANCH_KEY_NAME, sk))
        return resp.get("Item")


class DynamoBranchKeyRotation:
    """Creating versions (the clock function and operators only)."""

    def __init__(self, table: str, key_id: str) -> None:
        self._table = table
        self._kms = KmsBranchKeys(key_id)

    def active(self) -> tuple[str, dt.datetime] | None:
        resp = dynamodb().get_item(
            TableName=self._table, Key=key(BRANCH_KEY_NAME, ACTIVE_SK), ConsistentRead=True
        )
        item = resp.get("Item")
        if item is None:
            return None
        return item["version"]["S"], dt.datetime.fromisoformat(item["created_at"]["S"])

    def rotate(self, now: dt.datetime, replacing: str | None) -> str | None:
        """A new active version; None if another rotation replaced `replacing` first."""
        version = os.urandom(VERSION_BYTES).hex()
        wrapped = self._kms.new_wrapped(version)
        values: dict[str, Any] = {
            "version": {"S": version},
            "wrapped": {"B": wrapped},
            "created_at": {"S": now.astimezone(dt.UTC).isoformat()},
        }
        active: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**key(BRANCH_KEY_NAME, ACTIVE_SK), **values},
        }
        if replacing is None:
            active["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            active["ConditionExpression"] = "version = :v"
            active["ExpressionAttributeValues"] = {":v": {"S": replacing}}
        new_version: dict[str, Any] = {
            "TableName": self._table,
            "Item": {**key(BRANCH_KEY_NAME, version_sk(version)), **values},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        try:
            dynamodb().transact_write_items(TransactItems=[{"Put": new_version}, {"Put": active}])  # type: ignore[typeddict-item]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return None
        return version
