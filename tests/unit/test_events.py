"""events/*.json: one real-shaped sample per API route and per function, in the shapes the
handlers read (Powertools data classes, the request models, the notifier's stream filter)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    DynamoDBStreamEvent,
    EventBridgeEvent,
)
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecordEventName
from pydantic import BaseModel
from signpost.authz import Caller
from signpost.dal.audit import audit_change
from signpost.logic.audit_sealer import seal_changes
from signpost.models.children import CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.organisation import OrganisationIn
from signpost.models.search import BreakGlassRequest, SearchRequest
from signpost.models.transfers import DeclineRequest, TransferRequest

from infrastructure.local import sample_events
from infrastructure.local.aws import parsed_template
from infrastructure.local.routes import Route
from tests.support.lambda_events import route_table
from tests.unit.security.audit_fakes import FakeMacKey, FakeSealStore

EVENTS = Path(__file__).resolve().parents[2] / "events"
PROXY_KEYS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
    "body",
    "isBase64Encoded",
}
CONTEXT_KEYS = {"accountId", "apiId", "resourcePath", "httpMethod", "path", "stage", "requestId", "identity"}
# Request models by template event name; dates that must lie ahead of "today" are moved there.
BODY_MODELS: dict[str, type[BaseModel]] = {
    "RegisterChild": RegisterRequest,
    "UpdateChild": UpdateRequest,
    "CloseChild": CloseRequest,
    "Search": SearchRequest,
    "BreakGlass": BreakGlassRequest,
    "RequestTransfer": TransferRequest,
    "DeclineTransfer": DeclineRequest,
    "PutOrganisation": OrganisationIn,
}
RELATIVE_DATES = {"review_by": 90, "move_date": 7}


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))


def api_samples() -> list[tuple[str, dict[str, Any]]]:
    files = sorted(EVENTS.glob("*.json"))
    samples = [(path.stem, json.loads(path.read_text(encoding="utf-8"))) for path in files]
    return [(name, event) for name, event in samples if "httpMethod" in event and "type" not in event]


def route_of(event: dict[str, Any]) -> Route:
    return route_table().route(event["httpMethod"], event["resource"])


def test_every_route_of_the_template_has_a_sample() -> None:
    covered = {(e["httpMethod"], e["resource"]) for _, e in api_samples()}
    declared = {(r.method, r.resource) for r in route_table().routes}
    assert declared - covered == set(), "run: python -m infrastructure.local.sample_events"
    assert covered - declared == set(), "a sample for a route the template no longer has"


def test_the_samples_are_what_the_generator_makes() -> None:
    expected = sample_events.all_events()
    on_disk = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in EVENTS.glob("*.json")}
    assert on_disk == expected, "events/ is stale: run python -m infrastructure.local.sample_events"


@pytest.mark.parametrize(("name", "event"), api_samples(), ids=lambda v: v if isinstance(v, str) else "")
def test_api_samples_are_rest_proxy_events(name: str, event: dict[str, Any]) -> None:
    route = route_of(event)
    assert set(event) == PROXY_KEYS
    assert set(event["requestContext"]) >= CONTEXT_KEYS
    assert event["requestContext"]["resourcePath"] == event["resource"]
    assert route.path_parameters(event["path"]) == (event["pathParameters"] or {})

    proxy = APIGatewayProxyEvent(event)  # what APIGatewayRestResolver reads
    assert proxy.http_method == route.method
    assert proxy.request_context.request_id
    if route.authorised:
        caller = Caller.from_context(event["requestContext"]["authorizer"])
        assert proxy.request_context.authorizer.principal_id == caller.sub
        assert proxy.get_header_value("authorization", "").startswith("Bearer ")
    else:
        assert "authorizer" not in event["requestContext"]
    if event["body"] is not None:
        assert proxy.get_header_value("content-type", "") == "application/json"
        assert isinstance(proxy.json_body, dict)


@pytest.mark.parametrize("event_name", sorted(BODY_MODELS))
def test_sample_bodies_are_valid_requests(event_name: str) -> None:
    event = next(e for _, e in api_samples() if route_of(e).event_name == event_name)
    body = json.loads(event["body"])
    today = dt.date.today()
    body.update(
        {k: (today + dt.timedelta(days=d)).isoformat() for k, d in RELATIVE_DATES.items() if k in body}
    )
    BODY_MODELS[event_name].model_validate(body)


def test_the_authorizer_sample_is_a_request_authorizer_event() -> None:
    event = APIGatewayAuthorizerRequestEvent(load("authorizer"))
    assert event.get_type == "REQUEST"
    arn = event.parsed_arn
    assert (arn.region, arn.stage, arn.http_method) == ("eu-west-2", "api", event.http_method)
    assert f"/{arn.resource}" == event.path
    assert event.get_header_value("Authorization", "").startswith("Bearer ")


def _matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter matching (the subset Lambda event filtering uses here)."""
    if isinstance(pattern, list):
        return value in pattern
    return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())


def test_the_notifier_sample_passes_the_templates_stream_filter() -> None:
    raw = load("notifier-stream")
    properties = parsed_template()["Resources"]["NotifierFunction"]["Properties"]
    stream = next(e["Properties"] for e in properties["Events"].values() if e["Type"] == "DynamoDB")
    patterns = [json.loads(f["Pattern"]) for f in stream["FilterCriteria"]["Filters"]]

    records = list(DynamoDBStreamEvent(raw).records)
    assert len(records) == 2
    for record, source in zip(records, raw["Records"], strict=True):
        assert any(_matches(p, source) for p in patterns)
        assert record.event_name == DynamoDBRecordEventName.INSERT
        assert record.dynamodb is not None
        assert record.dynamodb.stream_view_type is not None
        assert record.dynamodb.keys["sk"] == "INTENT"
        image = record.dynamodb.new_image
        assert image["pk"] == f"OUTBOX#{image['intent_id']}"
        assert {"to_org", "type", "created_at"} <= set(image)


def test_the_clock_sample_is_a_scheduled_event() -> None:
    event = EventBridgeEvent(load("clock-schedule"))
    assert (event.detail_type, event.source, event.detail) == ("Scheduled Event", "aws.events", {})
    assert event.resources[0].startswith("arn:aws:events:eu-west-2:")


def test_the_audit_sealer_samples_are_what_the_sealer_reads() -> None:
    changes = [audit_change(record) for record in load("audit-sealer-stream")["Records"]]
    assert [(c.event, c.seq) for c in changes] == [("INSERT", 0), ("INSERT", 1), ("MODIFY", 0)]
    run = seal_changes(
        FakeSealStore(), FakeMacKey(), changes, lambda: dt.datetime(2026, 1, 15, 10, tzinfo=dt.UTC)
    )
    assert (run.seals, run.heads, [(t.seq, t.kind) for t in run.tampering]) == (1, 1, [(0, "overwritten")])
    event = EventBridgeEvent(load("audit-sealer-schedule"))
    assert (event.detail_type, event.source) == ("Scheduled Event", "aws.events")
    assert "Records" not in event.raw_event  # how the handler tells the schedule from the stream
