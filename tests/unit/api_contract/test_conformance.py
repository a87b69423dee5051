"""The conformance check that every API test's responses go through: it must refuse what the
document does not allow (so a handler drifting from openapi.json fails the test that saw it)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from tests.support.conformance import Conformance

URL = "http://127.0.0.1:3000"
CREATED = {
    "child_id": "c1",
    "status": "active",
    "organisation": {"code": "E09000007", "name": "London Borough of Camden"},
    "categories": ["child_protection_plan"],
    "review_by": "2027-01-31",
    "created_at": "2026-08-03T09:30:00Z",
}
PROBLEM = "application/problem+json"
JSON = "application/json"


@pytest.fixture(scope="module")
def conformance() -> Conformance:
    text = resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8")
    return Conformance(json.loads(text))


def problem(status: int, title: str, **extra: Any) -> bytes:
    return json.dumps(
        {"type": "about:blank", "title": title, "status": status, "detail": "why", **extra}
    ).encode()


def check(
    conformance: Conformance,
    method: str,
    path: str,
    status: int,
    body: Any,
    content_type: str = JSON,
    **headers: str,
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request_headers = {"Content-Type": JSON, "Authorization": "Bearer x"}
    conformance.check(
        method, URL + path, request_headers, b"{}", status, {"Content-Type": content_type, **headers}, data
    )


def test_a_conforming_response_is_counted(conformance: Conformance) -> None:
    before = conformance.total
    check(conformance, "POST", "/v1/children", 201, CREATED, Location="/v1/children/c1")
    assert conformance.total == before + 1
    assert conformance.validated["POST /v1/children 201"] >= 1


def test_a_201_without_its_location_header_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="Location"):
        check(conformance, "POST", "/v1/children", 201, CREATED)


def test_a_field_the_document_does_not_describe_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="does not conform"):
        check(
            conformance, "POST", "/v1/children", 201, {**CREATED, "nhs_number": "9434765919"}, Location="/x"
        )


def test_a_value_outside_an_enum_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="does not conform"):
        check(conformance, "POST", "/v1/children", 201, {**CREATED, "status": "archived"}, Location="/x")


def test_an_undocumented_status_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="does not conform"):
        check(conformance, "GET", "/v1/children/c1", 409, problem(409, "Conflict"), PROBLEM)


def test_an_error_title_that_is_not_the_status_phrase_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="RFC 9457"):
        check(conformance, "GET", "/v1/children/c1", 404, problem(404, "Not found"), PROBLEM)


def test_an_error_without_detail_fails(conformance: Conformance) -> None:
    body = json.dumps({"type": "about:blank", "title": "Not Found", "status": 404}).encode()
    with pytest.raises(AssertionError, match="RFC 9457"):
        check(conformance, "GET", "/v1/children/c1", 404, body, PROBLEM)


def test_an_error_sent_as_plain_json_fails(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="not problem\\+json"):
        check(conformance, "GET", "/v1/children/c1", 404, problem(404, "Not Found"))


def test_the_duplicate_registration_409_must_carry_signposts_of_the_right_shape(
    conformance: Conformance,
) -> None:
    check(conformance, "POST", "/v1/children", 409, problem(409, "Conflict", signposts=[]), PROBLEM)
    with pytest.raises(AssertionError, match="does not conform"):
        check(
            conformance, "POST", "/v1/children", 409, problem(409, "Conflict", signposts="E09000007"), PROBLEM
        )


def test_429_needs_retry_after_and_401_needs_www_authenticate(conformance: Conformance) -> None:
    with pytest.raises(AssertionError, match="Retry-After"):
        check(conformance, "POST", "/v1/searches", 429, problem(429, "Too Many Requests"), PROBLEM)
    check(
        conformance,
        "POST",
        "/v1/searches",
        429,
        problem(429, "Too Many Requests"),
        PROBLEM,
        **{"Retry-After": "60"},
    )
    with pytest.raises(AssertionError, match="WWW-Authenticate"):
        check(conformance, "POST", "/v1/searches", 401, problem(401, "Unauthorized"), PROBLEM)


def test_an_answer_to_a_path_the_document_lacks_is_held_to_rfc_9457(conformance: Conformance) -> None:
    before = sum(conformance.outside.values())
    check(conformance, "GET", "/v2/nothing", 404, problem(404, "Not Found"), PROBLEM)
    assert sum(conformance.outside.values()) == before + 1
    with pytest.raises(AssertionError, match="RFC 9457"):
        check(conformance, "GET", "/v2/nothing", 404, problem(404, "Missing Authentication Token"), PROBLEM)
