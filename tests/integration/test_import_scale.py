"""A 25,000-row file end to end on moto: upload, 250 batches through the queue and the worker,
every row through the register logic, the report complete and exact.

Slow (`make test-slow`; a CI job of its own): each new child is a lookup and a registration
transaction whose dozen conditional block updates moto parses and evaluates in several ms
each, so the run takes tens of minutes here while AWS would take minutes (`make bench-import`).
It prints its timings; it asserts outcomes, never timings.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import boto3
import pytest
from signpost import wiring
from signpost.logic.imports import MAX_UPLOAD_BYTES

from infrastructure.local.aws import IMPORTS_BUCKET, TEMPLATE_PATH, LocalAws
from infrastructure.local.routes import load_routes
from tests.support.imports import Importer, fake_rows, to_csv
from tests.support.lambda_events import caller, invoke, make_event

ROWS = 25_000
HACKNEY = caller("E09000012", "la_practitioner", "hackney-sw-1")


@pytest.mark.slow
@pytest.mark.timeout(7200)
def test_a_25000_row_file_imports_end_to_end() -> None:
    rows = fake_rows(ROWS, seed=25)
    for i in range(0, ROWS, 100):
        rows[i]["nhs_number"] = "9990000019"  # a bad check digit: 250 rejects
    theirs = rows[5:ROWS:1000]  # 25 children Hackney already has: duplicates
    data = to_csv(rows)
    assert len(data) <= MAX_UPLOAD_BYTES
    worker_timeout = load_routes(TEMPLATE_PATH).function("import_worker").timeout_seconds
    timings: dict[str, Any] = {"rows": ROWS, "bytes": len(data)}
    with LocalAws() as aws, contextlib.redirect_stdout(io.StringIO()):
        wiring.reset_services()
        for row in theirs:
            body = {
                **{
                    k: row[k]
                    for k in ("given_names", "family_name", "date_of_birth", "nhs_number", "postcode")
                },
                "categories": ["looked_after"],
                "review_by": row["review_by"],
            }
            assert invoke("records", make_event("POST", "/v1/children", body, HACKNEY)).status == 201
        importer = Importer(aws)
        started = time.perf_counter()
        accepted = importer.upload(data)
        timings["upload_s"] = round(time.perf_counter() - started, 2)
        assert accepted.status == 202, accepted.json()
        durations: list[float] = []

        def timed(event: dict[str, Any]) -> Any:
            began = time.perf_counter()
            try:
                return invoke("import_worker", event)
            finally:
                durations.append(time.perf_counter() - began)

        started = time.perf_counter()
        importer.queue.drain(timed)
        timings["import_s"] = round(time.perf_counter() - started, 1)
        report = importer.report(accepted.json()["import_id"])
        leftover = boto3.client("s3", region_name="eu-west-2").list_objects_v2(Bucket=IMPORTS_BUCKET)
    wiring.reset_services()
    timings.update(
        rows_per_s=round(ROWS / timings["import_s"], 1),
        invocations=len(durations),
        slowest_invocation_s=round(max(durations), 1),
        worker_timeout_s=worker_timeout,
    )
    print(f"\n25,000-row import on moto: {timings}")
    assert {
        k: report[k] for k in ("status", "rows_total", "rows_done", "accepted", "duplicates", "rejected")
    } == {
        "status": "completed",
        "rows_total": ROWS,
        "rows_done": ROWS,
        "accepted": ROWS - 250 - 25,
        "duplicates": 25,
        "rejected": 250,
    }
    assert [r["row"] for r in report["rejects"]] == [i + 2 for i in range(0, ROWS, 100)]
    assert {r["code"] for r in report["rejects"]} == {"R003_INVALID_NHS_NUMBER"}
    assert [d["row"] for d in report["duplicates_detail"]] == [i + 2 for i in range(5, ROWS, 1000)]
    assert len(durations) == 125  # 250 batches of 100 rows, 2 per invocation, none retried
    assert importer.queue.stats.retried == 0
    assert "Contents" not in leftover
