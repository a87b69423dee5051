"""Search function: is this child known to children's services, and whom to contact?"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from signpost.http import current_caller, json_response, make_resolver
from signpost.logic import search as search_logic
from signpost.models.search import SearchRequest, SearchResult
from signpost.observability import logger, metrics, tracer
from signpost.wiring import services

app = make_resolver()


@app.post(
    "/v1/searches",
    summary="Search for a child: the responsible local authority and whom to contact",
    responses={200: {"description": "The outcome and signposts", "content": {"application/json": {"model": SearchResult}}}},
    tags=["search"],
)
def search(body: SearchRequest) -> Response[str]:
    result = search_logic.search(services(), current_caller(app), body)
    metrics.add_metric(name=f"Search_{result.outcome.value}", unit="Count", value=1)
    return json_response(200, result)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
