"""Search function: is this child known to children's services, and whom to contact? And break-glass."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.authz import Action
from signpost.errors import TooManyRequests
from signpost.http import current_caller, json_doc, json_response, make_resolver
from signpost.logic import break_glass as break_glass_logic
from signpost.logic import search as search_logic
from signpost.models.search import BreakGlassRequest, SearchRequest, SearchResult
from signpost.observability import count_search, logger, metrics, tracer
from signpost.wiring import services

app = make_resolver(
    {
        ("POST", "/v1/searches"): Action.SEARCH,
        ("POST", "/v1/searches/{search_id}/break-glass"): Action.BREAK_GLASS,
    }
)
_RESULT = json_doc(SearchResult, "The outcome and signposts")


@app.post(
    "/v1/searches",
    summary="Search for a child: the responsible local authority and whom to contact",
    responses={200: _RESULT},
    tags=["search"],
)
def search(body: SearchRequest) -> Response[str]:
    caller = current_caller(app)
    try:
        result = search_logic.search(services(), caller, body)
    except TooManyRequests:
        metrics.add_metric(name="PoliceSearchLimited", unit="Count", value=1)
        raise
    metrics.add_metric(name=f"Search_{result.outcome.value}", unit="Count", value=1)
    count_search(result.outcome.value, caller.org_type.value)
    return json_response(200, result)


@app.post(
    "/v1/searches/<search_id>/break-glass",
    summary="Reveal the shielded signposts of your organisation's search (la_manager; audited, reviewed)",
    responses={200: _RESULT},
    tags=["search"],
)
def break_glass(search_id: str, body: BreakGlassRequest) -> Response[str]:
    result = break_glass_logic.break_glass(services(), current_caller(app), search_id, body)
    metrics.add_metric(name="BreakGlassUsed", unit="Count", value=1)
    return json_response(200, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
