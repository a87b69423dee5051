"""Search function: is this child known to children's services, and whom to contact? And break-glass."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from signpost.api_doc import error, operation, reply
from signpost.authz import Action
from signpost.errors import TooManyRequests
from signpost.http import api_handler, current_caller, json_response, make_resolver
from signpost.logic import break_glass as break_glass_logic
from signpost.logic import search as search_logic
from signpost.models.search import BreakGlassRequest, SearchRequest, SearchResult
from signpost.observability import count_search, metrics
from signpost.wiring import services

app = make_resolver(
    {
        ("POST", "/v1/searches"): Action.SEARCH,
        ("POST", "/v1/searches/{search_id}/break-glass"): Action.BREAK_GLASS,
    }
)


@app.post(
    "/v1/searches",
    **operation(
        "searchChildren",
        "Is this child known to children's services, and whom do I call?",
        tag="search",
        description="`match`: one child (both organisations while a transfer is open, responsible one "
        "first); `possible_match`: up to 3 signposts without `categories`, to confirm with the contact "
        "before acting; `no_match`: none. A search never returns the stored identity; police results "
        "never carry `categories`; a shielded child's signpost has no `child_id` and gives the "
        "manager route. Every search is audited, and a `match` or `possible_match` by another "
        "organisation notifies the responsible one. Police must give `reason: police_enquiry` with a "
        "`case_reference`, and only police may; police searches are limited per officer per hour.",
        ok={200: reply(SearchResult, "The outcome and the signposts")},
        errors={
            400: "The request is not valid (`errors` says which field), e.g. a police search without "
            "`police_enquiry` and a `case_reference`, or `police_enquiry` by anyone else.",
            429: error(
                "A police officer's hourly search limit is reached (or the API's throttling): wait "
                "`Retry-After` seconds. Refused requests do not count.",
                example={"detail": "the hourly limit of police searches is reached; try again later"},
            ),
        },
    ),
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
    **operation(
        "breakGlass",
        "Reveal the shielded signposts of a search made by the caller's organisation",
        tag="search",
        description="An `la_manager` of the organisation that made the search (not necessarily the "
        "practitioner who searched) states a justification; the answer is the search result with the "
        "shielded signposts' `child_id` and `categories`. It alerts the responsible organisation at "
        "once (`break_glass_used`) and is flagged for review.",
        ok={200: reply(SearchResult, "The search result, shielded signposts revealed")},
        errors={
            404: "No such search, or one made by another organisation (they answer alike).",
            409: "No signpost of this search is shielded: there is nothing to reveal.",
        },
    ),
)
def break_glass(
    search_id: Annotated[str, Path(description="The `search_id` of the search's answer")],
    body: BreakGlassRequest,
) -> Response[str]:
    result = break_glass_logic.break_glass(services(), current_caller(app), search_id, body)
    metrics.add_metric(name="BreakGlassUsed", unit="Count", value=1)
    return json_response(200, result)


lambda_handler = api_handler(app)
