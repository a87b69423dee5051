"""Records function: register, read, correct and close signposts; the access log of a child."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.http import current_caller, header, json_doc, json_response, make_resolver, raw_json_body
from signpost.logic import access_log as access_log_logic
from signpost.logic import records
from signpost.logic import subject_access as subject_access_logic
from signpost.logic.idempotency import idempotency_request
from signpost.models.audit import AccessLog
from signpost.models.children import ChildCreated, ChildView, CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.security import SubjectAccessReport
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

app = make_resolver(
    {
        ("POST", "/v1/children"): Action.MANAGE_RECORDS,
        ("GET", "/v1/children/{child_id}"): Action.MANAGE_RECORDS,
        ("PATCH", "/v1/children/{child_id}"): Action.MANAGE_RECORDS,
        ("POST", "/v1/children/{child_id}/close"): Action.MANAGE_RECORDS,
        # own children (LA) or any child (auditor): logic decides which
        ("GET", "/v1/children/{child_id}/access-log"): Action.ACCESS_LOG,
        ("GET", "/v1/children/{child_id}/subject-access-report"): Action.SUBJECT_ACCESS,
    }
)
ChildId = Annotated[str, Path(min_length=1)]


@app.post(
    "/v1/children",
    summary="Register a child (responsible local authority)",
    responses={
        201: json_doc(ChildCreated, "Registered"),
        409: {"description": "Already registered: see signposts"},
    },
    tags=["children"],
)
def register(body: RegisterRequest) -> Response[str]:
    caller = current_caller(app)
    idem = idempotency_request(caller, header(app, "Idempotency-Key"), "register", raw_json_body(app))
    result = records.register(services(), caller, body, idem)
    metrics.add_metric(
        name="ChildRegistered" if not result.replayed else "RegisterReplayed", unit="Count", value=1
    )
    return json_response(result.status, result.body, result.headers)


@app.get(
    "/v1/children/<child_id>",
    summary="Read a record (responsible organisation only)",
    tags=["children"],
    responses={200: json_doc(ChildView, "The record")},
)
def get_child(child_id: ChildId) -> Response[str]:
    return json_response(200, records.get_child(services(), current_caller(app), child_id))


@app.patch(
    "/v1/children/<child_id>",
    summary="Correct or update a record",
    tags=["children"],
    responses={200: json_doc(ChildView, "The updated record")},
)
def update_child(child_id: ChildId, body: UpdateRequest) -> Response[str]:
    return json_response(200, records.update_child(services(), current_caller(app), child_id, body))


@app.post(
    "/v1/children/<child_id>/close",
    summary="Close a record",
    tags=["children"],
    responses={200: json_doc(ChildView, "The closed record")},
)
def close_child(child_id: ChildId, body: CloseRequest) -> Response[str]:
    return json_response(200, records.close_child(services(), current_caller(app), child_id, body))


@app.get(
    "/v1/children/<child_id>/access-log",
    summary="Who looked at or changed this record",
    tags=["children"],
    responses={200: json_doc(AccessLog, "Newest first")},
)
def access_log(
    child_id: ChildId,
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response[str]:
    log, next_after = access_log_logic.access_log(
        services(), current_caller(app), child_id, limit=limit, after=after
    )
    body = log.model_dump(mode="json", exclude_none=True)
    if next_after is not None:
        body["next"] = f"/v1/children/{child_id}/access-log?after={next_after}&limit={limit}"
    return json_response(200, body)


@app.get(
    "/v1/children/<child_id>/subject-access-report",
    summary="Everything held about the child and every access to it (la_manager of the responsible LA)",
    tags=["children"],
    responses={200: json_doc(SubjectAccessReport, "The report")},
)
def subject_access_report(child_id: ChildId) -> Response[str]:
    report = subject_access_logic.subject_access_report(services(), current_caller(app), child_id)
    return json_response(200, report)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
