"""The access log of a child: every search that found it and every read or change, newest first."""

from __future__ import annotations

from signpost.authz import Action, Caller
from signpost.errors import NotFound
from signpost.logic.audit_trail import child_chain
from signpost.logic.search import SENSITIVE_SERVICE_LABEL
from signpost.logic.services import Services
from signpost.models.audit import AccessLog, AccessLogEntry

MAX_PAGE = 100


def access_log(
    services: Services, caller: Caller, child_id: str, *, limit: int = MAX_PAGE, after: int | None = None
) -> tuple[AccessLog, int | None]:
    if not (caller.can(Action.ACCESS_LOG_ANY) or caller.can(Action.ACCESS_LOG_OWN)):
        caller.require(Action.ACCESS_LOG_OWN)
    record = services.store.records.get_child(child_id)
    if record is None or (not caller.can(Action.ACCESS_LOG_ANY) and record.org != caller.org):
        raise NotFound("no such child")
    entries, next_after = services.store.audit.entries(
        child_chain(child_id), newest_first=True, limit=max(1, min(limit, MAX_PAGE)), start_after=after
    )
    items = [
        AccessLogEntry(
            at=e.at,
            org=SENSITIVE_SERVICE_LABEL if e.sensitive_service else e.org,
            role="health" if e.sensitive_service else e.role,
            action=e.action,
            reason=e.reason,
            outcome=e.outcome,
        )
        for e in entries
    ]
    return AccessLog(items=items), next_after
