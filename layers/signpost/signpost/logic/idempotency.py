"""Idempotency-Key handling: a retry with the same key and body gets the first response.

The semantics are Powertools' idempotency utility's, with one difference: the response is
stored by the action's own transaction (with the record, audit and outbox), not after it.

1. A completed, unexpired response for the key is replayed (another body: 409).
2. Otherwise the request claims the key: a conditional put of an INPROGRESS item that
   succeeds if the key is free, its response expired (TTL deletes lazily), or an earlier
   claim lapsed (`in_progress_expiration`, for a request that died mid-way).
3. While a claim is live, the same key gets 409 "in progress" with Retry-After - never a
   second execution (so no spurious audit entry from a duplicate that is really our own).
4. The action's commit replaces the claim with the response, on condition that the claim
   is still this request's; an error releases the claim (errors are not stored).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signpost.authz import Caller
from signpost.errors import BadRequest, Conflict, InProgress
from signpost.logic.audit_trail import commit_with_retries
from signpost.logic.services import Services
from signpost.models.domain import CommitConflict, StoredResponse

MAX_KEY_LENGTH = 200
IN_PROGRESS = "INPROGRESS"
COMPLETED = "COMPLETED"
IN_PROGRESS_RETRY_SECONDS = 1  # the first request normally finishes well within a second


@dataclass(frozen=True)
class Result:
    """A use case's answer, as the handler will send it."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    replayed: bool = False


@dataclass(frozen=True)
class IdempotencyRequest:
    scoped_key: str
    request_hash: str
    # This request's claim on the key: only it may turn the claim into a response or release it.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def idempotency_request(
    caller: Caller, raw_key: str | None, operation: str, body: dict[str, Any]
) -> IdempotencyRequest | None:
    if raw_key is None:
        return None
    raw_key = raw_key.strip()
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH or not raw_key.isprintable():
        raise BadRequest(
            "Idempotency-Key must be 1-200 printable characters",
            errors=[{"field": "Idempotency-Key", "message": "must be 1-200 printable characters"}],
        )
    canonical = json.dumps(
        {"op": operation, "body": body}, sort_keys=True, separators=(",", ":"), default=str
    )
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    # Keys are scoped to the practitioner: another caller's key can never replay this response.
    scope = hashlib.sha256(f"{caller.org}\x1f{caller.sub}\x1f{raw_key}".encode()).hexdigest()
    return IdempotencyRequest(scoped_key=scope, request_hash=digest)


def replay(services: Services, request: IdempotencyRequest | None) -> Result | None:
    """The stored response for this key, if any; 409 when the key was used for another body,
    409 "in progress" (with Retry-After) while another request holds a live claim on it."""
    if request is None:
        return None
    stored = services.store.idempotency.get(request.scoped_key)
    now = services.now().timestamp()
    if stored is None or stored.expiration < int(now):
        return None
    if stored.request_hash != request.request_hash:
        raise Conflict("this Idempotency-Key was already used with a different request")
    if stored.state == IN_PROGRESS:
        if stored.claim == request.token or (stored.in_progress_expiration or 0) <= now * 1000:
            return None  # our own claim, or one that lapsed: this request may (re)claim the key
        raise _in_progress()
    return Result(stored.status, stored.body, stored.headers, replayed=True)


def _in_progress() -> InProgress:
    return InProgress(
        "a request with this Idempotency-Key is in progress; retry shortly",
        retry_after=IN_PROGRESS_RETRY_SECONDS,
    )


def _claim(services: Services, request: IdempotencyRequest) -> StoredResponse:
    now = services.now().timestamp()
    return StoredResponse(
        key=request.scoped_key,
        request_hash=request.request_hash,
        status=0,
        body={},
        expiration=int(now) + services.settings.idempotency_ttl_seconds,
        state=IN_PROGRESS,
        in_progress_expiration=int(now * 1000) + services.settings.idempotency_in_progress_seconds * 1000,
        claim=request.token,
    )


def to_store(services: Services, request: IdempotencyRequest | None, result: Result) -> StoredResponse | None:
    """The response the action's transaction stores in place of this request's claim."""
    if request is None:
        return None
    return StoredResponse(
        key=request.scoped_key,
        request_hash=request.request_hash,
        status=result.status,
        body=result.body,
        headers=result.headers,
        expiration=int(services.now().timestamp()) + services.settings.idempotency_ttl_seconds,
        state=COMPLETED,
        claim=request.token,
    )


def commit_idempotently(
    services: Services, request: IdempotencyRequest | None, attempt: Callable[[], Result]
) -> Result:
    """Replay, or claim the key and run an attempt that stores its response in its own transaction.

    The attempt runs (with retries on lost races) only while this request holds the claim; if
    the claim was taken over meanwhile (this request outlived `in_progress_expiration`), the
    commit fails on the key's condition and the other request's answer is given instead.
    """
    if request is None:
        return commit_with_retries(attempt)
    replayed = replay(services, request)
    if replayed:
        return replayed
    now = services.now()
    if not services.store.idempotency.claim(_claim(services, request), now):
        # Another request claimed or completed the key since we read it: its answer, or 409.
        replayed = replay(services, request)
        if replayed:
            return replayed
        raise _in_progress()
    try:
        return commit_with_retries(attempt)
    except CommitConflict as conflict:
        if "idempotency" in conflict.reasons:
            replayed = replay(services, request)
            if replayed:
                return replayed
        _release(services, request)
        raise
    except BaseException:
        _release(services, request)
        raise


def _release(services: Services, request: IdempotencyRequest) -> None:
    """Give the key back after a failure; a claim that cannot be released lapses by itself
    (`in_progress_expiration`), so the request's own error is what the caller gets."""
    with contextlib.suppress(Exception):
        services.store.idempotency.release(request.scoped_key, request.token)
