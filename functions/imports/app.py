"""Imports function: upload a caseload as CSV, follow its progress, list the organisation's imports.

The rows themselves are imported by the worker (functions/import_worker), batch by batch.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.http import current_caller, json_doc, json_response, make_resolver, raw_body
from signpost.logic import imports
from signpost.logic.import_csv import COLUMNS
from signpost.models.imports import ImportAccepted, ImportList, ImportView
from signpost.observability import logger, metrics, tracer
from signpost.wiring import import_ports, services

CSV = "text/csv"
app = make_resolver(
    {
        ("POST", "/v1/imports"): Action.IMPORT,
        ("GET", "/v1/imports"): Action.IMPORT,
        ("GET", "/v1/imports/{import_id}"): Action.IMPORT,
    },
    media_types={("POST", "/v1/imports"): CSV},
)
ImportId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(min_length=1, max_length=200)]

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": (
            "UTF-8 CSV, at most 4 MB, with a header row naming the columns "
            + ", ".join(COLUMNS)
            + " (sex, nhs_number and postcode may be left out or empty; categories separated by ;)."
        ),
        "content": {CSV: {"schema": {"type": "string", "maxLength": imports.MAX_UPLOAD_BYTES}}},
    }
}


@app.post(
    "/v1/imports",
    summary="Upload a caseload to import (la_practitioner, la_manager)",
    description="Answers at once; the rows are imported in the background: follow Location.",
    responses={202: json_doc(ImportAccepted, "Queued")},
    tags=["imports"],
    openapi_extensions=_CSV_BODY,
)
def start_import() -> Response[str]:
    accepted = imports.start_import(services(), import_ports(), current_caller(app), raw_body(app))
    metrics.add_metric(name="ImportStarted", unit="Count", value=1)
    return json_response(202, accepted, {"Location": f"/v1/imports/{accepted.import_id}"})


@app.get(
    "/v1/imports",
    summary="The organisation's imports, newest first",
    responses={200: json_doc(ImportList, "A page of imports")},
    tags=["imports"],
)
def list_imports(
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    cursor: Cursor = None,
) -> Response[str]:
    page = imports.list_imports(services(), import_ports(), current_caller(app), cursor=cursor, limit=limit)
    return json_response(200, page)


@app.get(
    "/v1/imports/<import_id>",
    summary="An import's progress, rejects and duplicates (the importing organisation only)",
    responses={200: json_doc(ImportView, "Progress and a page of rejects and duplicates")},
    tags=["imports"],
)
def get_import(
    import_id: ImportId,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Cursor = None,
) -> Response[str]:
    view = imports.get_import(
        services(), import_ports(), current_caller(app), import_id, cursor=cursor, limit=limit
    )
    body = view.model_dump(mode="json", exclude_none=True)
    # A reject always names its row, local_id, code and column (null: unknown, or the whole row).
    body["rejects"] = [{"local_id": None, "field": None, **reject} for reject in body["rejects"]]
    return json_response(200, body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
