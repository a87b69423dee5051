"""Appending audit entries to their hash chains as part of an action's changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from signpost.audit_chain import EMPTY, ChainHead, seal
from signpost.authz import Caller
from signpost.errors import Busy
from signpost.logic.services import Services
from signpost.models.audit import AuditAction
from signpost.models.domain import AuditEntry, Changes, CommitConflict

T = TypeVar("T")
MAX_ATTEMPTS = 6
# `block_full`: the attempt leaves the full block out (logic/blocks.py); `id_guard`: a registration
# of the same identity committed first, which the attempt's duplicate check will now see.
RETRYABLE = frozenset({"audit_chain", "version", "conflict", "block_full", "id_guard"})


def child_chain(child_id: str) -> str:
    return f"CHILD#{child_id}"


def search_chain(search_id: str) -> str:
    return f"SEARCH#{search_id}"


def directory_chain(code: str) -> str:
    """An organisation's directory entry: every change to it (API PUT or `directory apply`)."""
    return f"DIRECTORY#{code}"


class AuditTrail:
    """Chains entries onto the heads read at the start of one attempt."""

    def __init__(self, services: Services, caller: Caller, heads: dict[str, ChainHead] | None = None) -> None:
        """`heads`: chain heads the attempt has just read (e.g. with a search's candidates)."""
        self._services = services
        self._caller = caller
        self._heads: dict[str, ChainHead] = dict(heads or {})

    def add(
        self, changes: Changes, chain: str, action: str, *, new_chain: bool = False, **fields: Any
    ) -> AuditEntry:
        """Append to `chain`; `new_chain` says the chain was just created (no read needed)."""
        head = self._heads.get(chain) or (EMPTY if new_chain else self._services.store.audit.head(chain))
        entry = seal(
            AuditEntry(
                chain=chain,
                seq=head.next_seq,
                at=self._services.now(),
                action=AuditAction(action),  # a closed list (the access log's enum)
                org=self._caller.org,
                role=self._caller.role.value,
                sub=self._caller.sub,
                sensitive_service=self._caller.sensitive_service,
                prev_hash=head.hash,
                **fields,
            )
        )
        self._heads[chain] = ChainHead(entry.seq, entry.hash)
        changes.audit.append(entry)
        return entry


def commit_with_retries(attempt: Callable[[], T]) -> T:
    """Run an attempt (read, decide, commit) again when it lost a race on a chain or a record.

    Each attempt re-reads what it depends on, so a retry never writes stale state.
    """
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return attempt()
        except CommitConflict as conflict:
            if not conflict.reasons <= RETRYABLE:
                raise
    try:
        return attempt()
    except CommitConflict as conflict:
        if conflict.reasons <= RETRYABLE:
            raise Busy("the record is busy; try again") from conflict
        raise
