"""An import's status from its batches' counters and its age (logic/imports.summarise)."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.logic.imports import NOT_QUEUED_AFTER, UPLOAD_KEPT, summarise
from signpost.models.imports import BatchProgress, ImportJob, ImportStatus

UPLOADED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def job(enqueued: bool = True) -> ImportJob:
    return ImportJob(
        import_id="a" * 32,
        org="E09000007",
        caller={"org": "E09000007", "role": "la_practitioner", "sub": "camden-sw-1"},
        created_at=UPLOADED,
        rows_total=200,
        batches=2,
        columns=["local_id"],
        object_key="E09000007/" + "a" * 32,
        batch_last_rows=[101, 201],
        enqueued_at=UPLOADED + dt.timedelta(seconds=1) if enqueued else None,
    )


HALF = [BatchProgress(batch=1, next_row=102, created=100)]
ALL = [*HALF, BatchProgress(batch=2, next_row=202, created=100)]
FAILING = [BatchProgress(batch=1, next_row=40, failed=True)]


@pytest.mark.parametrize(
    ("batches", "enqueued", "age", "status"),
    [
        ([], True, dt.timedelta(minutes=1), ImportStatus.QUEUED),
        (HALF, True, dt.timedelta(hours=1), ImportStatus.RUNNING),
        (ALL, True, dt.timedelta(hours=1), ImportStatus.COMPLETED),
        (FAILING, True, dt.timedelta(hours=2), ImportStatus.FAILED),
        ([], False, NOT_QUEUED_AFTER + dt.timedelta(seconds=1), ImportStatus.FAILED),
        # the file and the batch messages are gone by now: it can never complete
        (HALF, True, UPLOAD_KEPT - dt.timedelta(minutes=1), ImportStatus.RUNNING),
        (HALF, True, UPLOAD_KEPT + dt.timedelta(minutes=1), ImportStatus.FAILED),
        ([], True, UPLOAD_KEPT + dt.timedelta(minutes=1), ImportStatus.FAILED),
        # ... while one that completed stays completed for as long as its report is kept
        (ALL, True, UPLOAD_KEPT * 4, ImportStatus.COMPLETED),
    ],
)
def test_status(
    batches: list[BatchProgress], enqueued: bool, age: dt.timedelta, status: ImportStatus
) -> None:
    summary = summarise(job(enqueued), batches, UPLOADED + age)
    assert summary.status == status
    assert summary.rows_done == sum(b.rows_done for b in batches)
