"""Subject access: everything held about one child, and every access to it (UK GDPR Art. 15).

Only an `la_manager` of the responsible organisation may produce it (anyone else
with the role: 404, as for any record they may not see). The report is the
decrypted record and the child's whole access log with the same redaction as the
access log: a sensitive service appears only as "a health service". Producing
it is itself audited, before the log is read, so the report lists itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from signpost.authz import Action, Caller
from signpost.errors import NotFound
from signpost.logic.access_log import shown_entry
from signpost.logic.audit_trail import AuditTrail, child_chain, commit_with_retries
from signpost.logic.records import view
from signpost.logic.services import Services
from signpost.models.audit import AccessLogEntry
from signpost.models.domain import Changes, ChildRecord
from signpost.models.security import OpenTransfer, SubjectAccessReport

PAGE = 100


def subject_access_report(services: Services, caller: Caller, child_id: str) -> SubjectAccessReport:
    caller.require(Action.SUBJECT_ACCESS)

    def attempt() -> ChildRecord:
        record = services.store.records.get_child(child_id)
        if record is None or record.org != caller.org:
            raise NotFound("no such child")
        changes = Changes()
        AuditTrail(services, caller).add(
            changes, child_chain(child_id), "subject_access_report", child_id=child_id
        )
        services.store.commit(changes)
        return record

    record = commit_with_retries(attempt)
    transfer = OpenTransfer.model_validate(record.transfer) if record.transfer else None
    return SubjectAccessReport(
        generated_at=services.now(),
        child=view(services, record),
        open_transfer=transfer,
        blind_index_entries=sum(len(blocks) for blocks in record.blocks.values()),
        purge_after=(
            dt.datetime.fromtimestamp(record.expires_at, tz=dt.UTC) if record.expires_at is not None else None
        ),
        access_log=_whole_access_log(services, child_id),
    )


def _whole_access_log(services: Services, child_id: str) -> list[AccessLogEntry]:
    """Every entry of the child's chain, newest first, page by page."""
    items: list[AccessLogEntry] = []
    after: int | None = None
    while True:
        entries, after = services.store.audit.entries(
            child_chain(child_id), newest_first=True, limit=PAGE, start_after=after
        )
        items.extend(shown_entry(e, services.store.directory) for e in entries)
        if after is None:
            return items


@dataclass(frozen=True)
class AuditorReport:
    """What an auditor can still know of a child, whether or not the record itself is still held.

    The identity is never part of it: an auditor's credentials cannot decrypt it, and
    after the retention period it no longer exists. The access log always is.
    """

    child_id: str
    record_held: bool
    status: str | None
    organisation: str | None
    categories: list[str]
    created_at: dt.datetime | None
    closed_at: dt.datetime | None
    close_reason: str | None
    purge_after: dt.datetime | None
    access_log: list[AccessLogEntry]


def auditor_report(services: Services, caller: Caller, child_id: str) -> AuditorReport:
    """Any child's report for an auditor, also after the record was purged (audited like any report)."""
    caller.require(Action.ACCESS_LOG_ANY)

    def attempt() -> ChildRecord | None:
        record = services.store.records.get_child(child_id)
        if record is None and not services.store.audit.head(child_chain(child_id)).exists:
            raise NotFound("no such child")
        changes = Changes()
        AuditTrail(services, caller).add(
            changes,
            child_chain(child_id),
            "subject_access_report",
            child_id=child_id,
            details={"record_held": record is not None},
        )
        services.store.commit(changes)
        return record

    record = commit_with_retries(attempt)
    return AuditorReport(
        child_id=child_id,
        record_held=record is not None,
        status=record.status if record else None,
        organisation=record.org if record else None,
        categories=list(record.categories) if record else [],
        created_at=record.created_at if record else None,
        closed_at=record.closed_at if record else None,
        close_reason=record.close_reason if record else None,
        purge_after=(
            dt.datetime.fromtimestamp(record.expires_at, tz=dt.UTC) if record and record.expires_at else None
        ),
        access_log=_whole_access_log(services, child_id),
    )
