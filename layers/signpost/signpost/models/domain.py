"""Domain values that logic works with and the data-access layer stores.

Logic builds a :class:`Changes` describing everything one action writes (the
record, its blind indexes, audit entries, notification intents, the stored
idempotent response); the store commits it in one transaction or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from signpost.models.notifications import ReviewDue
from signpost.models.organisation import Organisation
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
    # The blocks (blind indexes) the child is written in, per key scheme version ("1": [hmac, ...]):
    # what correcting, closing, delisting and re-indexing must change.
    blocks: dict[str, list[str]] = Field(default_factory=dict)


ACTIVE_ENTRY = "a"
CLOSED_ENTRY_PREFIX = "c:"


def closed_entry(closed_on: dt.date) -> str:
    """A block entry's status for a child closed on that date (still findable for a while)."""
    return CLOSED_ENTRY_PREFIX + closed_on.isoformat()


def entry_status(record: ChildRecord) -> str:
    if record.status == "active" or record.closed_at is None:
        return ACTIVE_ENTRY
    return closed_entry(record.closed_at.date())


@dataclass(frozen=True)
class BlockEntry:
    """A child's entry in one block: `status` is ACTIVE_ENTRY or closed_entry(date)."""

    block: str  # HMAC (hex) of a versioned blocking key
    child_id: str
    status: str = ACTIVE_ENTRY


@dataclass(frozen=True)
class IdentityGuard:
    """Serialises registrations of one identity (normalised names and date of birth).

    `seen` is the guard's counter as the registration read it (0: no guard item): the commit
    bumps it on that condition, so of two registrations that read before either committed only
    the first commits; the other retries and its duplicate check sees the first. None bumps it
    unconditionally (a correction to this identity).
    """

    guard: str  # HMAC (hex)
    seen: int | None
    expires_at: int  # epoch seconds: the guard is needed only while a registration is in flight


@dataclass(frozen=True)
class BlockRead:
    """Blocks read in one request: block -> {child_id: status}; `guard`: the identity guard's counter."""

    entries: dict[str, dict[str, str]]
    guard: int = 0


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
    """What an Idempotency-Key replays."""

    model_config = ConfigDict(extra="ignore")

    key: str
    request_hash: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = {}
    expiration: int  # epoch seconds: after it the key may be used again (and TTL removes it)
    written_at: int | None = None  # epoch seconds: a stored response expired by then may be replaced


@dataclass
class Changes:
    """Everything one action writes, committed together."""

    put_children: list[tuple[ChildRecord, int | None]] = field(
        default_factory=list
    )  # (record, expected version)
    # Block entries: added (a block holds at most MAX_BLOCK_ENTRIES: `block_full`), changed
    # (status of an entry that must exist) and removed (likewise; `block` if the entry is missing).
    add_block_entries: list[BlockEntry] = field(default_factory=list)
    set_block_entries: list[BlockEntry] = field(default_factory=list)
    remove_block_entries: list[BlockEntry] = field(default_factory=list)
    identity_guards: list[IdentityGuard] = field(default_factory=list)  # `id_guard`
    # A record's block list alone (delisting, re-indexing): (record after, expected version).
    update_blocks: list[tuple[ChildRecord, int]] = field(default_factory=list)
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
    # Directory entries created or replaced (PUT /v1/organisations/{code}, an operator's
    # `directory apply`), each with its audit entry on the entry's chain.
    put_organisations: list[Organisation] = field(default_factory=list)


class CommitConflict(Exception):
    """A condition of the transaction failed. `reasons` names which ones; `full_blocks` the
    blocks that could take no more entries (reason `block_full`)."""

    def __init__(self, reasons: set[str], full_blocks: frozenset[str] = frozenset()) -> None:
        super().__init__("transaction condition failed: " + ",".join(sorted(reasons)))
        self.reasons = reasons
        self.full_blocks = full_blocks
