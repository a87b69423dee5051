"""Register, read, correct and close signpost records (responsible local authority only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from signpost.authz import Action, Caller
from signpost.errors import BadRequest, Conflict, NotFound
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries
from signpost.logic.blocks import FullBlocks, close_blocks, correct_blocks, guard_identity, register_blocks
from signpost.logic.disclosure import already_on_index, commit_or_reveal
from signpost.logic.idempotency import IdempotencyRequest, Result, commit_idempotently, replay, to_store
from signpost.logic.identity import (
    IDENTITY_FIELDS,
    identity_dict,
    identity_guard,
    nhs_index,
    open_identity,
    seal,
    write_version,
)
from signpost.logic.lookup import lookup
from signpost.logic.services import Services
from signpost.logic.signposts import organisation_or_placeholder
from signpost.logic.transfer_steps import open_transfer, withdraw_into
from signpost.models.children import ChildCreated, ChildView, CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.common import Outcome
from signpost.models.domain import Changes, ChildRecord

# Audit actions and answers of a registration or correction that meets an existing child.
DUPLICATE = "register_duplicate"
ALREADY_EXISTS = "an active record of this child already exists"
UPDATE_DUPLICATE = "update_duplicate"
NHS_NUMBER_TAKEN = "another active record has this NHS number"


def register(
    services: Services, caller: Caller, request: RegisterRequest, idempotency: IdempotencyRequest | None
) -> Result:
    caller.require(Action.MANAGE_RECORDS)
    if request.shielding is not None:
        caller.require(Action.MANAGE_SHIELDING)
    identity = identity_dict(request)
    guard = identity_guard(services.indexer, identity, write_version(services.settings))
    full = FullBlocks()

    def attempt() -> Result:
        # Blocks and the identity guard in one strongly consistent read: a registration of this
        # child committed a moment ago is seen here, and one committing meanwhile fails our guard.
        existing = lookup(services, identity, active_only=True, guard=guard)
        if existing.outcome == Outcome.MATCH:
            first = replay(services, idempotency)
            if first:  # the child this request's own first try registered (a retry in flight)
                return first
            # The 409 shows the existing signpost: that is a lookup, audited and notified like a search.
            raise already_on_index(
                services,
                caller,
                existing.records,
                Outcome.MATCH,
                action=DUPLICATE,
                detail=ALREADY_EXISTS,
                heads=existing.heads,
            )
        now = services.now()
        child_id = services.new_id()
        changes = Changes()
        record = ChildRecord(
            child_id=child_id,
            org=caller.org,
            status="active",
            categories=[c.value for c in request.categories],
            contact=request.contact.model_dump(mode="json") if request.contact else None,
            review_by=request.review_by,
            shielding=request.shielding.reason.value if request.shielding else None,
            created_at=now,
            updated_at=now,
            since=services.today(),
            identity=seal(services.cipher, child_id, identity),
            blocks=register_blocks(services, changes, child_id, identity, full),
        )
        org = organisation_or_placeholder(services.store.directory, caller.org)
        body = ChildCreated(
            child_id=child_id,
            status=record.status,
            organisation=org.ref,
            categories=request.categories,
            review_by=record.review_by,
            created_at=now,
        ).model_dump(mode="json")
        result = Result(201, body, {"Location": f"/v1/children/{child_id}"})
        changes.put_children.append((record, None))
        guard_identity(services, changes, identity, seen=existing.guard)
        nhs_guard = nhs_index(services.indexer, identity)
        if nhs_guard:
            changes.add_nhs_guards.append((nhs_guard, child_id))
        # A new child id starts its chain (were it taken, the head's condition would fail the commit).
        AuditTrail(services, caller).add(
            changes, child_chain(child_id), "register", new_chain=True, child_id=child_id
        )
        changes.idempotency = to_store(services, idempotency, result)
        commit_or_reveal(
            services,
            caller,
            changes,
            identity,
            action=DUPLICATE,
            detail=ALREADY_EXISTS,
            commit=lambda done: full.commit(services, done),
        )
        return result

    return commit_idempotently(services, idempotency, attempt)


def _own_record(services: Services, caller: Caller, child_id: str) -> ChildRecord:
    """The record, if the caller's organisation is responsible for it; otherwise 404 as if absent."""
    caller.require(Action.MANAGE_RECORDS)
    record = services.store.records.get_child(child_id)
    if record is None or record.org != caller.org:
        raise NotFound("no such child")
    return record


def view(services: Services, record: ChildRecord) -> ChildView:
    identity = open_identity(services.cipher, record.child_id, record.identity)
    org = organisation_or_placeholder(services.store.directory, record.org)
    return ChildView.model_validate(
        {
            **identity,
            "child_id": record.child_id,
            "status": record.status,
            "organisation": org.ref,
            "categories": record.categories,
            "contact": record.contact or org.contact.model_dump(mode="json"),
            "review_by": record.review_by,
            "shielding": {"reason": record.shielding} if record.shielding else None,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "since": record.since,
            "closed_at": record.closed_at,
            "close_reason": record.close_reason,
        }
    )


def get_child(services: Services, caller: Caller, child_id: str) -> ChildView:
    def attempt() -> ChildView:
        record = _own_record(services, caller, child_id)
        changes = Changes()
        AuditTrail(services, caller).add(changes, child_chain(child_id), "view", child_id=child_id)
        services.store.commit(changes)
        return view(services, record)

    return commit_with_retries(attempt)


def update_child(services: Services, caller: Caller, child_id: str, request: UpdateRequest) -> ChildView:
    fields = request.model_fields_set
    if "shielding" in fields:
        caller.require(Action.MANAGE_SHIELDING)
    full = FullBlocks()

    def attempt() -> ChildView:
        record = _own_record(services, caller, child_id)
        if record.status != "active":
            raise Conflict("a closed record cannot be changed")
        patch = request.model_dump(mode="json", include=fields)
        updates: dict[str, Any] = {"updated_at": services.now(), "version": record.version + 1}
        for name in ("categories", "contact", "review_by"):
            if name in fields:
                if patch[name] is None and name != "contact":  # a null contact means the directory's
                    raise _null_field(name)
                updates[name] = getattr(request, name)
        if "categories" in updates:
            updates["categories"] = [c.value for c in request.categories or []]
        if "contact" in updates and request.contact is not None:
            updates["contact"] = request.contact.model_dump(mode="json")
        if "shielding" in fields:
            updates["shielding"] = request.shielding.reason.value if request.shielding else None
        changes = Changes()
        identity_changes = {f: patch[f] for f in fields if f in IDENTITY_FIELDS}
        identity: dict[str, Any] = {}
        if identity_changes:
            for required in ("given_names", "family_name", "date_of_birth"):
                if required in identity_changes and identity_changes[required] is None:
                    raise _null_field(required)
            identity = _correct_identity(services, record, identity_changes, updates, changes, full=full)
        updated = record.model_copy(update=updates)
        changes.put_children.append((updated, record.version))
        AuditTrail(services, caller).add(
            changes, child_chain(child_id), "update", child_id=child_id, details={"fields": sorted(fields)}
        )
        commit_or_reveal(
            services,
            caller,
            changes,
            identity,
            action=UPDATE_DUPLICATE,
            detail=NHS_NUMBER_TAKEN,
            commit=lambda done: full.commit(services, done),
        )
        return view(services, updated)

    return commit_with_retries(attempt)


def _null_field(name: str) -> BadRequest:
    return BadRequest(
        "a required field cannot be removed", errors=[{"field": name, "message": "may not be null"}]
    )


def _correct_identity(
    services: Services,
    record: ChildRecord,
    identity_changes: dict[str, Any],
    updates: dict[str, Any],
    changes: Changes,
    *,
    full: FullBlocks,
) -> dict[str, Any]:
    """Re-seal the corrected identity and move its blocks and guards; returns the new identity."""
    old = open_identity(services.cipher, record.child_id, record.identity)
    new = {**old, **identity_changes}
    if new.get("other_names") is None:
        new["other_names"] = []
    updates["identity"] = seal(services.cipher, record.child_id, new)
    updates["blocks"] = correct_blocks(services, changes, record, new, full)
    version = write_version(services.settings)
    if identity_guard(services.indexer, old, version) != identity_guard(services.indexer, new, version):
        guard_identity(services, changes, new, seen=None)  # a registration racing this one retries
    old_guard, new_guard = nhs_index(services.indexer, old), nhs_index(services.indexer, new)
    if old_guard != new_guard:
        if old_guard:
            changes.remove_nhs_guards.append((old_guard, record.child_id))
        if new_guard:
            changes.add_nhs_guards.append((new_guard, record.child_id))
    return new


def close_child(services: Services, caller: Caller, child_id: str, request: CloseRequest) -> ChildView:
    def attempt() -> ChildView:
        record = _own_record(services, caller, child_id)
        if record.status != "active":
            raise Conflict("the record is already closed")
        now = services.now()
        expires = now + dt.timedelta(days=services.settings.retention_days)
        closed = record.model_copy(
            update={
                "status": "closed",
                "closed_at": now,
                "close_reason": request.reason.value,
                "updated_at": now,
                "version": record.version + 1,
                "expires_at": int(expires.timestamp()),
                "transfer": None,
            }
        )
        changes = Changes(put_children=[(closed, record.version)])
        close_blocks(changes, closed)  # findable for a while; the clock delists it then
        guard = nhs_index(services.indexer, open_identity(services.cipher, child_id, record.identity))
        if guard:
            changes.remove_nhs_guards.append((guard, child_id))
        trail = AuditTrail(services, caller)
        trail.add(changes, child_chain(child_id), "close", child_id=child_id, reason=request.reason.value)
        _withdraw_open_transfer(services, caller, trail, changes, record)
        services.store.commit(changes)
        return view(services, closed)

    return commit_with_retries(attempt)


def _withdraw_open_transfer(
    services: Services, caller: Caller, trail: AuditTrail, changes: Changes, record: ChildRecord
) -> None:
    """A closed record cannot move: its open transfer is withdrawn in the closing transaction
    (its clocks stop, the receiving organisation is told), so it never hangs open."""
    marker = open_transfer(record)
    transfer = services.store.transfers.get(str(marker["transfer_id"])) if marker else None
    if transfer is not None and transfer.is_open:
        withdraw_into(services, caller, trail, changes, transfer, reason="record_closed")
