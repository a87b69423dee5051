"""Search: is this child known, and whom should the professional contact?"""

from __future__ import annotations

from signpost.authz import SENSITIVE_SERVICE_LABEL, Action, Caller
from signpost.errors import BadRequest
from signpost.logic.audit_trail import AuditTrail, commit_with_retries, search_chain
from signpost.logic.disclosure import disclose, shown_as, tell_responsible, viewed_notifications
from signpost.logic.identity import identity_dict
from signpost.logic.lookup import lookup
from signpost.logic.rate_limit import commit_counted, police_quota
from signpost.logic.services import Services
from signpost.logic.signposts import signposts_for
from signpost.models.common import SearchReason
from signpost.models.domain import Changes
from signpost.models.search import SearchRequest, SearchResult

__all__ = [
    "SENSITIVE_SERVICE_LABEL",
    "check_reason",
    "search",
    "shown_as",
    "tell_responsible",
    "viewed_notifications",
]


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


def search(services: Services, caller: Caller, request: SearchRequest) -> SearchResult:
    """Look the child up, audit the search and notify the responsible organisation, in one commit.

    A police practitioner whose window is already full is refused before any lookup; the
    limit itself is enforced by the commit's condition on the window.
    """
    caller.require(Action.SEARCH)
    check_reason(caller, request)
    quota = police_quota(services, caller)
    found = lookup(services, identity_dict(request))
    signposts = signposts_for(found.records, found.outcome, caller, services.store.directory)
    search_id = services.new_id()
    heads = dict(found.heads)  # read with the candidates; a retry reads them afresh

    def record(changes: Changes) -> None:
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
                # What break-glass may later reveal: the children shielded as this search saw
                # them, with their responsible organisation then ...
                "shielded": {r.child_id: r.org for r in found.records if r.shielding is not None},
                # ... and every matched child's organisation then: break-glass shows the others
                # only where this search showed them (never where a child has moved since).
                "responsible": {r.child_id: r.org for r in found.records},
            },
        )
        disclose(
            services,
            caller,
            trail,
            changes,
            found.records,
            outcome=found.outcome,
            action="search",
            search_id=search_id,
            reason=request.reason.value,
        )

    commit_with_retries(commit_counted(services, caller, record, first=quota))
    return SearchResult(search_id=search_id, outcome=found.outcome, signposts=signposts)
