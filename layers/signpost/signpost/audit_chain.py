"""Hash chaining of audit entries: changing, removing or reordering one breaks the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from signpost.models.domain import AuditEntry

GENESIS = "0" * 64


def entry_hash(entry: AuditEntry) -> str:
    body = entry.model_dump(mode="json", exclude={"hash"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def seal(entry: AuditEntry) -> AuditEntry:
    return entry.model_copy(update={"hash": entry_hash(entry)})


@dataclass(frozen=True)
class ChainHead:
    seq: int  # -1 for an empty chain
    hash: str

    @property
    def next_seq(self) -> int:
        return self.seq + 1

    @property
    def exists(self) -> bool:
        """The chain has at least one entry."""
        return self.seq >= 0


EMPTY = ChainHead(seq=-1, hash=GENESIS)


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    problem: str  # "hash_mismatch" | "broken_link" | "gap"


def verify_chain(entries: Iterable[AuditEntry]) -> list[ChainProblem]:
    """Check one chain, given in sequence order. Returns the problems found (none: intact)."""
    problems: list[ChainProblem] = []
    prev = EMPTY
    for entry in entries:
        if entry.seq != prev.next_seq:
            problems.append(ChainProblem(entry.chain, entry.seq, "gap"))
        if entry.prev_hash != prev.hash:
            problems.append(ChainProblem(entry.chain, entry.seq, "broken_link"))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.chain, entry.seq, "hash_mismatch"))
        prev = ChainHead(entry.seq, entry.hash)
    return problems
