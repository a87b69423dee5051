"""Anchors in the S3 bucket with Object Lock (compliance mode, default retention set by the stack).

Each anchor is a new object `anchors/<yyyy>/<mm>/<dd>/<hhmmss>Z-<seal>.json`, written only if
absent. The bucket's default retention locks every version: in compliance mode no one -
the root user included - can delete a version or shorten its retention before it expires.
The verifier reads every version of every anchor (a second version of a key, or a delete
marker, hides nothing from it).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from signpost.audit_seal import Anchor
from signpost.dal.clients import s3

PREFIX = "anchors/"


def anchor_key(anchor: Anchor) -> str:
    at = dt.datetime.fromisoformat(anchor.at).astimezone(dt.UTC)
    return f"{PREFIX}{at:%Y/%m/%d/%H%M%S}Z-{anchor.seal:012d}.json"


class S3Anchors:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, anchor: Anchor) -> str:
        key = anchor_key(anchor)
        resp = s3().put_object(
            Bucket=self.bucket,
            Key=key,
            Body=anchor.body(),
            ContentType="application/json",
            IfNoneMatch="*",  # never over an existing anchor
        )
        return f"{key}?versionId={resp.get('VersionId', '')}"

    def versions(self) -> Iterator[Anchor]:
        """Every version of every anchor object, with where it was found."""
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": PREFIX}
        while True:
            resp = s3().list_object_versions(**kwargs)
            for version in resp.get("Versions", []):
                key, version_id = version["Key"], version["VersionId"]
                body = s3().get_object(Bucket=self.bucket, Key=key, VersionId=version_id)["Body"].read()
                yield _anchor_from(body, f"{key}?versionId={version_id}")
            if not resp.get("IsTruncated"):
                return
            kwargs["KeyMarker"] = resp.get("NextKeyMarker")
            kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker")


def _anchor_from(body: bytes, where: str) -> Anchor:
    try:
        values = json.loads(body)
        return Anchor(seal=int(values["seal"]), hash=str(values["hash"]), at=str(values["at"]), where=where)
    except (ValueError, KeyError, TypeError):
        return Anchor(seal=-1, hash="", at="", where=where)  # unreadable: the verifier reports it
