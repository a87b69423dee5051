"""Transfers function: a child moves between local authorities (request, list, acknowledge,
accept, decline, withdraw)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.dal.transfers import DynamoTransfers
from signpost.errors import BadRequest
from signpost.http import current_caller, header, json_doc, json_response, make_resolver, raw_json_body
from signpost.logic import transfers
from signpost.logic.idempotency import idempotency_request
from signpost.models.transfers import (
    DeclineRequest,
    Direction,
    TransferPage,
    TransferRequest,
    TransferStatus,
    TransferView,
)
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

app = make_resolver(
    {
        ("POST", "/v1/children/{child_id}/transfers"): Action.MANAGE_RECORDS,
        ("GET", "/v1/transfers"): Action.MANAGE_RECORDS,
        ("POST", "/v1/transfers/{transfer_id}/acknowledge"): Action.MANAGE_RECORDS,
        ("POST", "/v1/transfers/{transfer_id}/accept"): Action.MANAGE_RECORDS,
        ("POST", "/v1/transfers/{transfer_id}/decline"): Action.MANAGE_RECORDS,
        ("POST", "/v1/transfers/{transfer_id}/withdraw"): Action.MANAGE_RECORDS,
    }
)
ChildId = Annotated[str, Path(min_length=1)]
TransferId = Annotated[str, Path(min_length=1)]


def _repository() -> DynamoTransfers:
    return DynamoTransfers(services().settings.records_table)


def _no_fields() -> None:
    """acknowledge, accept and withdraw take no fields: an empty body or `{}` (unknown fields are 400)."""
    raw = app.current_event.body
    if raw is None or not raw.strip():
        return
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise BadRequest(
            "the request body is not JSON", errors=[{"field": "body", "message": "not JSON"}]
        ) from exc
    if not isinstance(body, dict):
        raise BadRequest(
            "the request body must be an object", errors=[{"field": "body", "message": "not an object"}]
        )
    if body:
        raise BadRequest(
            "this request takes no fields",
            errors=[{"field": name, "message": "unknown field"} for name in sorted(body)],
        )


@app.post(
    "/v1/children/<child_id>/transfers",
    summary="Ask another local authority to take responsibility for a child (responsible LA)",
    responses={201: json_doc(TransferView, "Requested")},
    tags=["transfers"],
)
def request_transfer(child_id: ChildId, body: TransferRequest) -> Response[str]:
    caller = current_caller(app)
    idem = idempotency_request(
        caller, header(app, "Idempotency-Key"), f"transfer:{child_id}", raw_json_body(app)
    )
    result = transfers.request_transfer(services(), caller, child_id, body, idem)
    metrics.add_metric(
        name="TransferRequested" if not result.replayed else "TransferReplayed", unit="Count", value=1
    )
    return json_response(result.status, result.body, result.headers)


@app.get(
    "/v1/transfers",
    summary="The caller's organisation's incoming or outgoing transfers, newest first",
    responses={200: json_doc(TransferPage, "A page of transfers")},
    tags=["transfers"],
)
def list_transfers(
    direction: Annotated[Direction, Query()] = Direction.INCOMING,
    status: Annotated[TransferStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response[str]:
    items, cursor = transfers.list_transfers(
        services(),
        _repository(),
        current_caller(app),
        direction=direction,
        status=status,
        limit=limit,
        after=after,
    )
    body: dict[str, Any] = {"items": [i.model_dump(mode="json", exclude_none=True) for i in items]}
    if cursor:
        query = f"direction={direction.value}&limit={limit}&after={cursor}"
        if status:
            query += f"&status={status.value}"
        body["next"] = f"/v1/transfers?{query}"
    return json_response(200, body)


@app.post(
    "/v1/transfers/<transfer_id>/acknowledge",
    summary="Acknowledge a transfer (receiving LA)",
    responses={200: json_doc(TransferView, "The transfer")},
    tags=["transfers"],
)
def acknowledge(transfer_id: TransferId) -> Response[str]:
    _no_fields()
    view = transfers.acknowledge(services(), _repository(), current_caller(app), transfer_id)
    metrics.add_metric(name="TransferAcknowledged", unit="Count", value=1)
    return json_response(200, view)


@app.post(
    "/v1/transfers/<transfer_id>/accept",
    summary="Accept a transfer: the receiving LA becomes responsible for the record",
    responses={200: json_doc(TransferView, "The transfer")},
    tags=["transfers"],
)
def accept(transfer_id: TransferId) -> Response[str]:
    _no_fields()
    view = transfers.accept(services(), _repository(), current_caller(app), transfer_id)
    metrics.add_metric(name="TransferAccepted", unit="Count", value=1)
    return json_response(200, view)


@app.post(
    "/v1/transfers/<transfer_id>/decline",
    summary="Decline a transfer (receiving LA)",
    responses={200: json_doc(TransferView, "The transfer")},
    tags=["transfers"],
)
def decline(transfer_id: TransferId, body: DeclineRequest) -> Response[str]:
    view = transfers.decline(services(), _repository(), current_caller(app), transfer_id, body)
    metrics.add_metric(name="TransferDeclined", unit="Count", value=1)
    return json_response(200, view)


@app.post(
    "/v1/transfers/<transfer_id>/withdraw",
    summary="Withdraw an open transfer (sending LA); the receiving LA is told",
    responses={200: json_doc(TransferView, "The transfer")},
    tags=["transfers"],
)
def withdraw(transfer_id: TransferId) -> Response[str]:
    _no_fields()
    view = transfers.withdraw(services(), _repository(), current_caller(app), transfer_id)
    metrics.add_metric(name="TransferWithdrawn", unit="Count", value=1)
    return json_response(200, view)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
