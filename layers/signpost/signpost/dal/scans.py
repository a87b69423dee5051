"""Offline readers for operator commands: whole-table reads the functions never make.

Only `signpost-admin`, with an operator's credentials, Scans (no function role may).
Every read projects the attributes it needs and nothing else: no identity
ciphertext, no practitioner id, no case reference and no break-glass
justification ever leaves the table through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from signpost.dal.clients import dynamodb, from_item
from signpost.models.organisation import Organisation

Progress = Callable[[int], None]


def _noop(_count: int) -> None:
    return None


def scan(
    table: str, *, projection: list[str], progress: Progress = _noop, **kwargs: Any
) -> Iterator[dict[str, Any]]:
    """Every item of `table` (after kwargs' filter), only the `projection` attributes, page by page."""
    names = {f"#p{i}": part for i, part in enumerate(sorted({p.split(".")[0] for p in projection}))}
    alias = {part: name for name, part in names.items()}
    expression = ", ".join(".".join([alias[p.split(".")[0]], *p.split(".")[1:]]) for p in projection)
    request: dict[str, Any] = {
        "TableName": table,
        "ProjectionExpression": expression,
        "ExpressionAttributeNames": {**names, **kwargs.pop("ExpressionAttributeNames", {})},
        **kwargs,
    }
    while True:
        resp = dynamodb().scan(**request)
        progress(int(resp.get("ScannedCount", len(resp["Items"]))))
        for item in resp["Items"]:
            yield from_item(item)
        if "LastEvaluatedKey" not in resp:
            return
        request["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def directory_entries(table: str) -> Iterator[Organisation]:
    for item in scan(table, projection=list(Organisation.model_fields)):
        yield Organisation.model_validate(item)


def timestamp(at: dt.datetime) -> str:
    """The audit's spelling of an instant (UTC, seconds): ISO strings that sort as instants do."""
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class AuditEvent:
    """What statistics may know of an audit entry: who (organisation and role), did what, how it went."""

    chain: str
    at: dt.datetime
    action: str
    org: str
    role: str
    reason: str | None = None
    outcome: str | None = None
    review: bool = False
    details: dict[str, Any] | None = None  # only the projected keys below


# details keys that carry no personal data (transfer ids and organisations, review findings)
AUDIT_DETAIL_KEYS = ("transfer_id", "to_org", "from_org", "finding")
AUDIT_PROJECTION = [
    "pk",
    "at",
    "action",
    "org",
    "role",
    "reason",
    "outcome",
    "review",
    *(f"details.{k}" for k in AUDIT_DETAIL_KEYS),
]


def audit_events(
    table: str, since: dt.datetime, until: dt.datetime | None = None, progress: Progress = _noop
) -> Iterator[AuditEvent]:
    """Audit entries written from `since` (to `until`, inclusive), in no particular order."""
    condition = "#at >= :since" if until is None else "#at BETWEEN :since AND :until"
    values = {":since": {"S": timestamp(since)}}
    if until is not None:
        values[":until"] = {"S": timestamp(until)}
    items = scan(
        table,
        projection=AUDIT_PROJECTION,
        progress=progress,
        FilterExpression=condition,
        ExpressionAttributeNames={"#at": "at"},
        ExpressionAttributeValues=values,
    )
    for item in items:
        yield AuditEvent(
            chain=str(item["pk"]),
            at=dt.datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00")),
            action=str(item.get("action", "")),
            org=str(item.get("org", "")),
            role=str(item.get("role", "")),
            reason=item.get("reason"),
            outcome=item.get("outcome"),
            review=bool(item.get("review", False)),
            details=item.get("details"),
        )


@dataclass(frozen=True)
class RecordFacts:
    """A child record without its identity: enough to count children by category and organisation."""

    org: str
    status: str
    categories: tuple[str, ...]
    created_at: dt.datetime
    closed_at: dt.datetime | None


def _instant(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


def record_facts(table: str, progress: Progress = _noop) -> Iterator[RecordFacts]:
    items = scan(
        table,
        projection=["org", "status", "categories", "created_at", "closed_at"],
        progress=progress,
        FilterExpression="sk = :record",
        ExpressionAttributeValues={":record": {"S": "RECORD"}},
    )
    for item in items:
        created = _instant(item.get("created_at"))
        if created is None:
            continue
        yield RecordFacts(
            org=str(item.get("org", "")),
            status=str(item.get("status", "")),
            categories=tuple(sorted(str(c) for c in item.get("categories") or [])),
            created_at=created,
            closed_at=_instant(item.get("closed_at")),
        )


@dataclass(frozen=True)
class TransferFacts:
    """A transfer's organisations, status and clocks (transfers hold no identity)."""

    from_org: str
    to_org: str
    status: str
    acknowledge_by: dt.date
    decide_by: dt.date
    acknowledged_at: dt.datetime | None
    decided_at: dt.datetime | None


def transfer_facts(table: str, progress: Progress = _noop) -> Iterator[TransferFacts]:
    items = scan(
        table,
        projection=[
            "from_org",
            "to_org",
            "status",
            "acknowledge_by",
            "decide_by",
            "acknowledged_at",
            "decided_at",
        ],
        progress=progress,
        FilterExpression="sk = :transfer",
        ExpressionAttributeValues={":transfer": {"S": "TRANSFER"}},
    )
    for item in items:
        if "acknowledge_by" not in item or "decide_by" not in item:
            continue
        yield TransferFacts(
            from_org=str(item.get("from_org", "")),
            to_org=str(item.get("to_org", "")),
            status=str(item.get("status", "")),
            acknowledge_by=dt.date.fromisoformat(str(item["acknowledge_by"])),
            decide_by=dt.date.fromisoformat(str(item["decide_by"])),
            acknowledged_at=_instant(item.get("acknowledged_at")),
            decided_at=_instant(item.get("decided_at")),
        )
