"""Small in-memory fakes of the store and KMS, so logic tests need no network and no moto."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from pathlib import Path

from signpost.audit_chain import EMPTY, ChainHead
from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.crypto.keyring import BranchKeyCache, BranchKeyMissing
from signpost.logic.services import Services
from signpost.models.domain import (
    AuditEntry,
    Changes,
    ChildRecord,
    CommitConflict,
    OutboxIntent,
    StoredResponse,
)
from signpost.models.organisation import Organisation
from signpost.models.transfers import Transfer, TransferClock
from signpost.settings import Settings

SEED = Path(__file__).resolve().parents[3] / "infrastructure" / "seed" / "organisations.json"


class FakeDataKeys:
    """The key store and KMS for branch keys: counts creations and unwraps (KMS calls)."""

    def __init__(self) -> None:
        self.generated = 0
        self.unwrapped = 0
        self._keys: dict[str, bytes] = {}  # version -> plaintext
        self.active_version = ""
        self.rotate()

    def rotate(self) -> str:
        self.generated += 1
        version = os.urandom(16).hex()
        self._keys[version] = os.urandom(32)
        self.active_version = version
        return version

    def active_branch_key(self) -> tuple[str, bytes]:
        return self.active_version, self.wrapped_branch_key(self.active_version)

    def wrapped_branch_key(self, version: str) -> bytes:
        if version not in self._keys:
            raise BranchKeyMissing("unknown branch key version")
        return hashlib.sha256(self._keys[version]).digest()

    def unwrap_branch_key(self, version: str, wrapped: bytes) -> bytes:
        self.unwrapped += 1
        assert hashlib.sha256(self._keys[version]).digest() == wrapped
        return self._keys[version]


class FakeMac:
    def __init__(self) -> None:
        self.calls = 0

    def generate_mac(self, message: bytes) -> bytes:
        self.calls += 1
        return hashlib.sha256(b"fake-kms-key" + message).digest()


class FakeDirectory:
    def __init__(self) -> None:
        self.orgs = {o["code"]: Organisation.model_validate(o) for o in json.loads(SEED.read_text())}

    def get(self, code: str) -> Organisation | None:
        return self.orgs.get(code)

    def put(self, organisation: Organisation) -> None:
        self.orgs[organisation.code] = organisation


class FakeRecords:
    def __init__(self) -> None:
        self.children: dict[str, ChildRecord] = {}
        self.indexes: dict[str, set[str]] = {}  # child_id -> blind indexes

    def get_child(self, child_id: str) -> ChildRecord | None:
        return self.children.get(child_id)

    def child_ids_for_indexes(self, indexes: set[str], limit: int) -> list[str]:
        return [c for c, own in self.indexes.items() if own & set(indexes)][: limit + 1]

    def get_children(self, child_ids: list[str]) -> list[ChildRecord]:
        return [self.children[c] for c in child_ids if c in self.children]

    def indexes_of(self, child_id: str) -> set[str]:
        return set(self.indexes.get(child_id, set()))


class FakeAudit:
    def __init__(self) -> None:
        self.chains: dict[str, list[AuditEntry]] = {}

    def head(self, chain: str) -> ChainHead:
        entries = self.chains.get(chain)
        return ChainHead(entries[-1].seq, entries[-1].hash) if entries else EMPTY

    def entries(
        self, chain: str, *, newest_first: bool = True, limit: int = 100, start_after: int | None = None
    ) -> tuple[list[AuditEntry], int | None]:
        items = list(self.chains.get(chain, []))
        if newest_first:
            items.reverse()
        if start_after is not None:
            items = [e for e in items if (e.seq < start_after if newest_first else e.seq > start_after)]
        page = items[:limit]
        return page, (page[-1].seq if len(items) > limit else None)

    def get(self, chain: str, seq: int) -> AuditEntry | None:
        return next((e for e in self.chains.get(chain, []) if e.seq == seq), None)


class FakeIdempotency:
    def __init__(self) -> None:
        self.items: dict[str, StoredResponse] = {}

    def get(self, idem_key: str) -> StoredResponse | None:
        return self.items.get(idem_key)


class FakeRateLimits:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def count(self, subject: str, window: str) -> int:
        return self._store.rate_counts.get((subject, window), 0)


class FakeStore:
    """Applies Changes with the same conditions as the DynamoDB transaction, all or nothing."""

    def __init__(self) -> None:
        self.records = FakeRecords()
        self.audit = FakeAudit()
        self.idempotency = FakeIdempotency()
        self.directory = FakeDirectory()
        self.nhs_guards: dict[str, str] = {}
        self.outbox: list[OutboxIntent] = []
        self.commits = 0
        self.fail_next: set[str] = set()  # inject a conflict on the next commit
        self.audit_heads: dict[str, ChainHead] = {}  # AUDITHEAD#<chain> items
        self.rate_counts: dict[tuple[str, str], int] = {}  # RATE#<sub> / <hour> counters
        self.rate_limits = FakeRateLimits(self)
        self.transfer_items = FakeTransferItems(self)  # transfers, their clocks, review reminders

    def commit(self, changes: Changes) -> None:
        failed = set(self.fail_next)
        self.fail_next = set()
        for record, expected in changes.put_children:
            current = self.records.children.get(record.child_id)
            if (expected is None and current is not None) or (
                expected is not None and (current is None or current.version != expected)
            ):
                failed.add("version")
        for guard, child_id in changes.add_nhs_guards:
            if guard in self.nhs_guards and self.nhs_guards[guard] != child_id:
                failed.add("nhs_guard")
        for entry in changes.audit:
            if any(e.seq == entry.seq for e in self.audit.chains.get(entry.chain, [])):
                failed.add("audit_chain")
        if changes.idempotency and changes.idempotency.key in self.idempotency.items:
            failed.add("idempotency")
        for chain in {e.chain for e in changes.audit}:
            first = min(e.seq for e in changes.audit if e.chain == chain)
            head = self.audit_heads.get(chain)
            if (head is not None and first == 0) or (first > 0 and (head is None or head.seq != first - 1)):
                failed.add("audit_chain")
        for inc in changes.rate_limits:
            if self.rate_counts.get((inc.subject, inc.window), 0) >= inc.limit:
                failed.add("rate_limit")
        failed |= self.transfer_items.failed_conditions(changes)
        if failed:
            raise CommitConflict(failed)
        self.commits += 1
        self.transfer_items.apply(changes)
        for record, _ in changes.put_children:
            self.records.children[record.child_id] = record
        for child_id, bix in changes.add_indexes:
            self.records.indexes.setdefault(child_id, set()).add(bix)
        for child_id, bix in changes.remove_indexes:
            self.records.indexes.get(child_id, set()).discard(bix)
        for guard, child_id in changes.remove_nhs_guards:
            if self.nhs_guards.get(guard) == child_id:
                del self.nhs_guards[guard]
        for guard, child_id in changes.add_nhs_guards:
            self.nhs_guards[guard] = child_id
        for entry in changes.audit:
            self.audit.chains.setdefault(entry.chain, []).append(entry)
            self.audit_heads[entry.chain] = ChainHead(entry.seq, entry.hash)
        for inc in changes.rate_limits:
            self.rate_counts[(inc.subject, inc.window)] = (
                self.rate_counts.get((inc.subject, inc.window), 0) + 1
            )
        self.outbox.extend(changes.outbox)
        if changes.idempotency:
            self.idempotency.items[changes.idempotency.key] = changes.idempotency


class FakeTransferItems:
    """Transfer items, clock items and review reminder marks, with the DynamoDB conditions."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.transfers: dict[str, Transfer] = {}
        self.clocks: dict[tuple[str, str], TransferClock] = {}
        self.live: set[tuple[str, str]] = set()  # clocks still in the DUE#<date> index
        self.fired: set[tuple[str, str]] = set()
        self.reminded: dict[str, dt.date] = {}  # child_id -> review_by reminded

    def failed_conditions(self, changes: Changes) -> set[str]:
        failed: set[str] = set()
        for transfer, expected in changes.put_transfers:
            current = self.transfers.get(transfer.transfer_id)
            if (expected is None and current is not None) or (
                expected is not None and (current is None or current.version != expected)
            ):
                failed.add("version")
        if any((c.transfer_id, c.clock.value) in self.clocks for c in changes.start_clocks):
            failed.add("clock")
        if any((u.transfer_id, u.clock.value) not in self.live for u in changes.fire_clocks):
            failed.add("clock")
        for due in changes.review_reminders:
            record = self._store.records.children.get(due.child_id)
            if (
                record is None
                or record.status != "active"
                or record.org != due.org
                or record.review_by != due.review_by
                or self.reminded.get(due.child_id) == due.review_by
            ):
                failed.add("reminder")
        return failed

    def apply(self, changes: Changes) -> None:
        for record, _ in changes.put_children:
            self.reminded.pop(record.child_id, None)  # a Put replaces the whole item
        for transfer, _ in changes.put_transfers:
            self.transfers[transfer.transfer_id] = transfer
        for clock in changes.start_clocks:
            self.clocks[(clock.transfer_id, clock.clock.value)] = clock
            self.live.add((clock.transfer_id, clock.clock.value))
        for update in changes.stop_clocks:
            self.live.discard((update.transfer_id, update.clock.value))
        for update in changes.fire_clocks:
            self.live.discard((update.transfer_id, update.clock.value))
            self.fired.add((update.transfer_id, update.clock.value))
        for due in changes.review_reminders:
            self.reminded[due.child_id] = due.review_by


def make_services(now: dt.datetime | None = None) -> tuple[Services, FakeStore, FakeDataKeys, FakeMac]:
    store, keys, mac = FakeStore(), FakeDataKeys(), FakeMac()
    counter = itertools.count(1)
    fixed = now or dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
    services = Services(
        store=store,
        cipher=EnvelopeCipher(BranchKeyCache(keys, ttl_seconds=900)),
        indexer=BlindIndexer(mac),
        settings=Settings(),
        now=lambda: fixed,
        new_id=lambda: f"id{next(counter):06d}",
    )
    return services, store, keys, mac
