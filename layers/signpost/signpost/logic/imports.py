"""Bulk import, the API side: accept an upload, report on an import, list an organisation's imports.

POST stores the file (encrypted) and queues one message per batch of rows; the worker
(logic/import_worker.py) imports each batch through the register logic of POST /v1/children.
Progress is the sum of the batches' counters, each moved in the same transaction as its rows.
"""

from __future__ import annotations

import datetime as dt
import re

from signpost.authz import Action, Caller
from signpost.dal.cursors import decode_cursor, encode_cursor
from signpost.errors import ContentTooLarge, NotFound
from signpost.logic import import_csv
from signpost.logic.audit_trail import AuditTrail, commit_with_retries
from signpost.logic.import_ports import ImportPorts, import_chain
from signpost.logic.services import Services
from signpost.models.domain import Changes
from signpost.models.imports import (
    BatchProgress,
    DuplicateRow,
    ImportAccepted,
    ImportJob,
    ImportList,
    ImportStatus,
    ImportSummary,
    ImportView,
    Reject,
)

MAX_UPLOAD_BYTES = 4 * 1024 * 1024  # API.md: at most 4 MB, about 25,000 rows
# An upload whose batches never reached the queue (the request failed after storing it) is
# reported failed after this long; uploading the file again imports it.
NOT_QUEUED_AFTER = dt.timedelta(minutes=15)
# How long an upload is kept (template.yaml: the bucket's lifecycle rule, and the queue keeps a
# batch message as long): an import not complete by then never will be, so it reports failed.
UPLOAD_KEPT = dt.timedelta(days=7)
# Where each list stopped: a reject's sort key, a duplicate's, or `~` (that list is done). Each
# position stays in its own list (DynamoDB refuses a starting key outside the key condition).
_REJECT_AT = r"(?:REJECT#[0-9]{1,10}#[0-9]{1,4}|~)?"
_DUPLICATE_AT = r"(?:DUP#[0-9]{1,10}|~)?"
_VIEW_CURSOR = re.compile(rf"{_REJECT_AT}\|{_DUPLICATE_AT}")
_LIST_CURSOR = re.compile(r"[0-9T:.+\-]{10,40}#[0-9]{20}#[A-Za-z0-9_-]{1,64}")
_DONE = "~"


def start_import(services: Services, ports: ImportPorts, caller: Caller, data: bytes) -> ImportAccepted:
    """Check the file's header, store it, record the upload (audited) and queue its batches."""
    caller.require(Action.IMPORT)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ContentTooLarge(f"an import file may be at most {MAX_UPLOAD_BYTES} bytes")
    plan = import_csv.plan(data, services.settings.import_batch_rows)
    import_id = services.new_id()
    now = services.now()
    job = ImportJob(
        import_id=import_id,
        org=caller.org,
        caller=caller.as_context(),
        created_at=now,
        rows_total=plan.rows_total,
        batches=len(plan.batches),
        columns=plan.columns,
        object_key=f"{caller.org}/{import_id}.csv",
        batch_last_rows=[batch.last_row for batch in plan.batches],
        expires_at=int((now + dt.timedelta(days=services.settings.import_report_days)).timestamp()),
    )
    ports.uploads.put(job.object_key, data)

    def attempt() -> None:
        changes = Changes(import_jobs=[job])
        AuditTrail(services, caller).add(
            changes,
            import_chain(import_id),
            "import",
            new_chain=True,
            details={"rows": plan.rows_total, "batches": len(plan.batches)},
        )
        services.store.commit(changes)

    commit_with_retries(attempt)
    ports.queue.send([batch.message(import_id) for batch in plan.batches])
    ports.imports.mark_enqueued(import_id, services.now().isoformat())
    return ImportAccepted(import_id=import_id, status=ImportStatus.QUEUED)


def summarise(job: ImportJob, batches: list[BatchProgress], now: dt.datetime) -> ImportSummary:
    """Counts and status from the batches' own counters (a batch has an item once it started)."""
    counts = {name: sum(getattr(b, name) for b in batches) for name in BatchProgress.counters()}
    done = sum(1 for b in batches if job.finished(b))
    if done == job.batches:
        status = ImportStatus.COMPLETED
    elif (
        any(b.failed for b in batches)
        or (job.enqueued_at is None and now - job.created_at > NOT_QUEUED_AFTER)
        or now - job.created_at > UPLOAD_KEPT
    ):
        status = ImportStatus.FAILED
    elif batches:
        status = ImportStatus.RUNNING
    else:
        status = ImportStatus.QUEUED
    return ImportSummary(
        import_id=job.import_id,
        status=status,
        created_at=job.created_at,
        completed_at=job.completed_at,
        rows_total=job.rows_total,
        rows_done=sum(b.rows_done for b in batches),
        accepted=counts["created"] + counts["updated"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        duplicates=counts["duplicates"],
        rejected=counts["rejected"],
    )


def _own_job(ports: ImportPorts, caller: Caller, import_id: str) -> ImportJob:
    """The import, if the caller's organisation made it; otherwise 404 as if absent."""
    caller.require(Action.IMPORT)
    job = ports.imports.get_job(import_id)
    if job is None or job.org != caller.org:
        raise NotFound("no such import")
    return job


def get_import(
    services: Services, ports: ImportPorts, caller: Caller, import_id: str, *, cursor: str | None, limit: int
) -> ImportView:
    """Progress, and a page of rejects and of duplicates (both lists go on with `cursor`)."""
    job = _own_job(ports, caller, import_id)
    rejects_after, duplicates_after = None, None
    if cursor:
        raw = decode_cursor(cursor, _VIEW_CURSOR, field="cursor")
        rejects_after, duplicates_after = (part or None for part in raw.split("|"))
    summary = summarise(job, ports.imports.batches(import_id), services.now())
    rejects: list[Reject] = []
    more_rejects = None
    if rejects_after != _DONE:
        rejects, more_rejects = ports.imports.rejects(import_id, rejects_after, limit)
    duplicates: list[DuplicateRow] = []
    more_duplicates = None
    if duplicates_after != _DONE:
        duplicates, more_duplicates = ports.imports.duplicates(import_id, duplicates_after, limit)
    next_cursor = None
    if more_rejects or more_duplicates:
        next_cursor = encode_cursor(f"{more_rejects or _DONE}|{more_duplicates or _DONE}")
    return ImportView(
        **summary.model_dump(), rejects=rejects, duplicates_detail=duplicates, cursor=next_cursor
    )


def list_imports(
    services: Services, ports: ImportPorts, caller: Caller, *, cursor: str | None, limit: int
) -> ImportList:
    """The caller's organisation's imports, newest first."""
    caller.require(Action.IMPORT)
    after = decode_cursor(cursor, _LIST_CURSOR, field="cursor") if cursor else None
    jobs, more = ports.imports.list_jobs(caller.org, after, limit)
    now = services.now()
    items = [summarise(job, ports.imports.batches(job.import_id), now) for job in jobs]
    return ImportList(items=items, cursor=encode_cursor(more) if more else None)
