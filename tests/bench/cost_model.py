"""What Signpost costs to run: measured usage per operation x AWS list prices for eu-west-2.

Usage per operation comes from `make bench` (calls and DynamoDB request units per endpoint,
steady-state KMS calls per search/registration/read from the multi-instance simulation,
log bytes per request). Prices are the list prices below, dated and cited; the load, the
latencies of AWS calls and the few other assumptions are stated beside them. Every figure
is in US dollars (AWS bills London in USD), with pounds at the stated rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PRICES_AS_OF = "2026-12-02"
# eu-west-2 (London) list prices, on-demand, no free tier, first pricing tier. Transcribed from
# the AWS pricing pages cited (not fetched by this code: check them before budgeting).
PRICES: dict[str, tuple[float, str, str]] = {
    # key: (USD, unit, source)
    "apigw_rest_request": (
        3.70e-6,
        "per REST API request (first 333M a month)",
        "https://aws.amazon.com/api-gateway/pricing/",
    ),
    "lambda_request": (0.20e-6, "per invocation", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_arm_gb_s": (0.0000133334, "per GB-second, arm64", "https://aws.amazon.com/lambda/pricing/"),
    "dynamodb_wru": (
        0.7425e-6,
        "per write request unit, on-demand",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "dynamodb_rru": (
        0.1485e-6,
        "per read request unit, on-demand",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "dynamodb_storage_gb_month": (
        0.29715,
        "per GB-month, Standard table class",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "dynamodb_pitr_gb_month": (
        0.2377,
        "per GB-month, continuous backups (PITR)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "kms_request": (
        0.03 / 10_000,
        "per KMS API request (symmetric and HMAC)",
        "https://aws.amazon.com/kms/pricing/",
    ),
    "kms_key_month": (1.00, "per customer managed key per month", "https://aws.amazon.com/kms/pricing/"),
    "sns_publish": (0.50e-6, "per SNS publish (64 KB chunk)", "https://aws.amazon.com/sns/pricing/"),
    "sns_email": (2.00 / 100_000, "per e-mail notification delivered", "https://aws.amazon.com/sns/pricing/"),
    "waf_request": (0.60e-6, "per web request inspected", "https://aws.amazon.com/waf/pricing/"),
    "waf_acl_month": (5.00, "per web ACL per month", "https://aws.amazon.com/waf/pricing/"),
    "waf_rule_month": (
        1.00,
        "per rule or managed rule group per month",
        "https://aws.amazon.com/waf/pricing/",
    ),
    "logs_ingest_gb": (
        0.5985,
        "per GB ingested (standard and vended, first tier)",
        "https://aws.amazon.com/cloudwatch/pricing/",
    ),
    "logs_storage_gb_month": (0.0315, "per GB-month archived", "https://aws.amazon.com/cloudwatch/pricing/"),
    "xray_trace": (5.00e-6, "per trace recorded", "https://aws.amazon.com/xray/pricing/"),
    "s3_put": (0.0053 / 1000, "per PUT request, S3 Standard", "https://aws.amazon.com/s3/pricing/"),
    "s3_get": (0.00042 / 1000, "per GET request, S3 Standard", "https://aws.amazon.com/s3/pricing/"),
    "sqs_request": (
        0.40e-6,
        "per SQS standard-queue request (64 KB chunk), after the first 1M a month",
        "https://aws.amazon.com/sqs/pricing/",
    ),
    "s3_storage_gb_month": (0.024, "per GB-month, S3 Standard", "https://aws.amazon.com/s3/pricing/"),
}
GBP_PER_USD = 0.79  # the stated conversion for the pound figures (late 2026)


def price(key: str) -> float:
    return PRICES[key][0]


# ---------------------------------------------------------------- assumptions (stated)
LAMBDA_GB = 0.5  # template.yaml Globals MemorySize: 512
# Lambda gives CPU in proportion to memory (1,769 MB = one vCPU): our code, measured on one
# core here, runs this much slower at 512 MB.
CPU_SLOWDOWN = 1769 / 512
# Typical in-region latency of each AWS call, milliseconds (what a function waits, billed).
CALL_MS = {
    "dynamodb:GetItem": 4,
    "dynamodb:BatchGetItem": 7,
    "dynamodb:Query": 6,
    "dynamodb:PutItem": 6,
    "dynamodb:UpdateItem": 6,
    "dynamodb:DeleteItem": 6,
    "dynamodb:TransactWriteItems": 18,
    "dynamodb:TransactGetItems": 10,
    "kms:Decrypt": 8,
    "kms:GenerateMac": 8,
    "kms:GenerateDataKey": 8,
    "sns:Publish": 15,
    "s3:PutObject": 40,
    "s3:GetObject": 20,
    "s3:DeleteObject": 20,
    "sqs:SendMessageBatch": 10,
}
DEFAULT_CALL_MS = 8
S3_PUT_CLASS = ("Put", "Copy", "Post", "List", "Create", "Complete", "Upload")  # priced as PUT; others as GET
COLD_START_SHARE = 0.005  # invocations that start a new instance (billed INIT, ~1 s)
INIT_MS = 1000
PLATFORM_LOG_BYTES = 380  # START, END and REPORT lines per invocation
ACCESS_LOG_BYTES = 450  # API Gateway access log line (template's format)
WAF_LOG_BYTES = 1800  # WAF full-request log line per request (headers redacted)
AUTHORIZER_SHARE = 1.0  # authorizer runs per request: an upper bound (API Gateway caches 300 s per token)
EMAILS_PER_PUBLISH = 1  # each organisation's SNS topic subscription: one e-mail address
LOCAL_AUTHORITIES = 152  # the organisations most notifications go to
INBOX_CLEARS_PER_DAY = 10  # times a local authority reads its inbox to the end on a working day
FIXED_KEYS = 7  # customer managed keys (template.yaml)
WAF_RULES = 4  # rules and managed rule groups in the web ACL


def xray_traces_per_request(rate_per_s: float) -> float:
    """Lambda active tracing samples 1 request a second plus 5% of the rest (default rule)."""
    if rate_per_s <= 1:
        return 1.0
    return (1 + 0.05 * (rate_per_s - 1)) / rate_per_s


@dataclass(frozen=True)
class Load:
    """Operations per day, by endpoint label of `make bench` (ContactPoint's design load)."""

    per_day: Mapping[str, float]
    peak_per_s: float

    def scaled(self, factor: float) -> Load:
        return Load({k: v * factor for k, v in self.per_day.items()}, self.peak_per_s * factor)


# Bulk imports (stated assumptions): each of England's 153 local authorities onboards its caseload
# once, a file of 3,000-15,000 rows (9,000 on average, the middle of that range: 1.38M rows, more
# than the ~500,000 children the index is sized for, so an upper bound), then uploads its whole
# caseload again every month, in which 5% of the rows are new or changed (priced as first-import
# rows, a registration: an upper bound for a correction) and the rest unchanged. The import
# client polls progress once a second (`signpost-admin import`): ~30 polls an import, and the
# authority lists its imports twice per upload.
LOCAL_AUTHORITIES_IMPORTING = 153
IMPORT_ROWS_MEAN = 9_000
IMPORT_ROWS_RANGE = (3_000, 15_000)
REIMPORTS_PER_YEAR = 12
REIMPORT_CHANGED_SHARE = 0.05
IMPORT_POLLS = 30
IMPORT_LISTS = 2
FIRST_ROW = "import worker, per row (first import)"
UNCHANGED_ROW = "import worker, per row (re-import, unchanged)"
IMPORT_LABELS = (
    "POST /v1/imports",
    "GET /v1/imports/{import_id}",
    "GET /v1/imports",
    FIRST_ROW,
    UNCHANGED_ROW,
)
# The worker's SQS event source mapping long-polls the queue even when it is empty: about 5
# pollers, one 20-second receive each at a time (AWS documentation: Lambda begins with five
# concurrent batches), billed as SQS requests.
IDLE_QUEUE_RECEIVES_PER_YEAR = 5 * 3 * 60 * 24 * 365


def import_load(files: float, rows_per_file: float, changed_share: float) -> dict[str, float]:
    """Operations, by endpoint label, of `files` uploads of `rows_per_file` rows each."""
    rows = files * rows_per_file
    return {
        "POST /v1/imports": files,
        "GET /v1/imports/{import_id}": files * IMPORT_POLLS,
        "GET /v1/imports": files * IMPORT_LISTS,
        FIRST_ROW: rows * changed_share,
        UNCHANGED_ROW: rows * (1 - changed_share),
    }


MONTHLY_REIMPORTS_PER_DAY = {
    k: v / 365
    for k, v in import_load(
        LOCAL_AUTHORITIES_IMPORTING * REIMPORTS_PER_YEAR, IMPORT_ROWS_MEAN, REIMPORT_CHANGED_SHARE
    ).items()
}
ONBOARDING = import_load(LOCAL_AUTHORITIES_IMPORTING, IMPORT_ROWS_MEAN, 1.0)

# ContactPoint's design load: 200,000 enquiries a day, 50 a second at peak. The other rates
# are assumptions for an index of ~500,000 children kept by 152 local authorities.
DESIGN_LOAD = Load(
    {
        "POST /v1/searches": 200_000,
        "POST /v1/children": 1_000,
        "GET /v1/children/{child_id}": 2_000,
        "PATCH /v1/children/{child_id}": 800,
        "PATCH /v1/children/{child_id} (identity correction)": 200,
        "POST /v1/children/{child_id}/close": 800,
        "GET /v1/children/{child_id}/access-log": 300,
        "GET /v1/children/{child_id}/subject-access-report": 10,
        "POST /v1/searches/{search_id}/break-glass": 5,
        "POST /v1/children/{child_id}/transfers": 150,
        "GET /v1/transfers": 2_000,
        "POST /v1/transfers/{transfer_id}/acknowledge": 150,
        "POST /v1/transfers/{transfer_id}/accept": 120,
        "POST /v1/transfers/{transfer_id}/decline": 30,
        "POST /v1/transfers/{transfer_id}/withdraw": 10,
        "GET /v1/notifications": 15_000,
        "POST /v1/notifications/{notification_id}/read": 5_000,
        "GET /v1/organisations/{code}": 500,
        "PUT /v1/organisations/{code}": 2,
        "GET /health": 1_440,
        "GET /openapi.json": 20,
        "clock (a run with nothing due)": 96,
        **MONTHLY_REIMPORTS_PER_DAY,
    },
    peak_per_s=50,
)
NOT_API = ("clock", "notifier", "authorizer", "audit sealer", "import worker")
SEALER = "audit sealer (per audit entry sealed)"


def duration_ms(endpoint: Mapping[str, Any]) -> float:
    """Billed duration in AWS: our code (at the function's memory: 512 MB unless the endpoint says
    `memory_gb`) plus the AWS calls it waits for."""
    waiting = sum(CALL_MS.get(name, DEFAULT_CALL_MS) * n for name, n in endpoint.get("calls", {}).items())
    slowdown = max(1.0, 1769 / (1024 * endpoint.get("memory_gb", LAMBDA_GB)))
    return math.ceil(endpoint.get("own_ms", 0.0) * slowdown + waiting)


def _s3_and_sqs(calls: Mapping[str, float]) -> tuple[float, float]:
    """USD of the S3 and SQS requests among `calls` (S3 deletes are free)."""
    s3 = sum(
        n * price("s3_put" if op.startswith(S3_PUT_CLASS) else "s3_get")
        for name, n in calls.items()
        if name.startswith("s3:") and (op := name[3:]) != "DeleteObject"
    )
    sqs = sum(n for name, n in calls.items() if name.startswith("sqs:")) * price("sqs_request")
    return s3, sqs


def request_cost(
    label: str,
    endpoint: Mapping[str, Any],
    *,
    authorizer: Mapping[str, Any],
    notifier: Mapping[str, Any],
    kms_per_op: float | None,
    rate_per_s: float,
    announce_share: float | None = None,
    sealer: Mapping[str, Any] | None = None,
    seal_batch: float = 1.0,
) -> dict[str, float]:
    """USD per one request of `label`, by line. `announce_share`: SNS messages per intent
    (None: as measured by the benchmark's notifier). `sealer`: the audit sealer per audit entry,
    in batches of `seal_batch` entries (its invocation, KMS seal and log lines are per batch).
    An endpoint may say `invocations_per_unit` (a row of an import: 1 / rows per invocation; the
    invocation's request, cold start, platform log lines and trace are shared), `memory_gb`, and
    `queue_requests_per_unit` (SQS requests of the event source mapping: receive and delete)."""
    api = not label.startswith(NOT_API)
    per_invocation = float(endpoint.get("invocations_per_unit", 1.0))
    memory_gb = float(endpoint.get("memory_gb", LAMBDA_GB))
    units = endpoint.get("dynamodb_units", {})
    calls = endpoint.get("calls", {})
    intents = endpoint.get("intents", 0.0)
    kms = kms_per_op if kms_per_op is not None else sum(n for k, n in calls.items() if k.startswith("kms:"))
    lines: dict[str, float] = {}
    lines["api_gateway"] = price("apigw_rest_request") if api else 0.0
    lines["waf"] = price("waf_request") if api else 0.0
    invocations = per_invocation + (AUTHORIZER_SHARE if api and endpoint is not authorizer else 0.0)
    gb_s = memory_gb * (duration_ms(endpoint) + per_invocation * COLD_START_SHARE * INIT_MS) / 1000
    if api:
        gb_s += AUTHORIZER_SHARE * LAMBDA_GB * duration_ms(authorizer) / 1000
    # the notifier's share: what it does for this request's notifications
    notifier_invocations = intents * notifier.get("invocations_per_intent", 1.0)
    gb_s += intents * LAMBDA_GB * duration_ms(notifier) / 1000
    lines["lambda"] = (invocations + notifier_invocations) * price("lambda_request") + gb_s * price(
        "lambda_arm_gb_s"
    )
    n_units = notifier.get("dynamodb_units", {})
    lines["dynamodb_reads"] = (units.get("rru", 0) + intents * n_units.get("rru", 0)) * price("dynamodb_rru")
    lines["dynamodb_writes"] = (units.get("wru", 0) + intents * n_units.get("wru", 0)) * price("dynamodb_wru")
    lines["dynamodb_index_writes"] = (
        units.get("wru_index", 0) + intents * n_units.get("wru_index", 0)
    ) * price("dynamodb_wru")
    a_units = authorizer.get("dynamodb_units", {}) if api else {}
    lines["dynamodb_reads"] += AUTHORIZER_SHARE * a_units.get("rru", 0) * price("dynamodb_rru")
    lines["kms"] = kms * price("kms_request")
    lines["s3"], lines["sqs"] = _s3_and_sqs(calls)
    lines["sqs"] += float(endpoint.get("queue_requests_per_unit", 0.0)) * price("sqs_request")
    per_intent = notifier.get("calls", {}).get("sns:Publish", 0) if announce_share is None else announce_share
    publishes = intents * per_intent
    lines["sns_publish"] = publishes * price("sns_publish")
    lines["sns_email"] = publishes * EMAILS_PER_PUBLISH * price("sns_email")
    log_bytes = (
        endpoint.get("log_bytes", 0)
        + per_invocation * PLATFORM_LOG_BYTES
        + intents * (notifier.get("log_bytes", 0) + PLATFORM_LOG_BYTES)
    )
    if api:
        log_bytes += (
            ACCESS_LOG_BYTES
            + WAF_LOG_BYTES
            + AUTHORIZER_SHARE * (authorizer.get("log_bytes", 0) + PLATFORM_LOG_BYTES)
        )
    lines["cloudwatch_logs"] = log_bytes / 1e9 * price("logs_ingest_gb")
    lines["xray"] = (xray_traces_per_request(rate_per_s) if api else per_invocation) * price("xray_trace")
    if sealer:
        _add_sealing(lines, endpoint.get("audit_entries", 0.0), sealer, seal_batch)
    return lines


def _add_sealing(lines: dict[str, float], entries: float, sealer: Mapping[str, Any], batch: float) -> None:
    """What the audit sealer does for `entries` audit entries, sealed `batch` at a time."""
    if not entries:
        return
    measured_batch = max(1.0, float(sealer.get("entries_per_batch", 1.0)))
    units = sealer.get("dynamodb_units", {})
    calls = sealer.get("calls", {})
    kms_per_batch = sum(n for k, n in calls.items() if k.startswith("kms:")) * measured_batch
    lines["lambda"] += entries * (
        price("lambda_request") / batch + LAMBDA_GB * duration_ms(sealer) / 1000 * price("lambda_arm_gb_s")
    )
    lines["dynamodb_reads"] += entries * units.get("rru", 0) * price("dynamodb_rru")
    lines["dynamodb_writes"] += entries * units.get("wru", 0) * price("dynamodb_wru")
    lines["dynamodb_index_writes"] += entries * units.get("wru_index", 0) * price("dynamodb_wru")
    lines["kms"] += entries * kms_per_batch / batch * price("kms_request")
    s3, sqs = _s3_and_sqs({k: n * measured_batch for k, n in calls.items()})
    lines["s3"] += entries * s3 / batch
    lines["sqs"] += entries * sqs / batch
    log_bytes = sealer.get("log_bytes", 0) * measured_batch + PLATFORM_LOG_BYTES
    lines["cloudwatch_logs"] += entries * log_bytes / batch / 1e9 * price("logs_ingest_gb")


def seal_batch_size(endpoints: Mapping[str, Mapping[str, Any]], load: Load) -> float:
    """Audit entries per sealer invocation: what its 5-second batching window gathers (at most 1,000)."""
    entries = sum(
        per_day * endpoints.get(label, {}).get("audit_entries", 0.0)
        for label, per_day in load.per_day.items()
    )
    return min(1000.0, max(1.0, entries / 86_400 * 5))


def intents_per_day(endpoints: Mapping[str, Mapping[str, Any]], load: Load) -> float:
    return sum(
        per_day * endpoints.get(label, {}).get("intents", 0.0) for label, per_day in load.per_day.items()
    )


def announce_share(endpoints: Mapping[str, Mapping[str, Any]], load: Load, *, once_until_read: bool) -> float:
    """SNS messages per intent: one each (told per delivery), or, told when an inbox goes from
    nothing new to something new, at most one per local authority per clearing of its inbox."""
    if not once_until_read:
        return 1.0
    intents = intents_per_day(endpoints, load)
    return min(1.0, LOCAL_AUTHORITIES * INBOX_CLEARS_PER_DAY / intents) if intents else 0.0


def yearly(
    endpoints: Mapping[str, Mapping[str, Any]],
    load: Load,
    kms_per_op: Mapping[str, float],
    storage: Mapping[str, float],
    *,
    once_until_read: bool = True,
) -> dict[str, Any]:
    """USD a year at `load`: requests by line and endpoint, storage, fixed costs."""
    rate = sum(v for k, v in load.per_day.items() if not k.startswith(NOT_API)) / 86_400
    share = announce_share(endpoints, load, once_until_read=once_until_read)
    batch = seal_batch_size(endpoints, load)
    by_line, by_endpoint = operations_cost(
        endpoints, {k: v * 365 for k, v in load.per_day.items()}, kms_per_op, rate, share, batch
    )
    by_line["sqs"] = by_line.get("sqs", 0.0) + IDLE_QUEUE_RECEIVES_PER_YEAR * price("sqs_request")
    storage_gb = storage.get("gb_after_one_year", 0.0)
    by_line["dynamodb_storage"] = storage_gb * 12 * price("dynamodb_storage_gb_month") / 2 + storage.get(
        "gb_at_start", 0.0
    ) * 12 * price("dynamodb_storage_gb_month")
    by_line["dynamodb_pitr"] = (
        by_line["dynamodb_storage"] / price("dynamodb_storage_gb_month") * price("dynamodb_pitr_gb_month")
    )
    by_line["fixed"] = 12 * (
        FIXED_KEYS * price("kms_key_month") + price("waf_acl_month") + WAF_RULES * price("waf_rule_month")
    )
    total = sum(by_line.values())
    imports = sum(v for k, v in by_endpoint.items() if k in IMPORT_LABELS)
    return {
        "usd_per_year": round(total),
        "imports_usd_per_year": round(imports, 2),
        "gbp_per_year": round(total * GBP_PER_USD),
        "by_line_usd": {k: round(v) for k, v in sorted(by_line.items(), key=lambda kv: -kv[1])},
        "by_endpoint_usd": {k: round(v) for k, v in sorted(by_endpoint.items(), key=lambda kv: -kv[1])[:6]},
        "largest_line": max(by_line, key=lambda k: by_line[k]),
        "sns_messages_per_intent": round(share, 4),
        "audit_entries_per_seal_batch": round(batch, 1),
    }


def operations_cost(
    endpoints: Mapping[str, Mapping[str, Any]],
    counts: Mapping[str, float],
    kms_per_op: Mapping[str, float],
    rate_per_s: float,
    share: float,
    seal_batch: float,
) -> tuple[dict[str, float], dict[str, float]]:
    """USD of `counts` operations (by endpoint label): by line, and by endpoint."""
    authorizer = endpoints.get("authorizer (a token not in API Gateway's cache)", {})
    notifier = endpoints.get("notifier (per intent delivered)", {})
    by_line: dict[str, float] = {}
    by_endpoint: dict[str, float] = {}
    for label, count in counts.items():
        if label not in endpoints:
            continue
        lines = request_cost(
            label,
            endpoints[label],
            authorizer=authorizer,
            notifier=notifier,
            kms_per_op=kms_per_op.get(label),
            rate_per_s=rate_per_s,
            announce_share=share,
            sealer=endpoints.get(SEALER),
            seal_batch=seal_batch,
        )
        for line, usd in lines.items():
            by_line[line] = by_line.get(line, 0.0) + usd * count
        by_endpoint[label] = sum(lines.values()) * count
    return by_line, by_endpoint


def imports(
    endpoints: Mapping[str, Mapping[str, Any]], load: Load, kms_per_op: Mapping[str, float]
) -> dict[str, Any]:
    """What bulk import costs: a file of 15,000 rows (first import, and uploaded again unchanged),
    onboarding every authority once, and the monthly re-imports a year (in `load`)."""
    rate = sum(v for k, v in load.per_day.items() if not k.startswith(NOT_API)) / 86_400
    share = announce_share(endpoints, load, once_until_read=True)
    batch = seal_batch_size(endpoints, load)

    def usd(counts: Mapping[str, float]) -> tuple[float, dict[str, float]]:
        by_line, _ = operations_cost(endpoints, counts, kms_per_op, rate, share, batch)
        return sum(by_line.values()), {
            k: round(v, 4) for k, v in sorted(by_line.items(), key=lambda kv: -kv[1])
        }

    largest = IMPORT_ROWS_RANGE[1]
    first, first_lines = usd(import_load(1, largest, 1.0))
    again, again_lines = usd(import_load(1, largest, 0.0))
    onboarding, onboarding_lines = usd(ONBOARDING)
    monthly, monthly_lines = usd({k: v * 365 for k, v in load.per_day.items() if k in IMPORT_LABELS})
    return {
        "assumption": (
            f"{LOCAL_AUTHORITIES_IMPORTING} local authorities, {IMPORT_ROWS_RANGE[0]:,}-{largest:,} "
            f"rows each ({IMPORT_ROWS_MEAN:,} on average), onboarded once, then re-imported "
            f"{REIMPORTS_PER_YEAR} times a year with {REIMPORT_CHANGED_SHARE:.0%} of rows new or changed; "
            f"{IMPORT_POLLS} progress polls per import"
        ),
        "usd_per_row_first_import": round(first / largest, 6),
        "usd_per_row_unchanged": round(again / largest, 7),
        f"usd_file_of_{largest}_rows_first_import": round(first, 2),
        f"file_of_{largest}_rows_first_import_by_line": first_lines,
        f"usd_file_of_{largest}_rows_unchanged": round(again, 4),
        f"file_of_{largest}_rows_unchanged_by_line": again_lines,
        "onboarding_rows": round(ONBOARDING[FIRST_ROW]),
        "usd_onboarding_once": round(onboarding),
        "onboarding_by_line": {k: round(v) for k, v in onboarding_lines.items()},
        "usd_monthly_reimports_per_year": round(monthly),
        "monthly_reimports_by_line": {k: round(v, 2) for k, v in monthly_lines.items()},
    }


def per_operation(
    endpoints: Mapping[str, Mapping[str, Any]],
    label: str,
    kms_per_op: float | None,
    rate_per_s: float,
    share: float | None = None,
    seal_batch: float = 1.0,
) -> dict[str, float]:
    return request_cost(
        label,
        endpoints[label],
        authorizer=endpoints.get("authorizer (a token not in API Gateway's cache)", {}),
        notifier=endpoints.get("notifier (per intent delivered)", {}),
        kms_per_op=kms_per_op,
        rate_per_s=rate_per_s,
        announce_share=share,
        sealer=endpoints.get(SEALER),
        seal_batch=seal_batch,
    )


def price_table() -> list[dict[str, Any]]:
    return [
        {"item": k, "usd": v[0], "unit": v[1], "source": v[2], "as_of": PRICES_AS_OF}
        for k, v in PRICES.items()
    ]
