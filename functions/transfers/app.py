"""Transfers function: a child moves between local authorities (request, list, acknowledge,
accept, decline, withdraw)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from signpost.api_doc import operation, reply
from signpost.authz import Action, Caller
from signpost.dal.transfers import DynamoTransfers
from signpost.errors import BadRequest
from signpost.http import (
    api_handler,
    current_caller,
    header,
    item_page,
    json_response,
    make_resolver,
    raw_json_body,
)
from signpost.logic import transfers
from signpost.logic.idempotency import idempotency_request
from signpost.logic.services import Services
from signpost.models.transfers import (
    DeclineRequest,
    Direction,
    TransferPage,
    TransferRequest,
    TransferStatus,
    TransferView,
)
from signpost.observability import metrics
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
ChildId = Annotated[str, Path(min_length=1, description="The record's id (opaque)")]
TransferId = Annotated[str, Path(min_length=1, description="The transfer's id (opaque)")]
ADDRESSED_ERRORS = {
    404: "No such transfer, or not one addressed to the caller's organisation (they answer alike).",
    409: "The transfer is already decided (accepted, declined or withdrawn).",
}


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


def _step(
    step: Callable[[Services, DynamoTransfers, Caller, str], TransferView], transfer_id: str, metric: str
) -> Response[str]:
    """acknowledge, accept or withdraw: no fields, the caller's step, counted, the transfer as it is now."""
    _no_fields()
    view = step(services(), _repository(), current_caller(app), transfer_id)
    metrics.add_metric(name=metric, unit="Count", value=1)
    return json_response(200, view)


@app.post(
    "/v1/children/<child_id>/transfers",
    **operation(
        "requestTransfer",
        "Ask another local authority to take responsibility for a child",
        tag="transfers",
        description="The responsible organisation asks; the receiving one gets `transfer_requested` in "
        "its inbox at once. `acknowledge_by` is the 1st and `decide_by` the 15th working day after the "
        "request's date in England (weekends and England and Wales bank holidays are not working days). "
        "A child has at most one open transfer. A retry with the same `Idempotency-Key` and body "
        "answers the first response again.",
        ok={201: reply(TransferView, "Requested")},
        errors={
            400: "The request is not valid (`errors` says which field), or `to_org` is not an active "
            "local authority.",
            404: "No such child, or not a child your organisation is responsible for (they answer alike).",
            409: "The child already has an open transfer, the record is closed, or the Idempotency-Key "
            "was used before with a different body.",
        },
        idempotent=True,
    ),
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
    **operation(
        "listTransfers",
        "The caller's organisation's incoming or outgoing transfers",
        tag="transfers",
        description="Newest first, optionally of one status; follow `next` for the following page.",
        ok={200: reply(TransferPage, "A page of transfers")},
    ),
)
def list_transfers(
    direction: Annotated[Direction, Query(description="Addressed to the caller, or sent by it")] = (
        Direction.INCOMING
    ),
    status: Annotated[TransferStatus | None, Query(description="Only transfers in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Transfers per page")] = 50,
    after: Annotated[
        str | None, Query(min_length=1, max_length=200, description="From `next`: the page after this one")
    ] = None,
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
    query = f"direction={direction.value}&limit={limit}&after={cursor}"
    if status:
        query += f"&status={status.value}"
    return json_response(200, item_page(items, f"/v1/transfers?{query}" if cursor else None))


@app.post(
    "/v1/transfers/<transfer_id>/acknowledge",
    **operation(
        "acknowledgeTransfer",
        "Acknowledge a transfer",
        tag="transfers",
        description="The receiving organisation confirms it has seen the request; this stops the "
        "`acknowledge_by` clock. Takes no fields (no body, or `{}`). Sent again for a transfer already "
        "acknowledged, it answers the first response again (200).",
        ok={200: reply(TransferView, "The transfer")},
        errors=ADDRESSED_ERRORS,
    ),
)
def acknowledge(transfer_id: TransferId) -> Response[str]:
    return _step(transfers.acknowledge, transfer_id, "TransferAcknowledged")


@app.post(
    "/v1/transfers/<transfer_id>/accept",
    **operation(
        "acceptTransfer",
        "Accept a transfer: the receiving organisation becomes responsible",
        tag="transfers",
        description="The record moves in one transaction with its audit entry and the notice to the "
        "sending organisation, which from then on gets 404 for the child. Takes no fields (no body, or "
        "`{}`). Sent again for a transfer already accepted, it answers the first response again (200).",
        ok={200: reply(TransferView, "The transfer")},
        errors=ADDRESSED_ERRORS,
    ),
)
def accept(transfer_id: TransferId) -> Response[str]:
    return _step(transfers.accept, transfer_id, "TransferAccepted")


@app.post(
    "/v1/transfers/<transfer_id>/decline",
    **operation(
        "declineTransfer",
        "Decline a transfer",
        tag="transfers",
        description="The receiving organisation declines, giving a reason; the sending organisation "
        "stays responsible and is told. Sent again for a transfer already declined, it answers the "
        "first response again (200).",
        ok={200: reply(TransferView, "The transfer")},
        errors=ADDRESSED_ERRORS,
    ),
)
def decline(transfer_id: TransferId, body: DeclineRequest) -> Response[str]:
    view = transfers.decline(services(), _repository(), current_caller(app), transfer_id, body)
    metrics.add_metric(name="TransferDeclined", unit="Count", value=1)
    return json_response(200, view)


@app.post(
    "/v1/transfers/<transfer_id>/withdraw",
    **operation(
        "withdrawTransfer",
        "Withdraw an open transfer",
        tag="transfers",
        description="The sending organisation withdraws a transfer while it is open (closing the record "
        "withdraws it too); the receiving organisation gets `transfer_withdrawn`. Takes no fields (no "
        "body, or `{}`). Sent again for a transfer already withdrawn, it answers the first response "
        "again (200).",
        ok={200: reply(TransferView, "The transfer, withdrawn")},
        errors={
            404: "No such transfer, or not one the caller's organisation sent (they answer alike).",
            409: "The transfer is already accepted or declined.",
        },
    ),
)
def withdraw(transfer_id: TransferId) -> Response[str]:
    return _step(transfers.withdraw, transfer_id, "TransferWithdrawn")


lambda_handler = api_handler(app)
