"""Records function: register, read, correct and close signposts; the access log of a child."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from signpost.api_doc import error, operation, reply
from signpost.authz import Action
from signpost.http import api_handler, current_caller, header, json_response, make_resolver, raw_json_body
from signpost.logic import access_log as access_log_logic
from signpost.logic import records
from signpost.logic import subject_access as subject_access_logic
from signpost.logic.idempotency import idempotency_request
from signpost.models.audit import AccessLog
from signpost.models.children import ChildCreated, ChildView, CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.problems import DuplicateChildProblem
from signpost.models.search import SearchResult
from signpost.models.security import SubjectAccessReport
from signpost.observability import metrics
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
ChildId = Annotated[str, Path(min_length=1, description="The record's id (opaque)")]
NOT_YOURS = "No such child, or not a child your organisation is responsible for (they answer alike)."


@app.post(
    "/v1/children",
    **operation(
        "registerChild",
        "Register a child",
        tag="children",
        description="The caller's organisation becomes responsible for the child. Identity is "
        "encrypted; only keyed blind indexes of it are searchable. `shielding` may be set by an "
        "`la_manager` only (403 otherwise). A retry with the same `Idempotency-Key` and body answers "
        "the first response again.",
        ok={201: reply(ChildCreated, "Registered", location=True)},
        errors={
            403: "The caller's role may not register, or may not set `shielding` (`la_manager` only).",
            409: error(
                "An active record of this child already exists, anywhere: `signposts` says whom to "
                "contact, instead of a duplicate being made. Also answered when the Idempotency-Key "
                "was used before with a different body.",
                model=DuplicateChildProblem,
                example={
                    "detail": "an active record of this child already exists",
                    "signposts": SearchResult.EXAMPLES[0]["signposts"],
                },
            ),
        },
        idempotent=True,
    ),
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
    **operation(
        "getChild",
        "Read a record",
        tag="children",
        description="The stored identity, categories, contact, status and dates, for the "
        "responsible organisation only. Every read is audited.",
        ok={200: reply(ChildView, "The record")},
        errors={404: NOT_YOURS},
    ),
)
def get_child(child_id: ChildId) -> Response[str]:
    return json_response(200, records.get_child(services(), current_caller(app), child_id))


@app.patch(
    "/v1/children/<child_id>",
    **operation(
        "updateChild",
        "Correct or update a record",
        tag="children",
        description="Change `categories`, `contact`, `review_by`, identity corrections and (`la_manager` "
        "only) `shielding`; `shielding: null` removes it. Fields left out are unchanged.",
        ok={200: reply(ChildView, "The updated record")},
        errors={
            403: "The caller's role may not change records, or may not change `shielding` "
            "(`la_manager` only).",
            404: NOT_YOURS,
            409: error(
                "The record is closed, or the corrected identity is that of another active record: "
                "`signposts` says whom to contact.",
                model=DuplicateChildProblem,
            ),
        },
    ),
)
def update_child(child_id: ChildId, body: UpdateRequest) -> Response[str]:
    return json_response(200, records.update_child(services(), current_caller(app), child_id, body))


@app.post(
    "/v1/children/<child_id>/close",
    **operation(
        "closeChild",
        "Close a record",
        tag="children",
        description="A closed record stays findable as `status: closed` for 365 days, then leaves "
        "search; it is purged after the retention period. Closing withdraws an open transfer of the "
        "child (the receiving organisation gets `transfer_withdrawn`).",
        ok={200: reply(ChildView, "The closed record")},
        errors={404: NOT_YOURS, 409: "The record is already closed."},
    ),
)
def close_child(child_id: ChildId, body: CloseRequest) -> Response[str]:
    return json_response(200, records.close_child(services(), current_caller(app), child_id, body))


@app.get(
    "/v1/children/<child_id>/access-log",
    **operation(
        "getAccessLog",
        "Who looked at or changed this record",
        tag="children",
        description="Every search that matched or possibly matched the record and every read or "
        "change of it, the owner's own included, newest first; a sensitive service is shown as "
        "`a health service`. A local authority sees its own children's logs; an auditor any child's. "
        "Follow `next` for older entries.",
        ok={200: reply(AccessLog, "Newest first")},
        errors={404: NOT_YOURS},
    ),
)
def access_log(
    child_id: ChildId,
    limit: Annotated[int, Query(ge=1, le=100, description="Entries per page")] = 100,
    after: Annotated[int | None, Query(ge=0, description="From `next`: the page after this one")] = None,
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
    **operation(
        "getSubjectAccessReport",
        "Everything held about the child, and every access to it",
        tag="children",
        description="For a subject access request: the decrypted record, what is not held, and "
        "the whole access log (sensitive services shown as `a health service`). Audited.",
        ok={200: reply(SubjectAccessReport, "The report")},
        errors={404: NOT_YOURS},
    ),
)
def subject_access_report(child_id: ChildId) -> Response[str]:
    report = subject_access_logic.subject_access_report(services(), current_caller(app), child_id)
    return json_response(200, report)


lambda_handler = api_handler(app)
