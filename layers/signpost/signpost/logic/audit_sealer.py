"""The audit sealer: folds the audit table's stream into keyed seals, and anchors them.

Runs as its own function with its own role: the only one that may write the audit heads
table and use the audit MAC key. Writers never see either, so a compromised writer can
append to a chain (it must, to do its job) but cannot move a sealed head, and anything it
overwrites or removes arrives here as a MODIFY or REMOVE and is sealed as tampering.

Per stream batch: the new entries are grouped by chain and checked against the chain's
sealed head (the next sequence number, linked by prev_hash, with a correct hash of its
own); the chains' new heads and any tampering go into seals of at most
MAX_HEADS_PER_SEAL heads each (one transaction with their head items), one MAC each - so
a busy batch costs a handful of KMS calls, and a search on the request path none.
Redelivered entries (at or before the sealed head) are passed over, so a retried batch
seals nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from signpost.audit_chain import entry_hash
from signpost.audit_seal import (
    BROKEN_LINK,
    GAP,
    GENESIS,
    HASH_MISMATCH,
    KEY_MISMATCH,
    OVERWRITTEN,
    REMOVED,
    UNREADABLE,
    Anchor,
    Seal,
    SealedHead,
    Tampering,
)
from signpost.models.domain import AuditEntry

MAX_HEADS_PER_SEAL = 99  # + the seal item: DynamoDB's 100 actions per transaction
MAX_ATTEMPTS = 8


class SealConflict(Exception):
    """Another sealer appended a seal (or moved a head) first: read again and retry."""


class SealStore(Protocol):
    def heads(self, chains: Iterable[str]) -> dict[str, SealedHead]: ...
    def last_seal(self) -> Seal | None: ...
    def commit(self, seal: Seal) -> None: ...


class MacKey(Protocol):
    def generate_mac(self, message: bytes) -> bytes: ...


class AnchorStore(Protocol):
    def put(self, anchor: Anchor) -> str: ...


@dataclass(frozen=True)
class AuditChange:
    """One record of the audit table's stream."""

    event: str  # INSERT | MODIFY | REMOVE
    chain: str
    seq: int
    entry: AuditEntry | None = None  # the new image (INSERT, MODIFY)


@dataclass
class SealRun:
    seals: int = 0
    heads: int = 0
    tampering: list[Tampering] = field(default_factory=list)
    passed_over: int = 0  # already sealed (a redelivered record)


def seal_changes(
    store: SealStore, mac: MacKey, changes: Iterable[AuditChange], now: Callable[[], dt.datetime]
) -> SealRun:
    """Seal one stream batch."""
    appended: dict[str, list[AuditEntry]] = defaultdict(list)
    altered: dict[str, list[Tampering]] = defaultdict(list)
    for change in changes:
        if change.event == "INSERT" and change.entry is not None and change.entry.seq != change.seq:
            altered[change.chain].append(Tampering(change.chain, change.seq, KEY_MISMATCH))
        elif change.event == "INSERT" and change.entry is not None:
            appended[change.chain].append(change.entry)
        elif change.event == "INSERT":
            altered[change.chain].append(Tampering(change.chain, change.seq, UNREADABLE))
        elif change.event in ("MODIFY", "REMOVE"):
            kind = OVERWRITTEN if change.event == "MODIFY" else REMOVED
            altered[change.chain].append(Tampering(change.chain, change.seq, kind))
    run = SealRun()
    chains = sorted(set(appended) | set(altered))
    for start in range(0, len(chains), MAX_HEADS_PER_SEAL):
        group = chains[start : start + MAX_HEADS_PER_SEAL]
        _seal_group(
            store,
            mac,
            appended={c: appended[c] for c in group},
            altered={c: altered[c] for c in group},
            now=now,
            run=run,
        )
    return run


def _seal_group(
    store: SealStore,
    mac: MacKey,
    *,
    appended: dict[str, list[AuditEntry]],
    altered: dict[str, list[Tampering]],
    now: Callable[[], dt.datetime],
    run: SealRun,
) -> None:
    for attempt in range(MAX_ATTEMPTS):
        sealed = store.heads(appended)
        heads: list[SealedHead] = []
        tampering = [t for found in altered.values() for t in found]
        passed_over = 0
        for chain, entries in appended.items():
            head, seen = sealed.get(chain), 0
            moved = False
            for entry in sorted(entries, key=lambda e: e.seq):
                if head is not None and entry.seq <= head.seq:
                    seen += 1
                    continue
                tampering += _check(entry, head)
                head, moved = SealedHead(chain, entry.seq, entry.hash), True
            passed_over += seen
            if moved and head is not None:
                heads.append(head)
        if not heads and not tampering:
            run.passed_over += passed_over
            return
        last = store.last_seal()
        draft = Seal(
            seq=last.seq + 1 if last else 0,
            at=now().astimezone(dt.UTC).isoformat(),
            prev_hash=last.hash if last else GENESIS,
            heads=tuple(heads),
            tampering=tuple(tampering),
        )
        try:
            store.commit(draft.sealed_with(mac.generate_mac(draft.message())))
        except SealConflict:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            continue
        run.seals += 1
        run.heads += len(heads)
        run.tampering += tampering
        run.passed_over += passed_over
        return


def _check(entry: AuditEntry, head: SealedHead | None) -> list[Tampering]:
    """What is wrong with `entry` as the next link after the sealed `head` (nothing: [])."""
    found = []
    expected_seq, expected_prev = (head.seq + 1, head.hash) if head else (0, GENESIS)
    if entry.seq != expected_seq:
        found.append(Tampering(entry.chain, entry.seq, GAP))
    elif entry.prev_hash != expected_prev:
        found.append(Tampering(entry.chain, entry.seq, BROKEN_LINK))
    if entry_hash(entry) != entry.hash:
        found.append(Tampering(entry.chain, entry.seq, HASH_MISMATCH))
    return found


def anchor(store: SealStore, anchors: AnchorStore, now: Callable[[], dt.datetime]) -> Anchor | None:
    """Fix the newest seal (and so every seal before it) in the Object Lock bucket."""
    last = store.last_seal()
    if last is None:
        return None
    record = Anchor(seal=last.seq, hash=last.hash, at=now().astimezone(dt.UTC).isoformat())
    where = anchors.put(record)
    return Anchor(record.seal, record.hash, record.at, where)
