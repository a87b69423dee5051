"""The access log of a child: every search that found it and every read or change, newest first."""

from __future__ import annotations

from signpost.authz import Action, Caller
from signpost.errors import NotFound
from signpost.logic.audit_trail import child_chain
from signpost.logic.search import SENSITIVE_SERVICE_LABEL
from signpost.logic.services import DirectoryReader, Services
from signpost.models.audit import AccessLog, AccessLogEntry
from signpost.models.domain import AuditEntry

MAX_PAGE = 100


def access_log(
    services: Services, caller: Caller, child_id: str, *, limit: int = MAX_PAGE, after: int | None = None
) -> tuple[AccessLog, int | None]:
    caller.require(Action.ACCESS_LOG)
    record = services.store.records.get_child(child_id)
    if record is None:
        # Purged after retention (or never there): the audit outlives the record, for auditors only.
        if (
            not caller.can(Action.ACCESS_LOG_ANY)
            or not services.store.audit.head(child_chain(child_id)).exists
        ):
            raise NotFound("no such child")
    elif not caller.can(Action.ACCESS_LOG_ANY) and record.org != caller.org:
        raise NotFound("no such child")
    entries, next_after = services.store.audit.entries(
        child_chain(child_id), newest_first=True, limit=max(1, min(limit, MAX_PAGE)), start_after=after
    )
    items = [shown_entry(e, services.store.directory) for e in entries]
    return AccessLog(items=items), next_after


def shown_entry(entry: AuditEntry, directory: DirectoryReader) -> AccessLogEntry:
    """An audit entry as the API shows it: a sensitive service only as "a health service".

    Flagged when the entry was written, or since: either way it is never named.
    """
    current = directory.get(entry.org)
    sensitive = entry.sensitive_service or (current is not None and current.sensitive_service)
    return AccessLogEntry(
        at=entry.at,
        org=SENSITIVE_SERVICE_LABEL if sensitive else entry.org,
        role="health" if sensitive else entry.role,
        action=entry.action,
        reason=entry.reason,
        outcome=entry.outcome,
    )
