"""Revealing that a child is on the index: audited on the child's chain, told to the
responsible organisation, and shown only as a signpost - the same for every path.

A search reveals children; so does any answer that says "this child already exists"
(a duplicate registration found by the matcher, a conflict on a guard such as the NHS
number's, a correction that collides with another record). Each of them pays the same
price: an entry on each revealed child's chain (its access log), `record_viewed` to the
responsible organisation (and `seen_in_other_area` on a match from another area), the
police search limit, and signposts with the same redaction as a search's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from signpost.audit_chain import ChainHead
from signpost.authz import SENSITIVE_SERVICE_LABEL, Caller
from signpost.errors import Conflict
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries
from signpost.logic.identity import nhs_index, open_identity, to_match_identity
from signpost.logic.matcher import decide
from signpost.logic.rate_limit import commit_counted, police_quota
from signpost.logic.services import Services
from signpost.logic.signposts import organisation_or_placeholder, signposts_for
from signpost.models.common import Outcome
from signpost.models.domain import Changes, ChildRecord, CommitConflict, OutboxIntent
from signpost.models.search import SignpostOut

__all__ = [
    "GUARD_OWNERS",
    "already_on_index",
    "commit_or_reveal",
    "disclose",
    "outcome_against",
    "reveal_existing",
    "shown_as",
    "tell_responsible",
    "viewed_notifications",
]


def shown_as(caller: Caller) -> str:
    """How the caller's organisation appears to others: a sensitive service is never named."""
    return SENSITIVE_SERVICE_LABEL if caller.sensitive_service else caller.org


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


def disclose(
    services: Services,
    caller: Caller,
    trail: AuditTrail,
    changes: Changes,
    records: list[ChildRecord],
    *,
    outcome: Outcome,
    action: str,
    **fields: Any,
) -> None:
    """Add to `changes` what revealing `records` costs: an entry on each child's chain and
    the notifications a search would raise."""
    for record in records:
        trail.add(
            changes,
            child_chain(record.child_id),
            action,
            child_id=record.child_id,
            outcome=outcome.value,
            **fields,
        )
        changes.outbox.extend(
            viewed_notifications(services, caller, record, outcome, fields.get("search_id"))
        )


def reveal_existing(
    services: Services,
    caller: Caller,
    records: list[ChildRecord],
    outcome: Outcome,
    *,
    action: str,
    details: dict[str, Any] | None = None,
    heads: Mapping[str, ChainHead] | None = None,
) -> list[SignpostOut]:
    """Tell the caller that `records` exist: audit, notify and count it like a search, in one
    commit, and return the signposts (shielded children and police redacted as in a search).

    `heads`: the children's chain heads if the lookup has just read them (a retry reads afresh).
    A police practitioner over the search limit is refused (429) and nothing is revealed.
    """
    fresh = dict(heads or {})

    def record(changes: Changes) -> None:
        trail = AuditTrail(services, caller, fresh)
        fresh.clear()
        disclose(
            services,
            caller,
            trail,
            changes,
            records,
            outcome=outcome,
            action=action,
            details=details,
        )

    commit_with_retries(commit_counted(services, caller, record, first=police_quota(services, caller)))
    return signposts_for(records, outcome, caller, services.store.directory)


def already_on_index(
    services: Services,
    caller: Caller,
    records: list[ChildRecord],
    outcome: Outcome,
    *,
    action: str,
    detail: str,
    details: dict[str, Any] | None = None,
    heads: Mapping[str, ChainHead] | None = None,
) -> Conflict:
    """The 409 for "this child already exists": revealed (audited, notified) with its signposts."""
    signposts = reveal_existing(
        services, caller, records, outcome, action=action, details=details, heads=heads
    )
    return Conflict(
        detail, extra={"signposts": [s.model_dump(mode="json", exclude_none=True) for s in signposts]}
    )


def outcome_against(services: Services, identity: dict[str, Any], record: ChildRecord) -> Outcome:
    """What a search with `identity` would say of `record`: `match`, or else `possible_match`
    (a guard conflict has revealed the record even where the identity does not match it)."""
    stored = to_match_identity(open_identity(services.cipher, record.child_id, record.identity))
    decision = decide(to_match_identity(identity), [stored], services.match_config)
    return Outcome.MATCH if decision.outcome == Outcome.MATCH else Outcome.POSSIBLE_MATCH


def _nhs_guard_owner(services: Services, identity: dict[str, Any]) -> str | None:
    guard = nhs_index(services.indexer, identity)
    return services.store.guard_owners.nhs_owner(guard) if guard else None


# A guard conflict (the commit's failure reason) → who holds the guard for this identity.
# Every unique key of an active record that a commit can collide on belongs here.
GUARD_OWNERS: dict[str, Callable[[Services, dict[str, Any]], str | None]] = {
    "nhs_guard": _nhs_guard_owner,
}


def commit_or_reveal(
    services: Services,
    caller: Caller,
    changes: Changes,
    identity: dict[str, Any],
    *,
    action: str,
    detail: str,
    commit: Callable[[Changes], None] | None = None,
) -> None:
    """Commit `changes` (through `commit`, if given); if a guard on `identity` names another
    active record, that record has been revealed: raise the 409 with its signposts, audited and
    notified like a search.

    If the guard's holder is gone by the time it is read (closed meanwhile), the conflict is
    a race: `conflict`, which commit_with_retries runs again.
    """
    try:
        (commit or services.store.commit)(changes)
    except CommitConflict as conflict:
        guards = [reason for reason in conflict.reasons if reason in GUARD_OWNERS]
        if not guards or "idempotency" in conflict.reasons:
            raise
        guard = min(guards)
        owner_id = GUARD_OWNERS[guard](services, identity)
        owner = services.store.records.get_child(owner_id) if owner_id else None
        if owner is None or owner.status != "active":
            raise CommitConflict({"conflict"}) from conflict
        outcome = outcome_against(services, identity, owner)
        raise already_on_index(
            services, caller, [owner], outcome, action=action, detail=detail, details={"guard": guard}
        ) from conflict
