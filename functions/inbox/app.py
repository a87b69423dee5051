"""Inbox function: notifications, the organisation directory, health and the OpenAPI document."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.http import current_caller, json_response, make_resolver
from signpost.logic import directory
from signpost.models.organisation import Organisation, OrganisationIn
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

app = make_resolver(
    {
        ("GET", "/v1/organisations/{code}"): Action.READ_DIRECTORY,
        ("PUT", "/v1/organisations/{code}"): Action.DIRECTORY_ADMIN,
    },
    public=frozenset({("GET", "/health"), ("GET", "/openapi.json")}),
)
OrgCode = Annotated[str, Path(min_length=1, max_length=20)]


@app.get("/health", summary="Liveness", tags=["service"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/openapi.json", summary="This API's OpenAPI document", tags=["service"], include_in_schema=False)
def openapi() -> Response[str]:
    text = resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8")
    return Response(status_code=200, content_type="application/json", body=text)


@app.get(
    "/v1/organisations/<code>",
    summary="A directory entry",
    tags=["directory"],
    responses={
        200: {"description": "The organisation", "content": {"application/json": {"model": Organisation}}}
    },
)
def get_organisation(code: OrgCode) -> Response[str]:
    org = directory.get_organisation(services().store.directory, current_caller(app), code)
    return json_response(200, org)


@app.put(
    "/v1/organisations/<code>",
    summary="Create or replace a directory entry (admin)",
    tags=["directory"],
    responses={
        200: {"description": "Replaced", "content": {"application/json": {"model": Organisation}}},
        201: {"description": "Created", "content": {"application/json": {"model": Organisation}}},
    },
)
def put_organisation(code: OrgCode, body: OrganisationIn) -> Response[str]:
    org, created = directory.put_organisation(services().store.directory, current_caller(app), code, body)
    return json_response(201 if created else 200, org)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
