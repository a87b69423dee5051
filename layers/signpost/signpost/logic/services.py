"""What every use case is given: the store, the crypto, the clock and the settings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from signpost.audit_chain import ChainHead
from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.matching import MatchConfig, load_match_config
from signpost.models.domain import AuditEntry, BlockRead, Changes, ChildRecord, StoredResponse
from signpost.models.organisation import Organisation
from signpost.models.security import RateWindow
from signpost.models.transfers import Transfer
from signpost.settings import Settings

LONDON = ZoneInfo("Europe/London")


class RecordsReader(Protocol):
    def get_child(self, child_id: str) -> ChildRecord | None: ...
    def read_blocks(self, blocks: Sequence[str], guard: str | None = None) -> BlockRead: ...
    def get_children(self, child_ids: list[str]) -> list[ChildRecord]: ...
    def get_children_and_heads(
        self, child_ids: list[str], chains: Sequence[str]
    ) -> tuple[list[ChildRecord], dict[str, ChainHead]]: ...


class AuditReader(Protocol):
    def head(self, chain: str) -> ChainHead: ...
    def entries(
        self, chain: str, *, newest_first: bool = True, limit: int = 100, start_after: int | None = None
    ) -> tuple[list[AuditEntry], int | None]: ...
    def get(self, chain: str, seq: int) -> AuditEntry | None: ...


class IdempotencyReader(Protocol):
    def get(self, idem_key: str) -> StoredResponse | None: ...


class GuardReader(Protocol):
    def nhs_owner(self, nhs_index: str) -> str | None: ...


class RateLimitReader(Protocol):
    def window(self, subject: str) -> RateWindow: ...


class TransferGetter(Protocol):
    def get(self, transfer_id: str) -> Transfer | None: ...


class DirectoryReader(Protocol):
    def get(self, code: str) -> Organisation | None: ...
    def current(self, code: str) -> Organisation | None: ...
    def put(self, organisation: Organisation) -> None: ...


class Store(Protocol):
    @property
    def records(self) -> RecordsReader: ...
    @property
    def audit(self) -> AuditReader: ...
    @property
    def idempotency(self) -> IdempotencyReader: ...
    @property
    def directory(self) -> DirectoryReader: ...
    @property
    def guard_owners(self) -> GuardReader: ...
    @property
    def rate_limits(self) -> RateLimitReader: ...
    @property
    def transfers(self) -> TransferGetter: ...
    def commit(self, changes: Changes) -> None: ...


def _utcnow() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC).replace(microsecond=0)


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Services:
    store: Store
    cipher: EnvelopeCipher
    indexer: BlindIndexer
    settings: Settings
    # Thresholds and m/u weights: configuration (MATCH_* environment variables), read once.
    match_config: MatchConfig = field(default_factory=load_match_config)
    now: Callable[[], dt.datetime] = field(default=_utcnow)
    new_id: Callable[[], str] = field(default=_new_id)

    def today(self) -> dt.date:
        return self.now().astimezone(LONDON).date()
