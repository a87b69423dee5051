"""OWASP API4:2023 Unrestricted Resource Consumption - the police rate limit (429 with
Retry-After, refused requests not counted), request size limits, field and list caps,
pagination caps, and hostile bodies that must cost a 400, never a 5xx."""

from __future__ import annotations

import time

import pytest

from infrastructure.local.gateway import MAX_BODY_BYTES
from tests.api.conftest import CAMDEN, HACKNEY, HACKNEY_MANAGER, POLICE, ROYAL_FREE, Api, review_by

pytestmark = pytest.mark.api

CHILD = {"given_names": "Evangelos", "family_name": "Thistlethwaite", "date_of_birth": "2012-10-10"}
OFFICER_A = ("E23000001", "police", "mps-rate-a")
OFFICER_B = ("E23000001", "police", "mps-rate-b")
DEFAULT_LIMIT = 20


@pytest.fixture(scope="module")
def child(api: Api) -> str:
    return api.register(CHILD, CAMDEN)


def _police_search(api: Api, officer, **override):  # type: ignore[no-untyped-def]
    body = {**CHILD, "reason": "police_enquiry", "case_reference": "CAD-9/26", **override}
    return api.call(officer, "POST", "/v1/searches", {k: v for k, v in body.items() if v is not None})


# ---------------------------------------------------------------- the police rate limit


def test_police_limit_default_20_an_hour_then_429_with_retry_after(api: Api, child: str) -> None:
    # Refused requests first: they must not count.
    for _ in range(5):
        assert _police_search(api, OFFICER_A, reason="referral").status_code == 400
        assert _police_search(api, OFFICER_A, case_reference=None).status_code == 400
        assert _police_search(api, OFFICER_A, date_of_birth="2999-01-01").status_code == 400
    first_counted = time.time()
    for n in range(DEFAULT_LIMIT):
        response = _police_search(api, OFFICER_A)
        assert response.status_code == 200, f"search {n + 1}: {response.text}"
    refused = _police_search(api, OFFICER_A)
    assert refused.status_code == 429
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429
    retry_after = int(refused.headers["Retry-After"])
    # A sliding 60 minutes: room again when the first counted search leaves the window.
    seconds_left = first_counted + 3600 - time.time()
    assert 1 <= retry_after <= 3600
    assert abs(retry_after - seconds_left) <= 5
    assert _police_search(api, OFFICER_A).status_code == 429  # still refused, still not counted
    # Another officer of the same force has their own allowance.
    assert _police_search(api, OFFICER_B).status_code == 200


def test_other_roles_are_not_rate_limited_by_the_police_limit(api: Api, child: str) -> None:
    for _ in range(DEFAULT_LIMIT + 3):
        assert api.search(CHILD, HACKNEY).status_code == 200


# ---------------------------------------------------------------- sizes and caps


def test_a_body_over_10_mb_is_refused_before_any_function_runs(api: Api) -> None:
    token = api.stack.token(*HACKNEY)
    response = api.stack.request(
        "POST",
        "/v1/searches",
        data=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
        token=token,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CHILD, "reason": "referral", "given_names": "A" * 101}, "given_names"),
        ({**CHILD, "reason": "referral", "family_name": "B" * 101}, "family_name"),
        ({**CHILD, "reason": "referral", "case_reference": "C" * 51}, "case_reference"),
        ({**CHILD, "reason": "referral", "postcode": "N1 1AA" * 3}, "postcode"),
        ({**CHILD, "reason": "referral", "nhs_number": "9" * 13}, "nhs_number"),
        ({**CHILD, "reason": "referral", "padding": "x" * 1_000_000}, "padding"),
    ],
    ids=["given-101", "family-101", "case-ref-51", "postcode-18", "nhs-13", "1MB-unknown-field"],
)
def test_oversized_fields_are_400(api: Api, body: dict, field: str) -> None:
    started = time.monotonic()
    response = api.call(ROYAL_FREE, "POST", "/v1/searches", body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"other_names": [{"given_names": f"Alias{i}"} for i in range(11)]}, "other_names"),
        ({"categories": ["looked_after"] * 5}, "categories"),
        ({"categories": []}, "categories"),
        ({"review_by": review_by(367)}, "review_by"),
        ({"contact": {"team": "T" * 201, "phone": "020", "email": "a@b.example"}}, "contact.team"),
    ],
    ids=["11-aliases", "5-categories", "no-categories", "review-367-days", "team-201"],
)
def test_lists_and_nested_fields_are_capped(api: Api, extra: dict, field: str) -> None:
    body = {
        "given_names": "Hyacinth",
        "family_name": "Pumphrey",
        "date_of_birth": "2015-05-05",
        "categories": ["child_in_need"],
        "review_by": review_by(),
        **extra,
    }
    response = api.call(CAMDEN, "POST", "/v1/children", body)
    assert response.status_code == 400, response.text
    assert any(e["field"].startswith(field) for e in response.json()["errors"])


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        '{"given_names": "\\ud800"}',
        "\xff\xfe\x00",
        '{"given_names": 1e999999}',
        '{"given_names": "' + "\\u0000" * 10_000 + '"}',
        "null",
        "[]",
        '"a string"',
    ],
    ids=[
        "deep-array",
        "deep-object",
        "lone-surrogate",
        "not-utf8",
        "huge-number",
        "nul-chars",
        "null",
        "array",
        "str",
    ],
)
def test_hostile_bodies_are_400_not_5xx(api: Api, raw: str) -> None:
    token = api.stack.token(*ROYAL_FREE)
    response = api.stack.request(
        "POST",
        "/v1/searches",
        data=raw.encode("utf-8", "surrogatepass"),
        token=token,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text[:200]


# ---------------------------------------------------------------- pagination caps


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/v1/children/{child}/access-log?limit=100", True),
        ("/v1/children/{child}/access-log?limit=101", False),
        ("/v1/children/{child}/access-log?limit=0", False),
        ("/v1/children/{child}/access-log?limit=-1", False),
        ("/v1/children/{child}/access-log?limit=99999999999999999999", False),
        ("/v1/children/{child}/access-log?after=-5", False),
        ("/v1/notifications?limit=100", True),
        ("/v1/notifications?limit=101", False),
        ("/v1/notifications?limit=0", False),
        ("/v1/notifications?after=" + "z" * 201, False),
        ("/v1/transfers?direction=incoming&limit=101", False),
    ],
)
def test_page_sizes_are_capped(api: Api, child: str, path: str, ok: bool) -> None:
    response = api.call(CAMDEN, "GET", path.format(child=child))
    assert response.status_code == (200 if ok else 400), response.text


def test_pages_link_to_the_next_and_stay_within_the_limit(api: Api, child: str) -> None:
    for _ in range(4):
        api.search(CHILD, HACKNEY)
    page = api.call(CAMDEN, "GET", f"/v1/children/{child}/access-log?limit=2").json()
    assert len(page["items"]) == 2
    assert page["next"].startswith(f"/v1/children/{child}/access-log?after=")
    rest = api.call(CAMDEN, "GET", page["next"]).json()
    assert 1 <= len(rest["items"]) <= 2


def test_break_glass_justification_is_capped(api: Api, child: str) -> None:
    search_id = api.search(CHILD, HACKNEY).json()["search_id"]
    path = f"/v1/searches/{search_id}/break-glass"
    assert api.call(HACKNEY_MANAGER, "POST", path, {"justification": "x" * 501}).status_code == 400
    assert api.call(HACKNEY_MANAGER, "POST", path, {"justification": "x" * 19}).status_code == 400


def test_a_search_reads_a_bounded_number_of_candidates(api: Api) -> None:
    """However common the name, a search never signposts more than three children."""
    family = "Featherstonehaugh"
    for i, given in enumerate(("Araminta", "Bellatrix", "Clementine", "Delphine", "Euphemia")):
        api.register(
            {"given_names": given, "family_name": family, "date_of_birth": f"2014-0{i + 1}-0{i + 1}"}
        )
    response = api.search(
        {"given_names": "A", "family_name": family, "date_of_birth": "2014-01-01"}, ROYAL_FREE
    )
    assert response.status_code == 200
    assert len(response.json()["signposts"]) <= 3


def test_police_cannot_use_anything_but_search(api: Api) -> None:
    assert api.call(POLICE, "GET", "/v1/notifications").status_code == 403
    assert api.call(POLICE, "GET", "/v1/transfers?direction=incoming").status_code == 403
