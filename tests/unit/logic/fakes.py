"""Small in-memory fakes of the store and KMS, so logic tests need no network and no moto."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from signpost.audit_chain import EMPTY, ChainHead
from signpost.crypto.blind_index import BlindIndexer
from signpost.crypto.envelope import EnvelopeCipher
from signpost.crypto.keyring import BranchKeyCache, BranchKeyMissing
from signpost.dal.audit import CURSOR_CHAINS
from signpost.dal.blocks import MAX_BLOCK_ENTRIES
from signpost.dal.limits import check_limits
from signpost.dal.store import DynamoStore
from signpost.logic.services import Services
from signpost.models.domain import (
    AuditEntry,
    BlockRead,
    Changes,
    ChildRecord,
    CommitConflict,
    OutboxIntent,
    StoredResponse,
)
from signpost.models.organisation import Organisation
from signpost.models.security import RateWindow
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

    def current(self, code: str) -> Organisation | None:
        return self.orgs.get(code)

    def put(self, organisation: Organisation) -> None:
        self.orgs[organisation.code] = organisation


class FakeRecords:
    def __init__(self, audit_cursors: dict[str, ChainHead] | None = None) -> None:
        self._audit_cursors = audit_cursors if audit_cursors is not None else {}
        self.children: dict[str, ChildRecord] = {}
        self.blocks: dict[str, dict[str, str]] = {}  # BLOCK#<hmac> items: child_id -> status
        self.guards: dict[str, int] = {}  # IDGUARD#<hmac> counters
        self.block_reads = 0  # BatchGetItem calls for blocks

    def get_child(self, child_id: str) -> ChildRecord | None:
        return self.children.get(child_id)

    def read_blocks(self, blocks: Sequence[str], guard: str | None = None) -> BlockRead:
        self.block_reads += 1
        found = {b: dict(self.blocks[b]) for b in blocks if b in self.blocks}
        return BlockRead(entries=found, guard=self.guards.get(guard, 0) if guard else 0)

    def get_children(self, child_ids: list[str]) -> list[ChildRecord]:
        return [self.children[c] for c in child_ids if c in self.children]

    def get_children_and_heads(
        self, child_ids: list[str], chains: Sequence[str]
    ) -> tuple[list[ChildRecord], dict[str, ChainHead]]:
        heads = {c: self._audit_cursors[c] for c in chains if c in self._audit_cursors}
        return self.get_children(child_ids), heads

    def blocks_of(self, child_id: str) -> set[str]:
        """Test inspection: the blocks holding the child."""
        return {b for b, entries in self.blocks.items() if child_id in entries}


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


class FakeGuards:
    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def nhs_owner(self, nhs_index: str) -> str | None:
        return self._store.nhs_guards.get(nhs_index)


class FakeRateLimits:
    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.reads = 0

    def window(self, subject: str) -> RateWindow:
        self.reads += 1
        return self._store.rate_windows.get(subject, RateWindow())


# The real store's plan of a transaction (pure: no AWS call), so the fake checks DynamoDB's limits
# (100 items, one per item, 400 KB per item, 4 MB in all) on exactly the items the store would send.
_PLAN = DynamoStore("records", "audit", "idempotency", "directory")


class FakeStore:
    """Applies Changes with the same conditions as the DynamoDB transaction, all or nothing,
    within DynamoDB's limits.

    tests/integration/test_fake_parity.py runs the same Changes against this fake and against
    the real store on moto and requires the same outcome, condition by condition.
    """

    def __init__(self) -> None:
        self.audit_cursors: dict[str, ChainHead] = {}  # AUDITCURSOR#<child chain> items
        self.records = FakeRecords(self.audit_cursors)
        self.audit = FakeAudit()
        self.idempotency = FakeIdempotency()
        self.directory = FakeDirectory()
        self.nhs_guards: dict[str, str] = {}
        self.guard_owners = FakeGuards(self)
        self.outbox: list[OutboxIntent] = []
        self.commits = 0
        self.fail_next: set[str] = set()  # inject a conflict on the next commit
        self.rate_windows: dict[str, RateWindow] = {}  # RATE#<org>#<sub> / WINDOW items
        self.rate_limits = FakeRateLimits(self)
        self.transfer_items = FakeTransferItems(self)  # transfers, their clocks, review reminders
        self.transfers = self.transfer_items
        self.transaction_sizes: list[int] = []  # items per transaction committed
        # Runs once just before the next commit is checked (to interleave a concurrent request).
        self.before_next_commit: Callable[[], None] | None = None

    def commit(self, changes: Changes) -> None:
        if self.before_next_commit is not None:
            run, self.before_next_commit = self.before_next_commit, None
            run()
        ops = _PLAN.transaction_items(changes)
        if not ops:
            return
        check_limits(op for _, op in ops)  # as the real store does, before DynamoDB would
        failed = set(self.fail_next)
        self.fail_next = set()
        for record, expected in [*changes.put_children, *changes.update_blocks]:
            current = self.records.children.get(record.child_id)
            if (expected is None and current is not None) or (
                expected is not None and (current is None or current.version != expected)
            ):
                failed.add("version")
        full = self._block_conditions(changes, failed)
        for guard in changes.identity_guards:
            if guard.seen is not None and self.records.guards.get(guard.guard, 0) != guard.seen:
                failed.add("id_guard")
        for guard, _ in changes.add_nhs_guards:  # attribute_not_exists(pk): whoever holds it
            if guard in self.nhs_guards:
                failed.add("nhs_guard")
        for guard, child_id in changes.remove_nhs_guards:  # attribute_not_exists(pk) OR child_id = :c
            if self.nhs_guards.get(guard, child_id) != child_id:
                failed.add("nhs_guard")
        for entry in changes.audit:
            if any(e.seq == entry.seq for e in self.audit.chains.get(entry.chain, [])):
                failed.add("audit_chain")
        if changes.idempotency:  # free, or a response expired (and not yet deleted by TTL)
            held = self.idempotency.items.get(changes.idempotency.key)
            if held is not None and held.expiration >= (changes.idempotency.written_at or 0):
                failed.add("idempotency")
        for inc in changes.rate_limits:
            if self.rate_windows.get(inc.subject, RateWindow()).version != inc.expected_version:
                failed.add("conflict")  # as DynamoStore reports a moved window: retry, reading it again
        failed |= self.transfer_items.failed_conditions(changes)
        if failed:
            raise CommitConflict(failed, frozenset(full))
        self.commits += 1
        self.transaction_sizes.append(len(ops))
        self.transfer_items.apply(changes)
        for record, _ in [*changes.put_children, *changes.update_blocks]:
            self.records.children[record.child_id] = record
        for entry in [*changes.add_block_entries, *changes.set_block_entries]:
            self.records.blocks.setdefault(entry.block, {})[entry.child_id] = entry.status
        for entry in changes.remove_block_entries:
            del self.records.blocks[entry.block][entry.child_id]
        for guard in changes.identity_guards:
            self.records.guards[guard.guard] = self.records.guards.get(guard.guard, 0) + 1
        for guard, _ in changes.remove_nhs_guards:
            self.nhs_guards.pop(guard, None)
        for guard, child_id in changes.add_nhs_guards:
            self.nhs_guards[guard] = child_id
        for entry in changes.audit:
            self.audit.chains.setdefault(entry.chain, []).append(entry)
            if entry.chain.startswith(CURSOR_CHAINS):  # the writers' cursor (unconditional Put)
                self.audit_cursors[entry.chain] = ChainHead(entry.seq, entry.hash)
        for inc in changes.rate_limits:
            self.rate_windows[inc.subject] = RateWindow(times=inc.times, version=inc.expected_version + 1)
        self.outbox.extend(changes.outbox)
        for organisation in changes.put_organisations:
            self.directory.put(organisation)
        if changes.idempotency:
            self.idempotency.items[changes.idempotency.key] = changes.idempotency

    def _block_conditions(self, changes: Changes, failed: set[str]) -> set[str]:
        """The block items' conditions (see dal/blocks.py); returns the blocks found full."""
        full: set[str] = set()
        for entry in changes.add_block_entries:
            holders = self.records.blocks.get(entry.block, {})
            if entry.child_id in holders:
                failed.add("block")
            elif len(holders) >= MAX_BLOCK_ENTRIES:
                failed.add("block_full")
                full.add(entry.block)
        for entry in [*changes.set_block_entries, *changes.remove_block_entries]:
            if entry.child_id not in self.records.blocks.get(entry.block, {}):
                failed.add("block")
        return full


class FakeTransferItems:
    """Transfer items, clock items and review reminder marks, with the DynamoDB conditions."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self.transfers: dict[str, Transfer] = {}
        self.clocks: dict[tuple[str, str], TransferClock] = {}
        self.live: set[tuple[str, str]] = set()  # clocks still in the DUE#<date> index
        self.fired: set[tuple[str, str]] = set()
        self.reminded: set[tuple[str, dt.date, str]] = set()  # REMIND# marks: (child_id, review_by, org)

    def get(self, transfer_id: str) -> Transfer | None:
        return self.transfers.get(transfer_id)

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
                or (due.child_id, due.review_by, due.org) in self.reminded
            ):
                failed.add("reminder")
        return failed

    def apply(self, changes: Changes) -> None:
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
            self.reminded.add((due.child_id, due.review_by, due.org))


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
