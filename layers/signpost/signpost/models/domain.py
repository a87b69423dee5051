"""Domain values that logic works with and the data-access layer stores.

Logic builds a :class:`Changes` describing everything one action writes (the
record, its blind indexes, audit entries, notification intents, the stored
idempotent response); the store commits it in one transaction or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from signpost.models.notifications import ReviewDue
from signpost.models.security import RateIncrement
from signpost.models.transfers import ClockUpdate, Transfer, TransferClock


class ChildRecord(BaseModel):
    """The signpost record. Identity is only ever held here as ciphertext."""

    model_config = ConfigDict(extra="ignore")

    child_id: str
    org: str
    status: str
    categories: list[str]
    contact: dict[str, Any] | None = None  # None: the organisation's directory contact
    review_by: dt.date
    shielding: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime
    since: dt.date
    identity: bytes
    version: int = 1
    closed_at: dt.datetime | None = None
    close_reason: str | None = None
    expires_at: int | None = None  # epoch seconds: DynamoDB TTL purge after retention
    # Set while a transfer is open (requested/acknowledged): {transfer_id, to_org, status}
    transfer: dict[str, Any] | None = None


class AuditEntry(BaseModel):
    """One link of a hash chain in the audit table."""

    model_config = ConfigDict(extra="ignore")

    chain: str
    seq: int
    at: dt.datetime
    action: str
    org: str
    role: str
    sub: str
    sensitive_service: bool = False
    child_id: str | None = None
    search_id: str | None = None
    reason: str | None = None
    outcome: str | None = None
    case_reference: str | None = None
    details: dict[str, Any] | None = None
    review: bool = False
    prev_hash: str
    hash: str = ""


class OutboxIntent(BaseModel):
    """A notification to deliver: written with the action, delivered by the notifier."""

    model_config = ConfigDict(extra="ignore")

    intent_id: str
    to_org: str
    type: str
    created_at: dt.datetime
    child_id: str | None = None
    transfer_id: str | None = None
    search_id: str | None = None
    from_org: str | None = None


class StoredResponse(BaseModel):
    """What an Idempotency-Key replays; while its request runs, the claim on the key (INPROGRESS)."""

    model_config = ConfigDict(extra="ignore")

    key: str
    request_hash: str
    status: int  # the HTTP status to replay (0 while in progress)
    body: dict[str, Any]
    headers: dict[str, str] = {}
    expiration: int  # epoch seconds: after it the key may be used again (and TTL removes it)
    state: str = "COMPLETED"  # INPROGRESS | COMPLETED
    in_progress_expiration: int | None = None  # epoch ms: an INPROGRESS claim lapses after it
    claim: str | None = None  # the claiming request's token: only it may complete or release the key


@dataclass
class Changes:
    """Everything one action writes, committed together."""

    put_children: list[tuple[ChildRecord, int | None]] = field(
        default_factory=list
    )  # (record, expected version)
    add_indexes: list[tuple[str, str]] = field(default_factory=list)  # (child_id, blind index)
    remove_indexes: list[tuple[str, str]] = field(default_factory=list)
    add_nhs_guards: list[tuple[str, str]] = field(default_factory=list)  # (nhs blind index, child_id)
    remove_nhs_guards: list[tuple[str, str]] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    outbox: list[OutboxIntent] = field(default_factory=list)
    idempotency: StoredResponse | None = None
    # Police searches: the hourly counter, conditional on being under the limit (`rate_limit`).
    rate_limits: list[RateIncrement] = field(default_factory=list)
    # Transfers: the transfer item (expected version, None: new), its clocks started, stopped
    # (the transfer moved on) or fired (overdue raised once: `clock` if no longer live).
    put_transfers: list[tuple[Transfer, int | None]] = field(default_factory=list)
    start_clocks: list[TransferClock] = field(default_factory=list)
    stop_clocks: list[ClockUpdate] = field(default_factory=list)
    fire_clocks: list[ClockUpdate] = field(default_factory=list)
    # review_due raised once per record and review_by, while the record is still active, with that
    # organisation and date (`reminder` when not).
    review_reminders: list[ReviewDue] = field(default_factory=list)


class CommitConflict(Exception):
    """A condition of the transaction failed. `reasons` names which ones."""

    def __init__(self, reasons: set[str]) -> None:
        super().__init__("transaction condition failed: " + ",".join(sorted(reasons)))
        self.reasons = reasons
