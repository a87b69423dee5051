"""Break-glass: a manager of the searching organisation reveals a shielded child's signpost.

A shielded signpost routes the professional to the responsible organisation's
manager without naming the child's record. When that is not enough (an
emergency out of hours, say) an `la_manager` of the organisation that searched
may reveal it, giving a justification - within BREAK_GLASS_WINDOW_HOURS (24) of
the search, and only the children that search matched as it saw them: shielded
then, and still the responsibility of the same organisation. A child shielded or
moved since stays shielded (a new search, and its own break-glass, would be needed), and
a child moved since is not shown at all (the search showed it elsewhere).
The reveal is recorded in the search's chain and in each revealed child's chain,
flagged `review: true`, and the responsible organisation is told at once
(`break_glass_used`) - all in one transaction, so there is no reveal without its
alert and its audit.
"""

from __future__ import annotations

import datetime as dt

from signpost.authz import Action, Caller
from signpost.errors import Conflict, NotFound
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries, search_chain
from signpost.logic.disclosure import tell_responsible
from signpost.logic.services import Services
from signpost.logic.signposts import signposts_for
from signpost.models.common import MAX_ID_LENGTH, Outcome
from signpost.models.domain import AuditEntry, Changes, ChildRecord
from signpost.models.search import BreakGlassRequest, SearchResult

SEARCH_ENTRY_SEQ = 0  # a search chain starts with the search itself


def break_glass(
    services: Services, caller: Caller, search_id: str, request: BreakGlassRequest
) -> SearchResult:
    caller.require(Action.BREAK_GLASS)  # 403 for any other role, before anything is read

    def attempt() -> SearchResult:
        searched = _own_search(services, caller, search_id)
        window = dt.timedelta(hours=services.settings.break_glass_window_hours)
        if services.now() - searched.at > window:
            raise Conflict(
                f"break-glass is possible only within {services.settings.break_glass_window_hours} hours"
                " of the search: search again"
            )
        records = _matched_records(services, searched)
        shielded = _revealable(searched, records)
        if not shielded:
            raise Conflict("no signpost of this search is shielded")
        outcome = Outcome(searched.outcome or Outcome.NO_MATCH.value)
        signposts = [
            signpost
            for record in records
            for signpost in signposts_for(
                [record], outcome, caller, services.store.directory, reveal_shielded=record in shielded
            )
        ]
        changes = Changes()
        trail = AuditTrail(services, caller)
        revealed = [r.child_id for r in shielded]
        trail.add(
            changes,
            search_chain(search_id),
            "break_glass",
            search_id=search_id,
            reason=searched.reason,
            outcome=searched.outcome,
            review=True,
            details={"justification": request.justification, "revealed": revealed},
        )
        for record in shielded:
            trail.add(
                changes,
                child_chain(record.child_id),
                "break_glass",
                child_id=record.child_id,
                search_id=search_id,
                reason=searched.reason,
                outcome=searched.outcome,
                review=True,
            )
            changes.outbox.append(tell_responsible(services, caller, record, "break_glass_used", search_id))
        services.store.commit(changes)
        return SearchResult(search_id=search_id, outcome=outcome, signposts=signposts)

    return commit_with_retries(attempt)


def _own_search(services: Services, caller: Caller, search_id: str) -> AuditEntry:
    """The search, if the caller's organisation made it; otherwise 404 exactly as if it did not exist."""
    if not search_id or len(search_id) > MAX_ID_LENGTH:
        raise NotFound("no such search")
    entry = services.store.audit.get(search_chain(search_id), SEARCH_ENTRY_SEQ)
    if entry is None or entry.action != "search" or entry.org != caller.org:
        raise NotFound("no such search")
    return entry


def _revealable(searched: AuditEntry, records: list[ChildRecord]) -> list[ChildRecord]:
    """The matched children shielded when the search saw them, still with the same organisation.

    A search recorded before the search entry kept that (`shielded` absent) reveals the
    children shielded now, as break-glass always did; such entries are past the window soon.
    """
    then = (searched.details or {}).get("shielded")
    return [
        r
        for r in records
        if r.shielding is not None
        and (then is None or (isinstance(then, dict) and then.get(r.child_id) == r.org))
    ]


def _matched_records(services: Services, searched: AuditEntry) -> list[ChildRecord]:
    """The records the search matched, in its ranking, still with the organisation the search
    showed: a record purged since is left out, and so is a child moved to another organisation
    since (showing where it is now would be a new answer, unaudited and untold)."""
    details = searched.details or {}
    child_ids = [str(c) for c in details.get("children", [])]
    then = details.get("responsible")
    by_id = {r.child_id: r for r in services.store.records.get_children(child_ids)} if child_ids else {}
    return [
        by_id[c]
        for c in child_ids
        if c in by_id and (not isinstance(then, dict) or then.get(c) == by_id[c].org)
    ]
