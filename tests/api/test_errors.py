"""Errors a person can act on (RFC 9457): the same problem+json shape from the handlers and from the
gateway itself, the status phrase as title, a detail, and field messages that say what to send."""

from __future__ import annotations

import json

import pytest
import requests
from signpost.errors import status_phrase

from infrastructure.local.aws import TEMPLATE_PATH
from infrastructure.local.gateway import MAX_BODY_BYTES
from infrastructure.local.routes import load_routes
from tests.api.conftest import CAMDEN, ROYAL_FREE, Api, fictional_identity, review_by

pytestmark = pytest.mark.api


def problem_of(response: requests.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == status_phrase(status)
    assert body["status"] == status
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


def template_body(kind: str) -> dict[str, object]:
    return json.loads(load_routes(TEMPLATE_PATH).gateway_response(kind).body)


def test_the_gateways_own_answers_are_the_templates(api: Api) -> None:
    unauthorised = api.call(None, "GET", "/v1/organisations/E09000007")
    assert problem_of(unauthorised, 401) == template_body("UNAUTHORIZED")
    assert unauthorised.headers["WWW-Authenticate"] == "Bearer"

    unknown = api.call(None, "GET", "/v2/children")
    assert problem_of(unknown, 404) == template_body("MISSING_AUTHENTICATION_TOKEN")

    too_large = api.call(
        CAMDEN,
        "POST",
        "/v1/children",
        data=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert problem_of(too_large, 413) == template_body("REQUEST_TOO_LARGE")


def test_a_known_path_with_another_method_says_which_methods_it_takes(api: Api) -> None:
    body = problem_of(api.call(CAMDEN, "DELETE", "/v1/children/c0ffee"), 405)
    assert body["detail"] == "this path takes GET, PATCH"


def test_a_handlers_401_also_names_the_scheme(api: Api) -> None:
    # A token for a role that does not fit its organisation: refused at the gateway (401 + Bearer)
    response = api.call(("RAL", "la_manager", "impostor-2"), "GET", "/v1/organisations/RAL")
    problem_of(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "the body has no Content-Type: send it as application/json"),
        ({"Content-Type": "text/plain"}, "a body of type text/plain is not accepted: send application/json"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "a body of type application/x-www-form-urlencoded is not accepted: send application/json",
        ),
    ],
    ids=["no-content-type", "text", "form"],
)
def test_a_body_that_is_not_declared_json_is_415(api: Api, headers: dict[str, str], detail: str) -> None:
    body = json.dumps({**fictional_identity(), "reason": "referral"}).encode()
    response = api.call(ROYAL_FREE, "POST", "/v1/searches", data=body, headers=headers)
    assert problem_of(response, 415)["detail"] == detail


def test_malformed_json_says_where_not_at_which_character(api: Api) -> None:
    response = api.call(
        CAMDEN,
        "POST",
        "/v1/children",
        data=b'{"categories": ["child_in_need"],\n "review_by": 2027-01-01}',
        headers={"Content-Type": "application/json"},
    )
    body = problem_of(response, 400)
    assert body["errors"] == [
        {"field": "body", "message": "not valid JSON: expecting ',' delimiter at line 2, column 19"}
    ]


def test_a_date_in_another_format_says_use_yyyy_mm_dd(api: Api) -> None:
    search = {**fictional_identity(), "date_of_birth": "31/12/2015", "reason": "referral"}
    body = problem_of(api.call(ROYAL_FREE, "POST", "/v1/searches", search), 400)
    assert body["errors"] == [{"field": "date_of_birth", "message": "must be a date: use YYYY-MM-DD"}]


def test_messages_carry_no_pydantic_prefix(api: Api) -> None:
    child = {
        **fictional_identity(),
        "categories": ["looked_after"],
        "review_by": review_by(),
        "nhs_number": "1234567890",
    }
    body = problem_of(api.call(CAMDEN, "POST", "/v1/children", child), 400)
    (error,) = body["errors"]
    assert error["field"] == "nhs_number"
    assert (
        error["message"]
        == "must be 10 digits (groups of 3, 3 and 4 may be separated) with a valid check digit"
    )
    assert not any("Value error" in e["message"] for e in body["errors"])
