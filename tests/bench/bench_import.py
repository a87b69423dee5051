"""make bench-import: what a bulk import costs, measured in process against moto, projected to AWS.

Imports a generated caseload (BENCH_IMPORT_ROWS rows, default 1,000: ~1% rejected, ~0.5%
already active at another authority) through the real handlers (upload, then the queue fed
to the worker), then uploads the same file again (every row unchanged, as a nightly re-sync
would be). For each pass it prints rows/s in process, AWS calls per row by service and
operation (counted with botocore event hooks), and DynamoDB request units per row
(aws_usage.Usage: DynamoDB's pricing rules, as `make bench` counts them).

From those counts it projects a 15,000-row file on AWS: the time per row is our own code's
CPU time (the in-process time outside AWS calls, slowed to the worker's share of a vCPU) plus
each call at the cost model's assumed in-region latency; the wall time spreads the rows over
the worker's concurrency; the cost adds Lambda GB-seconds and requests, DynamoDB on-demand
units, KMS, S3 and SQS requests at the cost model's list prices (tests/bench/cost_model.py:
check them against the AWS price list). `make bench` prices a row fully (notifier, audit
sealer, logs, traces) and the yearly load of imports. moto's own speed is not AWS's: only
the counts carry over, which is why the projection starts from them.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import boto3  # noqa: E402
from signpost import wiring  # noqa: E402
from signpost.dal import clients  # noqa: E402
from signpost.dal.clients import reset_clients  # noqa: E402

from infrastructure.local.aws import LocalAws  # noqa: E402
from tests.bench import cost_model  # noqa: E402
from tests.bench.aws_usage import Usage, import_settings, template_indexes  # noqa: E402
from tests.support.imports import Importer, fake_rows, to_csv  # noqa: E402
from tests.support.lambda_events import caller, invoke, make_event  # noqa: E402

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "1000"))
PROJECTED_ROWS = 15_000

# List prices, USD, eu-west-2 (London), on demand: the cost model's table (make bench), one source.
PRICE = {
    "lambda_gb_s_arm64": cost_model.price("lambda_arm_gb_s"),
    "lambda_request": cost_model.price("lambda_request"),
    "dynamodb_wru": cost_model.price("dynamodb_wru"),
    "dynamodb_rru": cost_model.price("dynamodb_rru"),
    "kms_request": cost_model.price("kms_request"),
    "s3_put": cost_model.price("s3_put"),
    "s3_get": cost_model.price("s3_get"),
    "sqs_request": cost_model.price("sqs_request"),
}


class Meter:
    """Counts AWS calls and the time spent inside them (botocore hooks on every client), and
    DynamoDB request units by DynamoDB's pricing rules (aws_usage.Usage, as `make bench`)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.seconds_in_calls = 0.0
        self._started: list[float] = []
        self.usage: Usage | None = None

    def reset(self) -> None:
        self.calls = Counter()
        self.seconds_in_calls = 0.0
        self._started = []
        if self.usage is not None:
            self.usage.take()

    def units(self) -> Counter[str]:
        return self.usage.units if self.usage is not None else Counter()

    def before(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1
        self._started.append(time.perf_counter())

    def after(self, **_: Any) -> None:
        if self._started:
            self.seconds_in_calls += time.perf_counter() - self._started.pop()

    def install(self, aws: LocalAws) -> None:
        events = boto3._get_default_session().events
        events.register("before-call.*.*", self.before)
        events.register("after-call.*.*", self.after)
        reset_clients()  # clients made before now would not carry the hooks
        wiring.reset_services()
        logical = {name: logical_id for logical_id, name in aws.tables.items()}
        dynamodb = clients.dynamodb()
        self.usage = Usage([dynamodb], template_indexes(aws.tables), logical)
        # the clock stops after Usage has priced the call: its work is not our code's CPU time
        dynamodb.meta.events.unregister("after-call.*.*", self.after)
        dynamodb.meta.events.register("after-call.*.*", self.after)


def _latency(name: str) -> float:
    return cost_model.CALL_MS.get(name, cost_model.DEFAULT_CALL_MS) / 1000


def _pass(importer: Importer, data: bytes, meter: Meter) -> dict[str, Any]:
    meter.reset()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        accepted = importer.upload(data)
    upload_s = time.perf_counter() - started
    upload_calls = dict(meter.calls)
    meter.reset()
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        importer.run()
    elapsed = time.perf_counter() - started
    report = importer.report(accepted.json()["import_id"])
    if report["status"] != "completed" or importer.queue.stats.errors:
        raise SystemExit(f"the import did not complete: {report['status']} {importer.queue.stats}")
    units = meter.units()
    per_row = {name: count / ROWS for name, count in sorted(meter.calls.items())}
    by_service: Counter[str] = Counter()
    for name, count in per_row.items():
        by_service[name.split(":")[0]] += count
    return {
        "outcome": {
            k: report[k] for k in ("status", "accepted", "updated", "unchanged", "duplicates", "rejected")
        },
        "upload_s_moto": round(upload_s, 2),
        "upload_calls": upload_calls,
        "rows_per_s_moto": round(ROWS / elapsed, 1),
        "calls_per_row": {k: round(v, 3) for k, v in per_row.items()},
        "calls_per_row_by_service": {k: round(v, 3) for k, v in sorted(by_service.items())},
        "cpu_ms_per_row": round(max(elapsed - meter.seconds_in_calls, 0) / ROWS * 1000, 2),
        "wru_per_row": round((units["wru"] + units["wru_index"]) / ROWS, 2),
        "rru_per_row": round(units["rru"] / ROWS, 2),
    }


def project(figures: dict[str, Any], worker: dict[str, Any]) -> dict[str, Any]:
    """A PROJECTED_ROWS-row file on AWS, from one pass's counts."""
    slowdown = max(1.0, 1769 / (1024 * worker["memory_gb"]))  # Lambda: one vCPU at 1,769 MB
    per_row_s = figures["cpu_ms_per_row"] * slowdown / 1000 + sum(
        count * _latency(name) for name, count in figures["calls_per_row"].items()
    )
    rows = PROJECTED_ROWS
    batches = math.ceil(rows / worker["batch_rows"])
    invocations = math.ceil(batches / worker["batch_size"])
    invocation_s = per_row_s * worker["batch_rows"] * worker["batch_size"]
    worker_seconds = per_row_s * rows
    wall_s = worker_seconds / worker["concurrency"] + 2 * invocation_s / worker["batch_size"]
    calls = {name: count * rows for name, count in figures["calls_per_row"].items()}
    kms = sum(v for k, v in calls.items() if k.startswith("kms"))
    s3_puts = 1
    s3_gets = sum(v for k, v in calls.items() if k.startswith("s3:Get"))
    sqs = batches * 3  # sent (in tens, counted singly here), received, deleted
    cost = {
        "lambda": worker_seconds * worker["memory_gb"] * PRICE["lambda_gb_s_arm64"]
        + invocations * PRICE["lambda_request"],
        "dynamodb": figures["wru_per_row"] * rows * PRICE["dynamodb_wru"]
        + figures["rru_per_row"] * rows * PRICE["dynamodb_rru"],
        "kms": kms * PRICE["kms_request"],
        "s3": s3_puts * PRICE["s3_put"] + s3_gets * PRICE["s3_get"],
        "sqs": sqs * PRICE["sqs_request"],
    }
    return {
        "rows": rows,
        "seconds_per_row": round(per_row_s, 4),
        "batches": batches,
        "invocations": invocations,
        "seconds_per_invocation": round(invocation_s, 1),
        "worker_timeout_s": worker["timeout_s"],
        "wall_minutes": round(wall_s / 60, 1),
        "cost_usd": {k: round(v, 4) for k, v in cost.items()} | {"total": round(sum(cost.values()), 4)},
    }


def main() -> None:
    worker = import_settings()
    rows = fake_rows(ROWS, seed=2026)
    for i in range(0, ROWS, 100):
        rows[i]["nhs_number"] = "9990000019"  # ~1% rejected
    theirs = rows[7:ROWS:200]  # ~0.5% already active at another authority
    data = to_csv(rows)
    hackney = caller("E09000012", "la_practitioner", "bench-hackney")
    meter = Meter()
    with LocalAws(extra_env={"IMPORT_BATCH_ROWS": str(worker["batch_rows"])}) as aws:
        wiring.reset_services()
        with contextlib.redirect_stdout(io.StringIO()):
            for row in theirs:
                body = {k: row[k] for k in ("given_names", "family_name", "date_of_birth", "nhs_number")}
                body |= {"categories": ["looked_after"], "review_by": row["review_by"]}
                invoke("records", make_event("POST", "/v1/children", body, hackney))
        meter.install(aws)
        importer = Importer(aws)
        print(f"importing {ROWS} rows on moto…", file=sys.stderr)
        first = _pass(importer, data, meter)
        print("uploading the same file again…", file=sys.stderr)
        again = _pass(importer, data, meter)
    wiring.reset_services()
    figures = {
        "rows": ROWS,
        "bytes_per_row": round(len(data) / ROWS, 1),
        "worker": worker,
        "first_import": first,
        "re_upload_unchanged": again,
        "projected_aws_first_import": project(first, worker),
        "projected_aws_re_upload": project(again, worker),
        "assumed_latency_ms": cost_model.CALL_MS,
        "assumed_price_usd": PRICE,
    }
    for label, key in (("first import", "first_import"), ("re-upload (unchanged)", "re_upload_unchanged")):
        f = figures[key]
        print(f"{label}: {f['outcome']}")
        print(f"  in process on moto: {f['rows_per_s_moto']} rows/s; our CPU {f['cpu_ms_per_row']} ms/row")
        print(f"  AWS calls per row by service: {f['calls_per_row_by_service']}")
        print(f"  AWS calls per row: {f['calls_per_row']}")
        print(f"  DynamoDB units per row (estimated): {f['wru_per_row']} write, {f['rru_per_row']} read")
    for label, key in (
        ("first import", "projected_aws_first_import"),
        ("re-upload", "projected_aws_re_upload"),
    ):
        p = figures[key]
        print(
            f"projected on AWS, {p['rows']:,}-row file, {label}: {p['wall_minutes']} min wall "
            f"({p['invocations']} invocations of ~{p['seconds_per_invocation']} s; "
            f"timeout {p['worker_timeout_s']} s), ${p['cost_usd']['total']} ({p['cost_usd']})"
        )
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
