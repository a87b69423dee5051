"""The pieces of a transfer step that the transfer workflow and closing a record share.

Closing a record withdraws its open transfer in the same transaction (API.md), exactly as
the sending organisation's own withdrawal does: so both build it here, below the two use
cases (logic/transfers.py, logic/records.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from signpost.authz import Caller
from signpost.logic.audit_trail import AuditTrail, child_chain
from signpost.logic.services import Services
from signpost.models.domain import Changes, ChildRecord, OutboxIntent
from signpost.models.notifications import NotificationType
from signpost.models.transfers import (
    OPEN_STATUSES,
    ClockName,
    ClockUpdate,
    DeclineRequest,
    Direction,
    Transfer,
    TransferStatus,
)


class TransferReader(Protocol):
    def get(self, transfer_id: str) -> Transfer | None: ...
    def page(
        self, org: str, direction: Direction, status: TransferStatus | None, limit: int, after: str | None
    ) -> tuple[list[Transfer], str | None]: ...


def notice(
    services: Services, type_: NotificationType, to_org: str, transfer: Transfer, from_org: str | None
) -> OutboxIntent:
    """The notification that tells the other side of a transfer what happened."""
    return OutboxIntent(
        intent_id=services.new_id(),
        to_org=to_org,
        type=type_.value,
        created_at=services.now(),
        child_id=transfer.child_id,
        transfer_id=transfer.transfer_id,
        from_org=from_org,
    )


def open_transfer(record: ChildRecord) -> dict[str, Any] | None:
    """The record's open-transfer marker, if it has one."""
    transfer = record.transfer
    return transfer if transfer and transfer.get("status") in OPEN_STATUSES else None


def settled(
    services: Services, transfer: Transfer, status: TransferStatus, request: DeclineRequest | None = None
) -> Transfer:
    """The transfer accepted, declined or withdrawn now; it expires after the retention period."""
    now = services.now()
    expires = now.timestamp() + services.settings.retention_days * 86_400
    update: dict[str, Any] = {"status": status, "version": transfer.version + 1, "expires_at": int(expires)}
    if status == TransferStatus.WITHDRAWN:
        update["withdrawn_at"] = now
    else:
        update.update(decided_at=now, decline_reason=request.reason if request else None)
    return transfer.model_copy(update=update)


def running_clocks(transfer: Transfer, now: dt.datetime) -> list[ClockUpdate]:
    """Stops for the clocks still running on an open transfer."""
    names = [ClockName.DECIDE]
    if transfer.status == TransferStatus.REQUESTED:
        names.insert(0, ClockName.ACKNOWLEDGE)
    return [ClockUpdate(transfer_id=transfer.transfer_id, clock=n, at=now) for n in names]


def audit_step(
    trail: AuditTrail,
    changes: Changes,
    transfer: Transfer,
    action: str,
    *,
    reason: str | None = None,
) -> None:
    """The step's entry on the child's chain (its access log)."""
    trail.add(
        changes,
        child_chain(transfer.child_id),
        action,
        child_id=transfer.child_id,
        reason=reason,
        details={"transfer_id": transfer.transfer_id, "from_org": transfer.from_org},
    )


def withdraw_into(
    services: Services,
    caller: Caller,
    trail: AuditTrail,
    changes: Changes,
    transfer: Transfer,
    *,
    reason: str,
) -> Transfer:
    """Add the withdrawal of an open transfer to `changes`: the transfer (on its version), its
    clocks stopped, the receiving organisation told (`transfer_withdrawn`), and the entry on the
    child's chain. The caller clears the record's marker in the same changes."""
    withdrawn = settled(services, transfer, TransferStatus.WITHDRAWN)
    changes.put_transfers.append((withdrawn, transfer.version))
    changes.stop_clocks.extend(running_clocks(transfer, services.now()))
    audit_step(trail, changes, withdrawn, "transfer_withdrawn", reason=reason)
    changes.outbox.append(
        notice(services, NotificationType.TRANSFER_WITHDRAWN, transfer.to_org, withdrawn, caller.org)
    )
    return withdrawn
