"""Inbox function: notifications, the organisation directory, health and the OpenAPI document."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from signpost.api_doc import operation, reply
from signpost.authz import Action
from signpost.dal.inbox import DynamoInbox
from signpost.http import api_handler, current_caller, item_page, json_response, make_resolver
from signpost.logic import directory, notifications
from signpost.models.common import Health, OpenApiDocument
from signpost.models.notifications import Notification, NotificationPage
from signpost.models.organisation import Organisation, OrganisationIn
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
OrgCode = Annotated[
    str, Path(min_length=1, max_length=20, description="The organisation's code, e.g. E09000007")
]


@app.get(
    "/health",
    **operation(
        "getHealth",
        "Liveness",
        tag="service",
        description='Answers `{"status": "ok"}` while the API is up.',
        ok={200: reply(Health, "Alive")},
    ),
)
def health() -> Response[str]:
    return json_response(200, {"status": "ok"})


@app.get(
    "/openapi.json",
    **operation(
        "getOpenApiDocument",
        "This document",
        tag="service",
        description="The OpenAPI 3.1 document of this API, generated from the handlers' own routes and "
        "models: what client generators and validators use.",
        ok={200: reply(OpenApiDocument, "The OpenAPI document")},
    ),
)
def openapi() -> Response[str]:
    text = resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8")
    return Response(status_code=200, content_type="application/json", body=text)


@app.get(
    "/v1/organisations/<code>",
    **operation(
        "getOrganisation",
        "A directory entry",
        tag="directory",
        description="An organisation's name, type, area, contact and manager route.",
        ok={200: reply(Organisation, "The organisation")},
        errors={404: "No organisation has this code."},
    ),
)
def get_organisation(code: OrgCode) -> Response[str]:
    org = directory.get_organisation(services().store.directory, current_caller(app), code)
    return json_response(200, org)


@app.put(
    "/v1/organisations/<code>",
    **operation(
        "putOrganisation",
        "Create or replace a directory entry",
        tag="directory",
        description="The body's `code` must equal the path's. An inactive organisation's tokens are refused.",
        ok={
            200: reply(Organisation, "Replaced"),
            201: reply(Organisation, "Created", location=True),
        },
    ),
)
def put_organisation(code: OrgCode, body: OrganisationIn) -> Response[str]:
    org, created = directory.put_organisation(services(), current_caller(app), code, body)
    if created:
        return json_response(201, org, {"Location": f"/v1/organisations/{code}"})
    return json_response(200, org)


def _inbox() -> DynamoInbox:
    return DynamoInbox(services().settings.records_table)


@app.get(
    "/v1/notifications",
    **operation(
        "listNotifications",
        "The caller's organisation's notifications",
        tag="notifications",
        description="Newest first; follow `next` for the following page. A notification never "
        "carries a child's identity: only ids to look the record up with.",
        ok={200: reply(NotificationPage, "A page of notifications")},
    ),
)
def list_notifications(
    unread: Annotated[bool, Query(description="Only notifications not yet marked read")] = False,
    limit: Annotated[int, Query(ge=1, le=100, description="Notifications per page")] = 50,
    after: Annotated[
        str | None, Query(min_length=1, max_length=200, description="From `next`: the page after this one")
    ] = None,
) -> Response[str]:
    items, cursor = notifications.list_notifications(
        _inbox(), current_caller(app), unread_only=unread, limit=limit, after=after
    )
    query = f"limit={limit}&after={cursor}" + ("&unread=true" if unread else "")
    return json_response(200, item_page(items, f"/v1/notifications?{query}" if cursor else None))


@app.post(
    "/v1/notifications/<notification_id>/read",
    **operation(
        "markNotificationRead",
        "Mark a notification read",
        tag="notifications",
        description="Marking it again changes nothing.",
        ok={200: reply(Notification, "The notification")},
        errors={404: "No such notification in the caller's organisation's inbox."},
    ),
)
def read_notification(
    notification_id: Annotated[str, Path(min_length=1, description="The notification's `id`")],
) -> Response[str]:
    item = notifications.mark_read(_inbox(), current_caller(app), notification_id, services().now())
    return json_response(200, item)


lambda_handler = api_handler(app)
