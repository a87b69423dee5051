"""Inbox function: notifications, the organisation directory, health and the OpenAPI document."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.dal.inbox import DynamoInbox
from signpost.http import current_caller, json_doc, json_response, make_resolver
from signpost.logic import directory, notifications
from signpost.models.common import Health
from signpost.models.notifications import Notification, NotificationPage
from signpost.models.organisation import Organisation, OrganisationIn
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

app = make_resolver(
    {
        ("GET", "/v1/organisations/{code}"): Action.READ_DIRECTORY,
        ("PUT", "/v1/organisations/{code}"): Action.DIRECTORY_ADMIN,
        ("GET", "/v1/notifications"): Action.INBOX,
        ("POST", "/v1/notifications/{notification_id}/read"): Action.INBOX,
    },
    public=frozenset({("GET", "/health"), ("GET", "/openapi.json")}),
)
OrgCode = Annotated[str, Path(min_length=1, max_length=20)]


@app.get(
    "/health",
    summary="Liveness",
    tags=["service"],
    responses={200: json_doc(Health, "Alive")},
)
def health() -> Response[str]:
    return json_response(200, {"status": "ok"})


@app.get("/openapi.json", summary="This API's OpenAPI document", tags=["service"], include_in_schema=False)
def openapi() -> Response[str]:
    text = resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8")
    return Response(status_code=200, content_type="application/json", body=text)


@app.get(
    "/v1/organisations/<code>",
    summary="A directory entry",
    tags=["directory"],
    responses={200: json_doc(Organisation, "The organisation")},
)
def get_organisation(code: OrgCode) -> Response[str]:
    org = directory.get_organisation(services().store.directory, current_caller(app), code)
    return json_response(200, org)


@app.put(
    "/v1/organisations/<code>",
    summary="Create or replace a directory entry (admin)",
    tags=["directory"],
    responses={
        200: json_doc(Organisation, "Replaced"),
        201: json_doc(Organisation, "Created"),
    },
)
def put_organisation(code: OrgCode, body: OrganisationIn) -> Response[str]:
    org, created = directory.put_organisation(services(), current_caller(app), code, body)
    return json_response(201 if created else 200, org)


def _inbox() -> DynamoInbox:
    return DynamoInbox(services().settings.records_table)


@app.get(
    "/v1/notifications",
    summary="The caller's organisation's notifications, newest first",
    tags=["notifications"],
    responses={200: json_doc(NotificationPage, "A page of notifications")},
)
def list_notifications(
    unread: Annotated[bool, Query()] = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    after: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> Response[str]:
    items, cursor = notifications.list_notifications(
        _inbox(), current_caller(app), unread_only=unread, limit=limit, after=after
    )
    body: dict[str, Any] = {"items": [i.model_dump(mode="json", exclude_none=True) for i in items]}
    if cursor:
        body["next"] = f"/v1/notifications?limit={limit}&after={cursor}" + ("&unread=true" if unread else "")
    return json_response(200, body)


@app.post(
    "/v1/notifications/<notification_id>/read",
    summary="Mark a notification read (the caller's organisation's own)",
    tags=["notifications"],
    responses={200: json_doc(Notification, "The notification")},
)
def read_notification(notification_id: Annotated[str, Path(min_length=1)]) -> Response[str]:
    item = notifications.mark_read(_inbox(), current_caller(app), notification_id, services().now())
    return json_response(200, item)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
