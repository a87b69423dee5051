"""Finding the records a given identity matches: blocks, candidates, decryption, scoring.

Two reads whatever the number of keys: every block the search's keys name, in one
strongly consistent BatchGetItem, then the chosen candidates' records in another.
At most `max_candidates` records are read; which ones is decided from the block
entries alone (:func:`choose_candidates`), so a crowded block never pushes out the
child the search is most likely about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from signpost.audit_chain import ChainHead
from signpost.logic.audit_trail import child_chain
from signpost.logic.identity import (
    SearchBlock,
    open_identity,
    read_versions,
    search_blocks,
    to_match_identity,
)
from signpost.logic.matcher import decide
from signpost.logic.services import Services
from signpost.models.common import Outcome
from signpost.models.domain import ACTIVE_ENTRY, CLOSED_ENTRY_PREFIX, ChildRecord


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    records: list[ChildRecord]  # ranked; empty for no_match
    candidates_read: int
    guard: int = 0  # the identity guard's counter, when one was read with the blocks
    heads: dict[str, ChainHead] = field(default_factory=dict)  # candidates' audit chain heads


def findable(record: ChildRecord, today: dt.date, closed_findable_days: int) -> bool:
    if record.status == "active":
        return True
    if record.closed_at is None:
        return False
    return (today - record.closed_at.date()).days <= closed_findable_days


def _entry_findable(status: str, today: dt.date, closed_findable_days: int, active_only: bool) -> bool:
    """The same rule as :func:`findable`, from a block entry (no record read)."""
    if status == ACTIVE_ENTRY:
        return True
    if active_only or not status.startswith(CLOSED_ENTRY_PREFIX):
        return False
    closed_on = dt.date.fromisoformat(status.removeprefix(CLOSED_ENTRY_PREFIX))
    return (today - closed_on).days <= closed_findable_days


@dataclass
class _Hits:
    keys: set[int]  # ranks of the search keys whose blocks hold the child
    nhs: bool = False
    active: bool = False

    def order(self) -> tuple[bool, int, bool, int]:
        return (not self.nhs, -len(self.keys), not self.active, min(self.keys))


def choose_candidates(
    blocks: Sequence[SearchBlock],
    entries: dict[str, dict[str, str]],
    *,
    today: dt.date,
    closed_findable_days: int,
    limit: int,
    active_only: bool = False,
) -> list[str]:
    """The children worth reading, at most `limit`, best first.

    Children no longer findable (closed longer ago than closed_findable_days; closed at
    all when `active_only`) are never counted. The others rank by: found under the NHS
    number's key; found under more of the search's keys; active before closed; found
    under a more specific key. An exact NHS number or an exact identity (found under
    nearly every key) therefore always makes the cut, however crowded its blocks.
    """
    hits: dict[str, _Hits] = {}
    for block in blocks:
        for child_id, status in entries.get(block.block, {}).items():
            if not _entry_findable(status, today, closed_findable_days, active_only):
                continue
            h = hits.setdefault(child_id, _Hits(keys=set()))
            h.keys.add(block.rank)
            h.nhs = h.nhs or block.nhs
            h.active = h.active or status == ACTIVE_ENTRY
    ranked = sorted(hits, key=lambda child_id: (hits[child_id].order(), child_id))
    return ranked[:limit]


def lookup(
    services: Services, identity: dict[str, Any], *, active_only: bool = False, guard: str | None = None
) -> Lookup:
    """Match `identity` against the index; `guard` also reads that identity guard's counter."""
    settings = services.settings
    today = services.today()
    blocks = search_blocks(services.indexer, identity, read_versions(settings))
    read = services.store.records.read_blocks([b.block for b in blocks], guard)
    ids = choose_candidates(
        blocks,
        read.entries,
        today=today,
        closed_findable_days=settings.closed_findable_days,
        limit=settings.max_candidates,
        active_only=active_only,
    )
    place = {child_id: i for i, child_id in enumerate(ids)}
    # With the candidates, their audit chains' heads: auditing what is found needs no further read.
    found, heads = (
        services.store.records.get_children_and_heads(ids, [child_chain(c) for c in ids]) if ids else ([], {})
    )
    records = sorted(found, key=lambda r: place[r.child_id])
    records = [
        r
        for r in records
        if (r.status == "active" if active_only else findable(r, today, settings.closed_findable_days))
    ]
    if not records:
        return Lookup(Outcome.NO_MATCH, [], 0, read.guard)
    candidates = [to_match_identity(open_identity(services.cipher, r.child_id, r.identity)) for r in records]
    decision = decide(to_match_identity(identity), candidates, services.match_config)
    named = [records[i] for i in decision.ranked]
    return Lookup(decision.outcome, named, len(records), read.guard, heads)
