"""Imports function: upload a caseload as CSV, follow its progress, list the organisation's imports.

The rows themselves are imported by the worker (functions/import_worker), batch by batch.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from signpost.api_doc import operation, reply
from signpost.authz import Action
from signpost.http import api_handler, current_caller, json_response, make_resolver, raw_body
from signpost.logic import imports
from signpost.logic.import_csv import COLUMNS
from signpost.models.imports import ImportAccepted, ImportList, ImportView
from signpost.observability import metrics
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
ImportId = Annotated[str, Path(min_length=1, description="The import's id (opaque)")]
Cursor = Annotated[
    str | None, Query(min_length=1, max_length=200, description="The `cursor` of the previous page")
]
NOT_YOURS = "No such import, or not one your organisation made (they answer alike)."

_CSV_BODY = {
    "required": True,
    "description": (
        "UTF-8 CSV, at most 4 MB (4,194,304 bytes), a header row naming the columns "
        + ", ".join(f"`{c}`" for c in COLUMNS)
        + " in any order (`sex`, `nhs_number` and `postcode` may be left out or empty; several "
        "`categories` separated by `;`; dates YYYY-MM-DD). Rows are numbered as a spreadsheet "
        "numbers them: the header is row 1."
    ),
    "content": {
        CSV: {
            "schema": {"type": "string", "maxLength": imports.MAX_UPLOAD_BYTES},
            "example": (
                ",".join(COLUMNS) + "\nCAM-0001,Ada,Testcase,2014-02-11,female,9990000018,NW1 2AB,"
                "child_protection_plan,2027-09-28\n"
            ),
        }
    },
}


@app.post(
    "/v1/imports",
    **operation(
        "startImport",
        "Upload a caseload to import",
        tag="imports",
        description="For `la_practitioner` and `la_manager`, into their own organisation. Answers at "
        "once; the rows are imported in the background, each through the same checks, matching and "
        "audit as registering a child: follow `Location`. Uploading the same file again changes "
        "nothing that is already there.",
        ok={202: reply(ImportAccepted, "Queued", location=True)},
        errors={
            400: "The file is not the import format (empty, no rows, a missing or unknown column in "
            "the header): `errors` says which. Nothing was stored.",
            413: "The file is over 4 MB. Nothing was stored.",
            415: "The body is not `text/csv` (UTF-8).",
        },
        request_body=_CSV_BODY,
    ),
)
def start_import() -> Response[str]:
    accepted = imports.start_import(services(), import_ports(), current_caller(app), raw_body(app))
    metrics.add_metric(name="ImportStarted", unit="Count", value=1)
    return json_response(202, accepted, {"Location": f"/v1/imports/{accepted.import_id}"})


@app.get(
    "/v1/imports",
    **operation(
        "listImports",
        "The organisation's imports, newest first",
        tag="imports",
        description="Each with its progress and counts; follow `cursor` for the following page.",
        ok={200: reply(ImportList, "A page of imports")},
    ),
)
def list_imports(
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many imports")] = 20,
    cursor: Cursor = None,
) -> Response[str]:
    page = imports.list_imports(services(), import_ports(), current_caller(app), cursor=cursor, limit=limit)
    return json_response(200, page)


@app.get(
    "/v1/imports/<import_id>",
    **operation(
        "getImport",
        "An import's progress, rejects and duplicates",
        tag="imports",
        description="The importing organisation only. `rejects` and `duplicates_detail` are paged "
        "together: ask again with `cursor` while the answer has one.",
        ok={200: reply(ImportView, "Progress and a page of rejects and duplicates")},
        errors={404: NOT_YOURS},
    ),
)
def get_import(
    import_id: ImportId,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many rejects and duplicates")] = 100,
    cursor: Cursor = None,
) -> Response[str]:
    view = imports.get_import(
        services(), import_ports(), current_caller(app), import_id, cursor=cursor, limit=limit
    )
    body = view.model_dump(mode="json", exclude_none=True)
    # A reject always names its row, local_id, code and column (null: unknown, or the whole row).
    body["rejects"] = [{"local_id": None, "field": None, **reject} for reject in body["rejects"]]
    return json_response(200, body)


lambda_handler = api_handler(app)
