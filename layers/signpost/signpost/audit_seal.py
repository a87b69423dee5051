"""Seals: the keyed record of where every audit chain ends, kept out of the writers' reach.

The writers append hash-chained entries to the audit table (audit_chain.py). They can
append, and - since IAM cannot require a condition on PutItem - they could also overwrite
an entry and recompute the chain after it. What they cannot do is write a seal: only the
audit sealer (on the audit table's stream) may, and only it may use the audit MAC key.

A seal records, for a batch of newly appended entries, each chain's new head (chain, seq,
hash) and any tampering the sealer saw (an overwritten or removed entry, an entry that
does not extend its chain). Seals form a chain of their own: each names the hash of the
previous one, and carries a MAC (HMAC-SHA-256 under a KMS key that never leaves KMS) over
a canonical message binding its number, time, predecessor and the digests of its heads and
tampering lists. The newest seal's hash is anchored hourly in S3 Object Lock (compliance
mode), which fixes every seal before it: not even an administrator who can use the MAC
key can rewrite sealed history older than an anchor.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

GENESIS = "0" * 64
SEAL_FORMAT = 1
# Tampering kinds the sealer records (each also counted in the AuditTampering metric):
OVERWRITTEN = "overwritten"  # an existing entry was replaced (a MODIFY on the audit table)
REMOVED = "removed"  # an entry was deleted (a REMOVE)
GAP = "gap"  # an appended entry does not follow its chain's sealed head
BROKEN_LINK = "broken_link"  # ... or does not link to it (prev_hash)
HASH_MISMATCH = "hash_mismatch"  # ... or its own hash is wrong
UNREADABLE = "unreadable"  # an item that is not an audit entry at all
KEY_MISMATCH = "key_mismatch"  # an entry stored under another sequence number than its own


@dataclass(frozen=True)
class SealedHead:
    chain: str
    seq: int
    hash: str


@dataclass(frozen=True)
class Tampering:
    chain: str
    seq: int
    kind: str


@dataclass(frozen=True)
class Seal:
    seq: int
    at: str  # ISO 8601 UTC
    prev_hash: str
    heads: tuple[SealedHead, ...] = ()
    tampering: tuple[Tampering, ...] = ()
    mac: str = ""  # base64 of the KMS MAC over message()
    hash: str = ""  # SHA-256 of message() and the MAC: what the next seal and the anchors name

    def message(self) -> bytes:
        """The canonical bytes the MAC covers (well under KMS's 4,096-byte message limit)."""
        body = {
            "format": SEAL_FORMAT,
            "seq": self.seq,
            "at": self.at,
            "prev": self.prev_hash,
            "heads": digest([h.chain, h.seq, h.hash] for h in self.heads),
            "tampering": digest([t.chain, t.seq, t.kind] for t in self.tampering),
        }
        return canonical(body)

    def sealed_with(self, mac: bytes) -> Seal:
        encoded = base64.b64encode(mac).decode("ascii")
        return replace(self, mac=encoded, hash=seal_hash(self.message(), encoded))

    def mac_bytes(self) -> bytes:
        return base64.b64decode(self.mac)


def canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def digest(rows: Iterable[list[object]]) -> str:
    return hashlib.sha256(canonical(list(rows))).hexdigest()


def seal_hash(message: bytes, mac: str) -> str:
    return hashlib.sha256(message + b"|" + mac.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class Anchor:
    """One anchor object: the newest seal at the time, fixed in S3 Object Lock."""

    seal: int
    hash: str
    at: str
    where: str = field(default="", compare=False)  # object key and version, for reports

    def body(self) -> bytes:
        return canonical({"format": SEAL_FORMAT, "seal": self.seal, "hash": self.hash, "at": self.at})
