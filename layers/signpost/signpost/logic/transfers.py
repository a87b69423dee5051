"""The transfer workflow: a child moves from one local authority to another.

requested → acknowledged → accepted | declined | withdrawn. The responsible local authority
asks, and may withdraw while the transfer is open (closing the record withdraws it too);
only the receiving one acknowledges, accepts or declines. Every step is one transaction:
the transfer, the child record (its `transfer` field, and on acceptance its organisation),
the clocks, the audit entry on the child's chain and the outbox intent that tells the
other side. The child record's version condition allows one open transfer per child.

Re-sending a step for a transfer already in that step's state answers the first response
again (200) and writes nothing; a step for a transfer in another state is a 409.
"""

from __future__ import annotations

import datetime as dt

from signpost.authz import Action, Caller
from signpost.errors import BadRequest, Conflict, NotFound
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries
from signpost.logic.idempotency import IdempotencyRequest, Result, commit_idempotently, to_store
from signpost.logic.services import LONDON, Services
from signpost.logic.transfer_steps import (
    TransferReader,
    audit_step,
    notice,
    open_transfer,
    running_clocks,
    settled,
    withdraw_into,
)
from signpost.logic.working_days import transfer_clocks
from signpost.models.common import OrgType
from signpost.models.domain import Changes, ChildRecord
from signpost.models.notifications import NotificationType
from signpost.models.transfers import (
    ClockName,
    ClockUpdate,
    DeclineRequest,
    Direction,
    Transfer,
    TransferClock,
    TransferRequest,
    TransferStatus,
    TransferView,
)

__all__ = [
    "TransferReader",
    "accept",
    "acknowledge",
    "decline",
    "list_transfers",
    "request_transfer",
    "view",
    "withdraw",
]

MAX_PAGE = 100


def view(services: Services, transfer: Transfer) -> TransferView:
    return _view_on(transfer, services.today())


def _view_on(transfer: Transfer, day: dt.date) -> TransferView:
    return TransferView.model_validate({**transfer.model_dump(), "overdue": transfer.is_overdue(day)})


def _first_response(transfer: Transfer) -> TransferView:
    """The answer the step that put the transfer in its current state gave (nothing has changed
    since but `overdue`, which is taken as of that step's day)."""
    at = transfer.withdrawn_at or transfer.decided_at or transfer.acknowledged_at or transfer.requested_at
    return _view_on(transfer, at.astimezone(LONDON).date())


def _check_receiver(services: Services, caller: Caller, to_org: str) -> None:
    """The receiver must be another local authority, active in the directory (else 400)."""
    receiver = services.store.directory.get(to_org)
    if to_org == caller.org:
        message = "must be another organisation"
    elif receiver is None or receiver.type != OrgType.LOCAL_AUTHORITY or not receiver.active:
        message = "must be an active local authority"
    else:
        return
    raise BadRequest(
        "the transfer cannot go to this organisation", errors=[{"field": "to_org", "message": message}]
    )


def request_transfer(
    services: Services,
    caller: Caller,
    child_id: str,
    request: TransferRequest,
    idempotency: IdempotencyRequest | None,
) -> Result:
    caller.require(Action.MANAGE_RECORDS)

    def attempt() -> Result:
        record = services.store.records.get_child(child_id)
        if record is None or record.org != caller.org:
            raise NotFound("no such child")
        _check_receiver(services, caller, request.to_org)
        if record.status != "active":
            raise Conflict("a closed record cannot be transferred")
        if open_transfer(record):
            raise Conflict("this child already has an open transfer")
        now, today = services.now(), services.today()
        acknowledge_by, decide_by = transfer_clocks(today)
        transfer = Transfer(
            transfer_id=services.new_id(),
            child_id=child_id,
            from_org=caller.org,
            to_org=request.to_org,
            reason=request.reason,
            move_date=request.move_date,
            status=TransferStatus.REQUESTED,
            requested_at=now,
            requested_on=today,
            acknowledge_by=acknowledge_by,
            decide_by=decide_by,
        )
        marker = {
            "transfer_id": transfer.transfer_id,
            "to_org": transfer.to_org,
            "status": transfer.status.value,
            "requested_on": today.isoformat(),
        }
        changes = Changes(
            put_children=[
                (
                    record.model_copy(update={"transfer": marker, "version": record.version + 1}),
                    record.version,
                )
            ],
            put_transfers=[(transfer, None)],
            start_clocks=_clocks(transfer),
        )
        AuditTrail(services, caller).add(
            changes,
            child_chain(child_id),
            "transfer_requested",
            child_id=child_id,
            reason=request.reason.value,
            details={"transfer_id": transfer.transfer_id, "to_org": transfer.to_org},
        )
        changes.outbox.append(
            notice(services, NotificationType.TRANSFER_REQUESTED, transfer.to_org, transfer, caller.org)
        )
        result = Result(201, view(services, transfer).model_dump(mode="json", exclude_none=True))
        changes.idempotency = to_store(services, idempotency, result)
        services.store.commit(changes)
        return result

    return commit_idempotently(services, idempotency, attempt)


def _clocks(transfer: Transfer) -> list[TransferClock]:
    return [
        TransferClock(
            transfer_id=transfer.transfer_id,
            clock=name,
            due=due,
            child_id=transfer.child_id,
            from_org=transfer.from_org,
            to_org=transfer.to_org,
        )
        for name, due in (
            (ClockName.ACKNOWLEDGE, transfer.acknowledge_by),
            (ClockName.DECIDE, transfer.decide_by),
        )
    ]


def _addressed_to_caller(
    transfers: TransferReader, caller: Caller, transfer_id: str, *, sender: bool = False
) -> Transfer:
    """The transfer, if the caller's organisation receives it (or, `sender`, sent it);
    otherwise 404 as if absent."""
    caller.require(Action.MANAGE_RECORDS)
    transfer = transfers.get(transfer_id)
    if transfer is None or (transfer.from_org if sender else transfer.to_org) != caller.org:
        raise NotFound("no such transfer")
    return transfer


def _wrong_state(transfer: Transfer) -> Conflict:
    return Conflict(f"the transfer is already {transfer.status.value}")


def _record_marker(record: ChildRecord | None, transfer: Transfer) -> ChildRecord | None:
    """The child record if its open-transfer marker is this transfer's."""
    if record is None:
        return None
    marker = open_transfer(record)
    return record if marker and marker.get("transfer_id") == transfer.transfer_id else None


def acknowledge(
    services: Services, transfers: TransferReader, caller: Caller, transfer_id: str
) -> TransferView:
    def attempt() -> TransferView:
        transfer = _addressed_to_caller(transfers, caller, transfer_id)
        if transfer.status == TransferStatus.ACKNOWLEDGED:
            return _first_response(transfer)
        if transfer.status != TransferStatus.REQUESTED:
            raise _wrong_state(transfer)
        now = services.now()
        updated = transfer.model_copy(
            update={
                "status": TransferStatus.ACKNOWLEDGED,
                "acknowledged_at": now,
                "version": transfer.version + 1,
            }
        )
        changes = Changes(
            put_transfers=[(updated, transfer.version)],
            stop_clocks=[ClockUpdate(transfer_id=transfer_id, clock=ClockName.ACKNOWLEDGE, at=now)],
        )
        record = _record_marker(services.store.records.get_child(transfer.child_id), transfer)
        if record is not None:
            marker = {**(record.transfer or {}), "status": TransferStatus.ACKNOWLEDGED.value}
            changes.put_children.append(
                (
                    record.model_copy(update={"transfer": marker, "version": record.version + 1}),
                    record.version,
                )
            )
        audit_step(AuditTrail(services, caller), changes, updated, "transfer_acknowledged")
        changes.outbox.append(
            notice(services, NotificationType.TRANSFER_ACKNOWLEDGED, transfer.from_org, updated, caller.org)
        )
        services.store.commit(changes)
        return view(services, updated)

    return commit_with_retries(attempt)


def accept(services: Services, transfers: TransferReader, caller: Caller, transfer_id: str) -> TransferView:
    """The receiving organisation becomes responsible: it can now read and update the record,
    the old one gets 404, and search signposts the new one."""

    def attempt() -> TransferView:
        transfer = _addressed_to_caller(transfers, caller, transfer_id)
        if transfer.status == TransferStatus.ACCEPTED:
            return _first_response(transfer)
        if not transfer.is_open:
            raise _wrong_state(transfer)
        record = _record_marker(services.store.records.get_child(transfer.child_id), transfer)
        if record is None or record.status != "active" or record.org != transfer.from_org:
            raise Conflict("the record can no longer be transferred")
        now, today = services.now(), services.today()
        moved = record.model_copy(
            update={
                "org": transfer.to_org,
                "since": today,
                "transfer": None,
                # The old team's contact route goes: the new organisation's directory contact applies.
                "contact": None,
                "updated_at": now,
                "version": record.version + 1,
            }
        )
        decided = settled(services, transfer, TransferStatus.ACCEPTED)
        changes = Changes(
            put_children=[(moved, record.version)],
            put_transfers=[(decided, transfer.version)],
            stop_clocks=running_clocks(transfer, now),
        )
        audit_step(AuditTrail(services, caller), changes, decided, "transfer_accepted")
        changes.outbox.append(
            notice(services, NotificationType.TRANSFER_ACCEPTED, transfer.from_org, decided, caller.org)
        )
        services.store.commit(changes)
        return view(services, decided)

    return commit_with_retries(attempt)


def decline(
    services: Services, transfers: TransferReader, caller: Caller, transfer_id: str, request: DeclineRequest
) -> TransferView:
    def attempt() -> TransferView:
        transfer = _addressed_to_caller(transfers, caller, transfer_id)
        if transfer.status == TransferStatus.DECLINED and transfer.decline_reason == request.reason:
            return _first_response(transfer)
        if not transfer.is_open:
            raise _wrong_state(transfer)
        now = services.now()
        decided = settled(services, transfer, TransferStatus.DECLINED, request)
        changes = Changes(
            put_transfers=[(decided, transfer.version)], stop_clocks=running_clocks(transfer, now)
        )
        record = _record_marker(services.store.records.get_child(transfer.child_id), transfer)
        if record is not None:
            changes.put_children.append(
                (record.model_copy(update={"transfer": None, "version": record.version + 1}), record.version)
            )
        audit_step(
            AuditTrail(services, caller), changes, decided, "transfer_declined", reason=request.reason.value
        )
        changes.outbox.append(
            notice(services, NotificationType.TRANSFER_DECLINED, transfer.from_org, decided, caller.org)
        )
        services.store.commit(changes)
        return view(services, decided)

    return commit_with_retries(attempt)


def withdraw(services: Services, transfers: TransferReader, caller: Caller, transfer_id: str) -> TransferView:
    """The sending organisation takes back an open transfer; the receiving one is told."""

    def attempt() -> TransferView:
        transfer = _addressed_to_caller(transfers, caller, transfer_id, sender=True)
        if transfer.status == TransferStatus.WITHDRAWN:
            return _first_response(transfer)
        if not transfer.is_open:
            raise _wrong_state(transfer)
        changes = Changes()
        withdrawn = withdraw_into(
            services, caller, AuditTrail(services, caller), changes, transfer, reason="withdrawn"
        )
        record = _record_marker(services.store.records.get_child(transfer.child_id), transfer)
        if record is not None:
            changes.put_children.append(
                (record.model_copy(update={"transfer": None, "version": record.version + 1}), record.version)
            )
        services.store.commit(changes)
        return view(services, withdrawn)

    return commit_with_retries(attempt)


def list_transfers(
    services: Services,
    transfers: TransferReader,
    caller: Caller,
    *,
    direction: Direction,
    status: TransferStatus | None,
    limit: int,
    after: str | None,
) -> tuple[list[TransferView], str | None]:
    caller.require(Action.MANAGE_RECORDS)
    found, cursor = transfers.page(caller.org, direction, status, max(1, min(limit, MAX_PAGE)), after)
    return [view(services, t) for t in found], cursor
