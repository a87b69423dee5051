"""Idempotency-Key handling: a retry with the same key and body gets the first response.

Powertools' idempotency utility is the reference, with the response stored by the action's
own transaction (with the record, audit and outbox) instead of a separate INPROGRESS item:
the transaction's conditions already make two executions with one key commit at most once,
without an extra write per request.

- A stored, unexpired response for the key is replayed (another body with it: 409).
- The action's transaction stores its response on condition that the key is free or its
  response has expired (DynamoDB's TTL deletes lazily: an expired item may still be there).
- A retry that runs while the first request is still in flight is answered with the first
  response: if the first commits first, the retry's commit fails on the key and replays it;
  if the retry meets what the first request wrote (its record, its transfer) before its own
  commit, it looks for the stored response before answering 409 - so it never reports, nor
  audits, the first request's own record as a duplicate.
- Errors are not stored (as in Powertools): a retry after a 4xx runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signpost.authz import Caller
from signpost.errors import BadRequest, Conflict
from signpost.logic.audit_trail import commit_with_retries
from signpost.logic.services import Services
from signpost.models.domain import CommitConflict, StoredResponse

MAX_KEY_LENGTH = 200


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
    """The stored response for this key, if any; 409 when the key was used for another body."""
    if request is None:
        return None
    stored = services.store.idempotency.get(request.scoped_key)
    if stored is None or stored.expiration < int(services.now().timestamp()):
        return None
    if stored.request_hash != request.request_hash:
        raise Conflict("this Idempotency-Key was already used with a different request")
    return Result(stored.status, stored.body, stored.headers, replayed=True)


def to_store(services: Services, request: IdempotencyRequest | None, result: Result) -> StoredResponse | None:
    """The response the action's transaction stores under the key (if free, or expired)."""
    if request is None:
        return None
    now = int(services.now().timestamp())
    return StoredResponse(
        key=request.scoped_key,
        request_hash=request.request_hash,
        status=result.status,
        body=result.body,
        headers=result.headers,
        expiration=now + services.settings.idempotency_ttl_seconds,
        written_at=now,
    )


def commit_idempotently(
    services: Services, request: IdempotencyRequest | None, attempt: Callable[[], Result]
) -> Result:
    """Replay, or run an attempt that stores its response under the key in its own transaction.

    A request with the same key that committed while this one ran makes this one fail on the
    key's condition, or meet the first request's own writes (a 409 from the attempt): either
    way the stored response is the answer, as a later retry would get. The attempt must look
    for it before it reveals anything (`replay`), as register does before a duplicate's audit.
    """
    replayed = replay(services, request)
    if replayed:
        return replayed
    try:
        return commit_with_retries(attempt)
    except CommitConflict as conflict:
        if "idempotency" in conflict.reasons:
            replayed = replay(services, request)
            if replayed:
                return replayed
        raise
    except Conflict:
        replayed = replay(services, request)
        if replayed:
            return replayed
        raise
