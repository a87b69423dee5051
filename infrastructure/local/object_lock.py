"""S3 Object Lock as strict as AWS where moto is kinder.

moto refuses to delete a locked object version, but lets anyone shorten or remove a
compliance-mode retention (PutObjectRetention), disable Object Lock and suspend versioning
on a lock-enabled bucket - which AWS refuses to everyone, the root user included. These botocore hooks
(on the default session, so every client the code makes inherits them) refuse those
requests the way S3 does, before moto sees them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
from botocore.exceptions import ClientError

_EVENTS = {
    "before-parameter-build.s3.PutObjectRetention": "_retention",
    "before-parameter-build.s3.PutBucketVersioning": "_versioning",
    "before-parameter-build.s3.PutObjectLockConfiguration": "_lock_configuration",
}


def _denied(operation: str, message: str, code: str = "AccessDenied") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


class StrictObjectLock:
    def __init__(self, region: str) -> None:
        self._region = region
        self._session: Any = None
        self._reader: Any = None

    def install(self) -> StrictObjectLock:
        self._session = boto3._get_default_session()
        self._reader = boto3.client("s3", region_name=self._region)  # made before the hooks: not hooked
        for event, method in _EVENTS.items():
            self._session.events.register(event, getattr(self, method))
        return self

    def uninstall(self) -> None:
        if self._session is not None:
            for event, method in _EVENTS.items():
                self._session.events.unregister(event, getattr(self, method))
            self._session = None

    def _retention(self, params: dict[str, Any], **_: Any) -> None:
        kwargs = {"Bucket": params["Bucket"], "Key": params["Key"]}
        if params.get("VersionId"):
            kwargs["VersionId"] = params["VersionId"]
        try:  # (moto has no GetObjectRetention; HeadObject carries the same)
            head = self._reader.head_object(**kwargs)
        except ClientError:
            return  # no such version: S3 answers for itself
        mode, current = head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")
        if mode != "COMPLIANCE" or current is None or current <= dt.datetime.now(dt.UTC):
            return
        wanted = params.get("Retention") or {}
        until = wanted.get("RetainUntilDate")
        if isinstance(until, str):
            until = dt.datetime.fromisoformat(until.replace("Z", "+00:00"))
        if wanted.get("Mode") != "COMPLIANCE" or until is None or until < current:
            raise _denied("PutObjectRetention", "a compliance-mode retention cannot be shortened or removed")

    def _versioning(self, params: dict[str, Any], **_: Any) -> None:
        status = (params.get("VersioningConfiguration") or {}).get("Status")
        if status != "Enabled" and self._lock_enabled(params["Bucket"]):
            raise _denied(
                "PutBucketVersioning",
                "an Object Lock configuration is present on this bucket: versioning cannot be suspended",
                "InvalidBucketState",
            )

    def _lock_configuration(self, params: dict[str, Any], **_: Any) -> None:
        wanted = (params.get("ObjectLockConfiguration") or {}).get("ObjectLockEnabled")
        if wanted != "Enabled" and self._lock_enabled(params["Bucket"]):
            raise _denied("PutObjectLockConfiguration", "Object Lock cannot be disabled once enabled")

    def _lock_enabled(self, bucket: str) -> bool:
        try:
            config = self._reader.get_object_lock_configuration(Bucket=bucket)
        except ClientError:
            return False
        return bool(config["ObjectLockConfiguration"].get("ObjectLockEnabled") == "Enabled")
