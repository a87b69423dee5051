"""Finding the records a given identity matches: blind-index blocking, decryption, scoring."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from signpost.logic.identity import open_identity, search_indexes, to_match_identity
from signpost.logic.matcher import decide
from signpost.logic.services import Services
from signpost.models.common import Outcome
from signpost.models.domain import ChildRecord


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    records: list[ChildRecord]  # ranked; empty for no_match
    candidates_read: int


def findable(record: ChildRecord, today: dt.date, closed_findable_days: int) -> bool:
    if record.status == "active":
        return True
    if record.closed_at is None:
        return False
    return (today - record.closed_at.date()).days <= closed_findable_days


def lookup(services: Services, identity: dict[str, Any], *, active_only: bool = False) -> Lookup:
    settings = services.settings
    indexes = search_indexes(services.indexer, identity)
    ids = services.store.records.child_ids_for_indexes(indexes, limit=settings.max_candidates)
    records = services.store.records.get_children(ids[: settings.max_candidates]) if ids else []
    today = services.today()
    records = [
        r
        for r in records
        if (r.status == "active" if active_only else findable(r, today, settings.closed_findable_days))
    ]
    if not records:
        return Lookup(Outcome.NO_MATCH, [], 0)
    candidates = [to_match_identity(open_identity(services.cipher, r.child_id, r.identity)) for r in records]
    decision = decide(to_match_identity(identity), candidates, services.match_config)
    return Lookup(decision.outcome, [records[i] for i in decision.ranked], len(records))
