"""Write events/*.json: a real-shaped sample event for every function and API route.

    python -m infrastructure.local.sample_events

Built with the gateway emulator's own event code and template.yaml's routes, so the
samples are what the functions receive. All data is fictional (NHS number in the
999 test range, .example e-mail domains). The bearer token is a placeholder: tests
that invoke the authorizer with a sample put a fresh token in its place.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from signpost.audit_chain import GENESIS, seal
from signpost.authz import Caller
from signpost.dal.audit import audit_item
from signpost.models.common import OrgType, Role
from signpost.models.domain import AuditEntry

from infrastructure.local.aws import ACCOUNT_ID, REGION, REPO_ROOT, TEMPLATE_PATH, load_seed, table_name
from infrastructure.local.events import HttpRequest, authorizer_event, proxy_event
from infrastructure.local.routes import Route, load_routes

EVENTS_DIR = REPO_ROOT / "events"
# A JWT-shaped placeholder (header.payload.signature, base64url) that no key ever signed.
_PLACEHOLDER_PARTS = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InNhbXBsZSIsInR5cCI6IkpXVCJ9",
    "eyJzdWIiOiJjYW1kZW4tc3ctMSIsIm9yZyI6IkUwOTAwMDAwNyIsInJvbGUiOiJsYV9wcmFjdGl0aW9uZXIifQ",
    "c2FtcGxlLW5vdC1hLXNpZ25hdHVyZQ",
)
PLACEHOLDER_TOKEN = ".".join(_PLACEHOLDER_PARTS)
RECEIVED_MS = 1_768_467_600_000  # 2026-01-15T09:00:00Z
CHILD_ID = "3f2a9c5e8b7d4e01a6c2b9d8e7f60514"
SEARCH_ID = "9b1e4d7a2c8f4a6e8d3b5c7e9f1a2b3c"
TRANSFER_ID = "5c7e9a1b3d5f4e6a8c0b2d4f6a8c0e1d"
NOTIFICATION_ID = f"20260115T090000Z-{'7d9f1b3c5e7a4c8e9f0a1b2c3d4e5f60'}"

CHILD = {
    "given_names": "Amelia Rose",
    "family_name": "Example",
    "date_of_birth": "2015-03-14",
    "sex": "female",
    "nhs_number": "9990001235",
    "postcode": "NW1 2DB",
}
CAMDEN_CONTACT = {
    "team": "Camden Children and Families Contact Service",
    "phone": "020 7974 3317",
    "email": "lscp@camden.gov.uk.example",
    "out_of_hours_phone": "020 7974 4444",
}


_DIRECTORY = {org.code: org for org in load_seed()}


def _caller(code: str, role: Role, sub: str) -> Caller:
    org = _DIRECTORY[code]
    return Caller(
        sub=sub,
        org=code,
        role=role,
        org_type=OrgType(org.type),
        org_name=org.name,
        area=org.area,
        sensitive_service=org.sensitive_service,
    )


CAMDEN_SW = _caller("E09000007", Role.LA_PRACTITIONER, "camden-sw-1")
CAMDEN_MANAGER = _caller("E09000007", Role.LA_MANAGER, "camden-mgr-1")
HACKNEY_SW = _caller("E09000012", Role.LA_PRACTITIONER, "hackney-sw-2")
ROYAL_FREE = _caller("RAL", Role.HEALTH, "rf-nurse-1")
ADMIN = _caller("NATIONAL", Role.ADMIN, "admin-1")

# event name in template.yaml → (file name, caller, path values, query, body)
SAMPLES: dict[str, tuple[str, Caller | None, dict[str, str], dict[str, str], Any]] = {
    "RegisterChild": (
        "records-register",
        CAMDEN_SW,
        {},
        {},
        {
            **CHILD,
            "categories": ["child_protection_plan"],
            "contact": CAMDEN_CONTACT,
            "review_by": "2026-07-15",
        },
    ),
    "GetChild": ("records-get", CAMDEN_SW, {"child_id": CHILD_ID}, {}, None),
    "UpdateChild": (
        "records-update",
        CAMDEN_SW,
        {"child_id": CHILD_ID},
        {},
        {"categories": ["child_protection_plan", "domestic_abuse"], "review_by": "2026-10-01"},
    ),
    "CloseChild": ("records-close", CAMDEN_SW, {"child_id": CHILD_ID}, {}, {"reason": "plan_ended"}),
    "AccessLog": ("records-access-log", CAMDEN_SW, {"child_id": CHILD_ID}, {}, None),
    "SubjectAccessReport": (
        "records-subject-access-report",
        CAMDEN_MANAGER,
        {"child_id": CHILD_ID},
        {},
        None,
    ),
    "Search": (
        "search",
        ROYAL_FREE,
        {},
        {},
        {
            "given_names": "Amelia",
            "family_name": "Example",
            "date_of_birth": "2015-03-14",
            "reason": "emergency_care",
        },
    ),
    "BreakGlass": (
        "search-break-glass",
        CAMDEN_MANAGER,
        {"search_id": SEARCH_ID},
        {},
        {"justification": "Child at risk tonight; duty manager needs the responsible team's direct line."},
    ),
    "RequestTransfer": (
        "transfers-request",
        CAMDEN_SW,
        {"child_id": CHILD_ID},
        {},
        {"to_org": "E09000012", "reason": "family_moved", "move_date": "2026-02-02"},
    ),
    "ListTransfers": (
        "transfers-list",
        HACKNEY_SW,
        {},
        {"direction": "incoming", "status": "requested"},
        None,
    ),
    "AcknowledgeTransfer": ("transfers-acknowledge", HACKNEY_SW, {"transfer_id": TRANSFER_ID}, {}, None),
    "AcceptTransfer": ("transfers-accept", HACKNEY_SW, {"transfer_id": TRANSFER_ID}, {}, None),
    "DeclineTransfer": (
        "transfers-decline",
        HACKNEY_SW,
        {"transfer_id": TRANSFER_ID},
        {},
        {"reason": "not_resident"},
    ),
    "WithdrawTransfer": ("transfers-withdraw", CAMDEN_SW, {"transfer_id": TRANSFER_ID}, {}, None),
    "ListNotifications": ("inbox-notifications", CAMDEN_SW, {}, {"unread": "true"}, None),
    "ReadNotification": (
        "inbox-notification-read",
        CAMDEN_SW,
        {"notification_id": NOTIFICATION_ID},
        {},
        None,
    ),
    "GetOrganisation": ("inbox-organisation-get", ROYAL_FREE, {"code": "E09000007"}, {}, None),
    "PutOrganisation": (
        "inbox-organisation-put",
        ADMIN,
        {"code": "E08000025"},
        {},
        {
            "code": "E08000025",
            "name": "Birmingham City Council",
            "type": "local_authority",
            "area": "E08000025",
            "sensitive_service": False,
            "contact": {
                "team": "Birmingham Children's Advice and Support Service",
                "phone": "0121 303 1888",
                "email": "cass@birmingham.gov.uk.example",
            },
            "manager_contact": {
                "team": "Birmingham Safeguarding Manager on duty",
                "phone": "0121 303 1000",
                "email": "safeguarding.manager@birmingham.gov.uk.example",
            },
            "active": True,
        },
    ),
    "Health": ("inbox-health", None, {}, {}, None),
    "OpenApi": ("inbox-openapi", None, {}, {}, None),
}


def _path(route: Route, values: dict[str, str]) -> str:
    return re.sub(r"\{([^{}+]+)\+?\}", lambda m: values[m.group(1)], route.resource)


def _request(route: Route, caller: Caller | None, path: str, query: dict[str, str], body: Any) -> HttpRequest:
    headers = [
        ("Accept", "application/json"),
        ("Host", "sgnpst0lcl.execute-api.eu-west-2.amazonaws.com"),
        ("User-Agent", "camden-case-system/4.2 (signpost-client)"),
        ("X-Amzn-Trace-Id", "Root=1-6968ac50-2f1a3b4c5d6e7f8091a2b3c4"),
    ]
    if caller is not None:
        headers.append(("Authorization", f"Bearer {PLACEHOLDER_TOKEN}"))
    if body is not None:
        headers.append(("Content-Type", "application/json"))
    if route.event_name == "RegisterChild":
        headers.append(("Idempotency-Key", "c3d6e1f0-2b4a-4c8e-9a7f-5d1b3e6c8a20"))
    return HttpRequest(
        method=route.method,
        path=path,
        headers=headers,
        query=list(query.items()),
        body=json.dumps(body).encode() if body is not None else None,
        source_ip="203.0.113.24",  # documentation range (RFC 5737)
        request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"signpost-sample/{route.event_name}")),
        received_ms=RECEIVED_MS,
    )


def api_events() -> dict[str, dict[str, Any]]:
    """File stem → event, for every API route of the template, plus the authorizer's."""
    events: dict[str, dict[str, Any]] = {}
    routes = load_routes(TEMPLATE_PATH)
    for route in routes.routes:
        name, caller, values, query, body = SAMPLES.get(
            route.event_name, (f"{route.function.name}-{route.event_name.lower()}", CAMDEN_SW, {}, {}, None)
        )
        path = _path(route, values)
        request = _request(route, caller, path, query, body)
        params = route.path_parameters(path) or {}
        authorizer = (
            {**caller.as_context(), "principalId": caller.sub, "integrationLatency": 42} if caller else None
        )
        events[name] = proxy_event(route, request, params, authorizer)
        if route.event_name == "GetChild":
            events["authorizer"] = authorizer_event(route, request, params)
    return events


def _stream_record(
    sequence: str,
    item: dict[str, Any],
    approximate: int,
    table: str = "RecordsTable",
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    keys = {"pk": item["pk"], "sk": item["sk"]}
    size = len(json.dumps(item))
    record = {
        "eventID": f"{int(sequence) % 10**32:032x}",
        "eventName": "INSERT" if old is None else "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "ApproximateCreationDateTime": approximate,
            "Keys": keys,
            "NewImage": item,
            "SequenceNumber": sequence,
            "SizeBytes": size,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": (
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table_name(table)}/stream/2026-01-01T00:00:00.000"
        ),
    }
    if old is not None:
        record["dynamodb"]["OldImage"] = old  # type: ignore[index]
    return record


def notifier_stream_event() -> dict[str, Any]:
    """Two outbox intents, as the records table's stream delivers them (sk=INTENT, INSERT only)."""
    viewed = {
        "pk": {"S": "OUTBOX#e1f2a3b4c5d64e7f8a9b0c1d2e3f4a5b"},
        "sk": {"S": "INTENT"},
        "intent_id": {"S": "e1f2a3b4c5d64e7f8a9b0c1d2e3f4a5b"},
        "type": {"S": "record_viewed"},
        "to_org": {"S": "E09000007"},
        "from_org": {"S": "RAL"},
        "child_id": {"S": CHILD_ID},
        "search_id": {"S": SEARCH_ID},
        "created_at": {"S": "2026-01-15T09:00:00Z"},
        "expires_at": {"N": "1769677200"},
    }
    transfer = {
        "pk": {"S": "OUTBOX#f0e1d2c3b4a54968877665544332211a"},
        "sk": {"S": "INTENT"},
        "intent_id": {"S": "f0e1d2c3b4a54968877665544332211a"},
        "type": {"S": "transfer_requested"},
        "to_org": {"S": "E09000012"},
        "from_org": {"S": "E09000007"},
        "child_id": {"S": CHILD_ID},
        "transfer_id": {"S": TRANSFER_ID},
        "created_at": {"S": "2026-01-15T09:05:00Z"},
        "expires_at": {"N": "1769677500"},
    }
    return {
        "Records": [
            _stream_record("112233440000000000000000001", viewed, 1768467600),
            _stream_record("112233450000000000000000002", transfer, 1768467900),
        ]
    }


def audit_sealer_stream_event() -> dict[str, Any]:
    """The audit table's stream: a child's first two entries appended, then the first overwritten."""
    first = seal(
        AuditEntry(
            chain=f"CHILD#{CHILD_ID}", seq=0, at="2026-01-15T09:00:00Z", action="register", org="E09000007",
            role="la_practitioner", sub="camden-sw-1", child_id=CHILD_ID, prev_hash=GENESIS,
        )
    )  # fmt: skip
    second = seal(
        AuditEntry(
            chain=f"CHILD#{CHILD_ID}", seq=1, at="2026-01-15T09:05:00Z", action="search", org="RAL",
            role="health", sub="rf-nurse-1", child_id=CHILD_ID, search_id=SEARCH_ID, reason="emergency_care",
            outcome="match", prev_hash=first.hash,
        )
    )  # fmt: skip
    rewritten = audit_item(seal(first.model_copy(update={"org": "E09000012"})))
    return {
        "Records": [
            _stream_record("223344550000000000000000001", audit_item(first), 1768467600, "AuditTable"),
            _stream_record("223344560000000000000000002", audit_item(second), 1768467900, "AuditTable"),
            _stream_record(
                "223344570000000000000000003", rewritten, 1768468200, "AuditTable", old=audit_item(first)
            ),
        ]
    }


def audit_anchor_schedule_event() -> dict[str, Any]:
    event = clock_schedule_event()
    event.update(
        id="6e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
        time="2026-01-15T10:00:00Z",
        resources=[f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/signpost-local-audit-anchor"],
    )
    return event


def clock_schedule_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": "2026-01-15T09:15:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/signpost-local-clock"],
        "detail": {},
    }


def all_events() -> dict[str, dict[str, Any]]:
    return {
        **api_events(),
        "notifier-stream": notifier_stream_event(),
        "clock-schedule": clock_schedule_event(),
        "audit-sealer-stream": audit_sealer_stream_event(),
        "audit-sealer-schedule": audit_anchor_schedule_event(),
    }


def write(directory: Path = EVENTS_DIR) -> list[Path]:
    directory.mkdir(exist_ok=True)
    written = []
    for stem, event in sorted(all_events().items()):
        path = directory / f"{stem}.json"
        path.write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path.relative_to(REPO_ROOT))
