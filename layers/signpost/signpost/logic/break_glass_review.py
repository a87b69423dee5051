"""Reviewing break-glass uses: each one is flagged for review; an auditor records the finding.

The finding is appended to the search's own audit chain (`break_glass_reviewed`), so the
use, its justification and its review stay together where nobody can rewrite them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from signpost.authz import Action, Caller
from signpost.errors import NotFound
from signpost.logic.audit_trail import AuditTrail, commit_with_retries, search_chain
from signpost.logic.services import Services
from signpost.models.domain import Changes

REVIEWED = "break_glass_reviewed"
MAX_ENTRIES = 100  # a search chain holds the search, its break-glass uses and their reviews


class Finding(StrEnum):
    JUSTIFIED = "justified"
    NOT_JUSTIFIED = "not_justified"


@dataclass(frozen=True)
class BreakGlassUse:
    search_id: str
    at: str
    org: str
    role: str


def pending(uses: Iterable[BreakGlassUse], reviewed: Iterable[str]) -> list[BreakGlassUse]:
    """Uses whose search has no review yet, oldest first."""
    done = set(reviewed)
    return sorted((u for u in uses if u.search_id not in done), key=lambda u: (u.at, u.search_id))


def review(services: Services, reviewer: Caller, search_id: str, finding: Finding) -> None:
    """Record the finding on the search's chain; 404 if that search had no break-glass use."""
    reviewer.require(Action.ACCESS_LOG_ANY)  # auditors review

    def attempt() -> None:
        entries, _ = services.store.audit.entries(
            search_chain(search_id), newest_first=False, limit=MAX_ENTRIES
        )
        if not any(e.action == "break_glass" for e in entries):
            raise NotFound("no break-glass use for this search")
        changes = Changes()
        AuditTrail(services, reviewer).add(
            changes,
            search_chain(search_id),
            REVIEWED,
            search_id=search_id,
            details={"finding": finding.value},
        )
        services.store.commit(changes)

    commit_with_retries(attempt)
