"""Search: is this child known, and whom should the professional contact?"""

from __future__ import annotations

from signpost.authz import SENSITIVE_SERVICE_LABEL, Action, Caller
from signpost.errors import BadRequest
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries, search_chain
from signpost.logic.identity import identity_dict
from signpost.logic.lookup import lookup
from signpost.logic.rate_limit import RateLimitReader, limit_reached, police_quota
from signpost.logic.services import Services
from signpost.logic.signposts import organisation_or_placeholder, signposts_for
from signpost.models.common import Outcome, SearchReason
from signpost.models.domain import Changes, ChildRecord, CommitConflict, OutboxIntent
from signpost.models.search import SearchRequest, SearchResult

__all__ = [
    "SENSITIVE_SERVICE_LABEL",
    "check_reason",
    "search",
    "shown_as",
    "tell_responsible",
    "viewed_notifications",
]


def shown_as(caller: Caller) -> str:
    """How the caller's organisation appears to others: a sensitive service is never named."""
    return SENSITIVE_SERVICE_LABEL if caller.sensitive_service else caller.org


def check_reason(caller: Caller, request: SearchRequest) -> None:
    """Police must give police_enquiry (with a case reference), and only police may."""
    police_reason = request.reason == SearchReason.POLICE_ENQUIRY
    if caller.is_police != police_reason:
        message = (
            "police searches must give reason police_enquiry"
            if caller.is_police
            else "only police may give reason police_enquiry"
        )
        raise BadRequest(message, errors=[{"field": "reason", "message": message}])


def search(
    services: Services,
    caller: Caller,
    request: SearchRequest,
    rate_limits: RateLimitReader | None = None,
) -> SearchResult:
    """Look the child up, audit the search and notify the responsible organisation, in one commit.

    `rate_limits` lets a police practitioner over the hourly limit be refused before
    any lookup; the limit itself is enforced by the commit's condition either way.
    """
    caller.require(Action.SEARCH)
    check_reason(caller, request)
    quota = police_quota(caller, services.settings.police_searches_per_hour, services.now(), rate_limits)
    found = lookup(services, identity_dict(request))
    signposts = signposts_for(found.records, found.outcome, caller, services.store.directory)
    search_id = services.new_id()
    heads = dict(found.heads)  # read with the candidates; a retry reads them afresh

    def attempt() -> None:
        changes = Changes()
        trail = AuditTrail(services, caller, heads)
        heads.clear()
        # The search's own entry also holds what break-glass needs to reveal a shielded child later.
        trail.add(
            changes,
            search_chain(search_id),
            "search",
            new_chain=True,
            search_id=search_id,
            reason=request.reason.value,
            outcome=found.outcome.value,
            case_reference=request.case_reference,
            details={
                "children": [r.child_id for r in found.records],
                "candidates_read": found.candidates_read,
            },
        )
        for record in found.records:
            trail.add(
                changes,
                child_chain(record.child_id),
                "search",
                child_id=record.child_id,
                search_id=search_id,
                reason=request.reason.value,
                outcome=found.outcome.value,
            )
            changes.outbox.extend(viewed_notifications(services, caller, record, found.outcome, search_id))
        if quota is not None:
            changes.rate_limits.append(quota)
        services.store.commit(changes)

    try:
        commit_with_retries(attempt)
    except CommitConflict as conflict:
        if "rate_limit" in conflict.reasons:
            raise limit_reached(services.now()) from None
        raise
    return SearchResult(search_id=search_id, outcome=found.outcome, signposts=signposts)


def tell_responsible(
    services: Services, caller: Caller, record: ChildRecord, kind: str, search_id: str | None
) -> OutboxIntent:
    """A notification to the child's responsible organisation about what the caller did."""
    return OutboxIntent(
        intent_id=services.new_id(),
        to_org=record.org,
        type=kind,
        created_at=services.now(),
        child_id=record.child_id,
        search_id=search_id,
        from_org=shown_as(caller),
    )


def viewed_notifications(
    services: Services, caller: Caller, record: ChildRecord, outcome: Outcome, search_id: str | None
) -> list[OutboxIntent]:
    """record_viewed to the responsible LA (not for its own searches; police searches always
    notify); seen_in_other_area on a match from another area. A sensitive service is never
    named: it appears as a health service."""
    if caller.org == record.org:
        return []
    intents = [tell_responsible(services, caller, record, "record_viewed", search_id)]
    if outcome == Outcome.MATCH:
        responsible = organisation_or_placeholder(services.store.directory, record.org)
        if caller.area and caller.area != responsible.area:
            intents.append(
                intents[0].model_copy(update={"intent_id": services.new_id(), "type": "seen_in_other_area"})
            )
    return intents
