"""In-memory seal store, MAC key, anchors and verifier source over the FakeStore's audit.

FakeSealStore applies the same conditions as the DynamoDB transaction (a seal number is
taken once; no head moves backwards); FakeAuditSource shows the verifier items keyed as in
DynamoDB, so tests can tamper with keys, items, seals, heads and anchors one by one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Iterable, Iterator

from signpost.audit_seal import Anchor, Seal, SealedHead
from signpost.logic.audit_sealer import AuditChange, SealConflict
from signpost.models.domain import AuditEntry

from tests.unit.logic.fakes import FakeStore


class FakeMacKey:
    """HMAC-SHA-256 under a secret, as KMS would with a key that never leaves it."""

    def __init__(self, secret: bytes = b"audit-mac-key") -> None:
        self._secret = secret
        self.generated = 0
        self.verified = 0

    def generate_mac(self, message: bytes) -> bytes:
        self.generated += 1
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def verify_mac(self, message: bytes, mac: bytes) -> bool:
        self.verified += 1
        return hmac.compare_digest(hmac.new(self._secret, message, hashlib.sha256).digest(), mac)


class FakeSealStore:
    def __init__(self) -> None:
        self.seal_items: dict[int, Seal] = {}
        self.head_items: dict[str, tuple[SealedHead, int]] = {}
        self.race_next = 0  # the next N commits lose a race to another sealer

    def heads(self, chains: Iterable[str]) -> dict[str, SealedHead]:
        return {c: self.head_items[c][0] for c in chains if c in self.head_items}

    def last_seal(self) -> Seal | None:
        return self.seal_items[max(self.seal_items)] if self.seal_items else None

    def commit(self, seal: Seal) -> None:
        if self.race_next:
            self.race_next -= 1
            raise SealConflict
        if seal.seq in self.seal_items:
            raise SealConflict
        for head in seal.heads:
            current = self.head_items.get(head.chain)
            if current is not None and current[0].seq >= head.seq:
                raise SealConflict
        self.seal_items[seal.seq] = seal
        for head in seal.heads:
            self.head_items[head.chain] = (head, seal.seq)


class FakeAnchors:
    """Object Lock as the verifier sees it: every version of every anchor."""

    def __init__(self) -> None:
        self.objects: list[Anchor] = []

    def put(self, anchor: Anchor) -> str:
        where = f"anchors/{len(self.objects):04d}.json"
        self.objects.append(dataclasses.replace(anchor, where=where))
        return where


def inserts(store: FakeStore, already: set[tuple[str, int]] | None = None) -> list[AuditChange]:
    """The audit table's stream so far: one INSERT per entry not delivered before."""
    changes = []
    for chain, entries in store.audit.chains.items():
        for entry in entries:
            if already is None or (chain, entry.seq) not in already:
                changes.append(AuditChange("INSERT", chain, entry.seq, entry))
                if already is not None:
                    already.add((chain, entry.seq))
    return changes


class FakeAuditSource:
    """The verifier's view: audit items keyed as in DynamoDB, the seals, the heads, the anchors."""

    def __init__(self, store: FakeStore, seals: FakeSealStore, anchors: FakeAnchors) -> None:
        self.items_by_chain: dict[str, dict[str, AuditEntry]] = {
            chain: {str(e.seq).zfill(12): e for e in entries} for chain, entries in store.audit.chains.items()
        }
        self.seal_store = seals
        self.anchor_store = anchors

    def seals(self) -> Iterator[Seal]:
        return iter(self.seal_store.seal_items[k] for k in sorted(self.seal_store.seal_items))

    def registry(self) -> Iterator[SealedHead]:
        return iter(h for h, _ in self.seal_store.head_items.values())

    def items(self, chain: str) -> Iterator[tuple[str, str, AuditEntry]]:
        for sk in sorted(self.items_by_chain.get(chain, {})):
            yield chain, sk, self.items_by_chain[chain][sk]

    def chains(self) -> Iterator[str]:
        return iter(sorted(c for c, items in self.items_by_chain.items() if items))

    def anchors(self) -> Iterator[Anchor]:
        return iter(self.anchor_store.objects)
