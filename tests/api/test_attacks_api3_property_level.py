"""OWASP API3:2023 Broken Object Property Level Authorisation.

Mass assignment: body fields that try to set the organisation, the status, audit fields, ids,
timestamps, shielding or review flags are refused (400, unknown field) and change nothing.
Excessive data exposure: no search, signpost, error, list or directory answer carries a stored
identity (name, date of birth, NHS number, postcode), and each answer has only its documented
fields.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from tests.api.conftest import (
    ADMIN,
    AUDITOR,
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    HACKNEY,
    HACKNEY_MANAGER,
    JUSTIFICATION,
    POLICE,
    ROYAL_FREE,
    SCHOOL,
    Api,
    review_by,
)

pytestmark = pytest.mark.api

CHILD = {
    "given_names": "Perpetua",
    "family_name": "Mountbatten-Oyelaran",
    "date_of_birth": "2011-11-11",
    "sex": "female",
    "nhs_number": "9434765870",
    "postcode": "n7 6hs",
    "other_names": [{"given_names": "Petal", "family_name": "Oyelaran"}],
}
SHIELDED = {"given_names": "Cassius", "family_name": "Wetherell", "date_of_birth": "2017-04-04"}
IDENTITY_VALUES = (
    "Perpetua",
    "Mountbatten",
    "Oyelaran",
    "Petal",
    "2011-11-11",
    "9434765870",
    "943 476 5870",
    "N7 6HS",
    "n7 6hs",
    "N76HS",
    "Cassius",
    "Wetherell",
    "2017-04-04",
)
SIGNPOST_FIELDS = {"child_id", "status", "organisation", "contact", "categories", "since"}
SERVER_SIDE_FIELDS = {
    "organisation": {"code": "E09000012", "name": "x"},
    "org": "E09000012",
    "status": "closed",
    "child_id": "chosen-id",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "since": "2020-01-01",
    "version": 99,
    "closed_at": "2020-01-01T00:00:00Z",
    "expires_at": 1,
    "identity": "AAAA",
    "transfer": {"to_org": "E09000012"},
    "audit": [],
    "hash": "0" * 64,
    "prev_hash": "0" * 64,
    "review": False,
    "sensitive_service": True,
    "role": "la_manager",
    "sub": "someone-else",
    "hidden": True,
    "vip": True,
    "exclude_from_search": True,
}


@pytest.fixture(scope="module")
def child(api: Api) -> str:
    child_id = api.register(
        CHILD, CAMDEN, contact={"team": "Camden CIN", "phone": "020 1", "email": "c@x.example"}
    )
    api.register(SHIELDED, CAMDEN_MANAGER, shielding={"reason": "witness_protection"})
    return child_id


def _no_identity(response: requests.Response) -> None:
    text = response.text
    decoded = json.dumps(response.json(), ensure_ascii=False) if text else ""
    for value in IDENTITY_VALUES:
        assert value.lower() not in text.lower(), value
        assert value.lower() not in decoded.lower(), value


# ---------------------------------------------------------------- mass assignment


@pytest.mark.parametrize("field", list(SERVER_SIDE_FIELDS))
def test_register_refuses_server_side_fields(api: Api, child: str, field: str) -> None:
    body = {
        "given_names": "Isidora",
        "family_name": "Pemberton-Kaur",
        "date_of_birth": "2013-03-03",
        "categories": ["child_in_need"],
        "review_by": review_by(),
        field: SERVER_SIDE_FIELDS[field],
    }
    response = api.call(CAMDEN, "POST", "/v1/children", body)
    assert response.status_code == 400, response.text
    assert {"field": field, "message": "unknown field"} in response.json()["errors"]
    found = api.search({k: body[k] for k in ("given_names", "family_name", "date_of_birth")}, ROYAL_FREE)
    assert found.json()["outcome"] == "no_match"  # nothing was created


@pytest.mark.parametrize("field", list(SERVER_SIDE_FIELDS))
def test_patch_refuses_server_side_fields(api: Api, child: str, field: str) -> None:
    response = api.call(CAMDEN, "PATCH", f"/v1/children/{child}", {field: SERVER_SIDE_FIELDS[field]})
    assert response.status_code == 400, response.text
    record = api.call(CAMDEN, "GET", f"/v1/children/{child}").json()
    assert (record["status"], record["organisation"]["code"]) == ("active", "E09000007")
    assert "shielding" not in record


@pytest.mark.parametrize(
    "field",
    ["org", "role", "sub", "outcome", "search_id", "sensitive_service", "reveal_shielded", "categories"],
)
def test_search_refuses_fields_that_would_change_who_asks_or_what_is_shown(
    api: Api, child: str, field: str
) -> None:
    body = {k: CHILD[k] for k in ("given_names", "family_name", "date_of_birth")}
    body |= {"reason": "referral", field: True}
    response = api.call(HACKNEY, "POST", "/v1/searches", body)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": field, "message": "unknown field"}]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/children/{child}/close", {"reason": "plan_ended", "closed_at": "2020-01-01T00:00:00Z"}),
        ("/v1/children/{child}/close", {"reason": "plan_ended", "status": "active"}),
        (
            "/v1/children/{child}/transfers",
            {"to_org": "E09000012", "reason": "other", "move_date": "{today}", "from_org": "E08000025"},
        ),
        (
            "/v1/children/{child}/transfers",
            {"to_org": "E09000012", "reason": "other", "move_date": "{today}", "status": "accepted"},
        ),
    ],
)
def test_actions_refuse_extra_fields(api: Api, child: str, path: str, body: dict) -> None:
    filled = json.loads(json.dumps(body).replace("{today}", dt.date.today().isoformat()))
    response = api.call(CAMDEN, "POST", path.format(child=child), filled)
    assert response.status_code == 400, response.text
    assert api.call(CAMDEN, "GET", f"/v1/children/{child}").json()["status"] == "active"


@pytest.mark.parametrize("field", ["review", "search_id", "org", "reveal", "children"])
def test_break_glass_takes_a_justification_and_nothing_else(api: Api, child: str, field: str) -> None:
    search_id = api.search(SHIELDED, HACKNEY).json()["search_id"]
    response = api.call(
        HACKNEY_MANAGER,
        "POST",
        f"/v1/searches/{search_id}/break-glass",
        {"justification": JUSTIFICATION, field: False},
    )
    assert response.status_code == 400


def test_a_practitioner_cannot_set_shielding_on_register_or_patch(api: Api, child: str) -> None:
    body = {
        "given_names": "Leontyne",
        "family_name": "Abercrombie",
        "date_of_birth": "2012-12-12",
        "categories": ["looked_after"],
        "review_by": review_by(),
        "shielding": {"reason": "refuge"},
    }
    assert api.call(CAMDEN, "POST", "/v1/children", body).status_code == 403
    assert (
        api.call(CAMDEN, "PATCH", f"/v1/children/{child}", {"shielding": {"reason": "refuge"}}).status_code
        == 403
    )
    assert "shielding" not in api.call(CAMDEN, "GET", f"/v1/children/{child}").json()


def test_a_manager_cannot_invent_a_shielding_reason(api: Api, child: str) -> None:
    for reason in ("celebrity", "vip", "staff_child", "at_parents_request", None):
        response = api.call(
            CAMDEN_MANAGER, "PATCH", f"/v1/children/{child}", {"shielding": {"reason": reason}}
        )
        assert response.status_code == 400


def test_the_directory_entry_in_the_body_cannot_rename_another_organisation(api: Api) -> None:
    entry = api.call(ADMIN, "GET", "/v1/organisations/E09000012").json()
    response = api.call(ADMIN, "PUT", "/v1/organisations/E09000007", entry)  # body says Hackney
    assert response.status_code == 400
    assert api.call(ADMIN, "GET", "/v1/organisations/E09000007").json()["name"] == "London Borough of Camden"


# ---------------------------------------------------------------- excessive data exposure


@pytest.mark.parametrize("who", [HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE, CAMDEN])
def test_searches_return_signposts_and_never_the_stored_identity(api: Api, child: str, who) -> None:  # type: ignore[no-untyped-def]
    variants = [
        {k: CHILD[k] for k in ("given_names", "family_name", "date_of_birth")},  # match
        {"given_names": "Perpetua", "family_name": "Mountbatten", "date_of_birth": "2011-11-12"},
        {"given_names": "Nobody", "family_name": "Atall", "date_of_birth": "2011-11-11"},  # no match
        SHIELDED,  # shielded: the manager route only
    ]
    for identity in variants:
        response = api.search(identity, who)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"search_id", "outcome", "signposts"}
        for signpost in body["signposts"]:
            assert set(signpost) <= SIGNPOST_FIELDS
            if who == POLICE:
                assert "categories" not in signpost
        # What the searcher typed may come back only as far as they typed it; the stored
        # extras (NHS number, postcode, aliases, sex) never do.
        text = response.text.lower()
        for stored in ("9434765870", "n7 6hs", "petal", "oyelaran", "female", "perpetua", "mountbatten"):
            assert stored not in text


def test_shielded_signpost_has_no_id_no_categories_and_the_manager_route(api: Api, child: str) -> None:
    [signpost] = api.search(SHIELDED, ROYAL_FREE).json()["signposts"]
    assert set(signpost) == {"status", "organisation", "contact", "since"}
    assert signpost["contact"]["team"] == "Camden Safeguarding Manager on duty"


def test_a_duplicate_registration_answers_with_signposts_not_the_stored_record(api: Api, child: str) -> None:
    body = {
        **{k: v for k, v in CHILD.items() if k != "other_names"},
        "categories": ["looked_after"],
        "review_by": review_by(),
    }
    response = api.call(HACKNEY, "POST", "/v1/children", body)
    assert response.status_code == 409
    problem = response.json()
    assert set(problem) <= {"type", "title", "status", "detail", "signposts"}
    for signpost in problem["signposts"]:
        assert set(signpost) <= SIGNPOST_FIELDS
    assert "petal" not in response.text.lower()
    assert "n7 6hs" not in response.text.lower()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nhs_number": "9434765871"}, "nhs_number"),  # wrong check digit
        ({"postcode": "ZZ99 ZZZZ"}, "postcode"),
        ({"date_of_birth": "1961-02-02"}, "date_of_birth"),
        ({"date_of_birth": "2099-02-02"}, "date_of_birth"),
        ({"given_names": "Perpetua" * 20}, "given_names"),
        ({"family_name": "12345"}, "family_name"),
        ({"sex": "Perpetua"}, "sex"),
    ],
)
def test_validation_errors_name_the_field_never_the_value(
    api: Api, child: str, change: dict, field: str
) -> None:
    body = {**{k: v for k, v in CHILD.items() if k != "other_names"}, "reason": "referral", **change}
    response = api.call(ROYAL_FREE, "POST", "/v1/searches", body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    value = next(iter(change.values()))
    assert value.lower() not in response.text.lower()
    _no_identity(response)


def test_malformed_json_errors_do_not_echo_the_body(api: Api) -> None:
    raw = '{"given_names": "Perpetua", "family_name": "Mountbatten-Oyelaran", "date_of_birth": '
    token = api.stack.token(*ROYAL_FREE)
    response = api.stack.request(
        "POST", "/v1/searches", data=raw, token=token, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    _no_identity(response)


def test_not_found_and_forbidden_errors_carry_nothing_about_the_child(api: Api, child: str) -> None:
    for persona, method, path in [
        (HACKNEY, "GET", f"/v1/children/{child}"),
        (ROYAL_FREE, "GET", f"/v1/children/{child}"),
        (AUDITOR, "GET", f"/v1/children/{child}/subject-access-report"),
        (HACKNEY_MANAGER, "GET", f"/v1/children/{child}/subject-access-report"),
    ]:
        response = api.call(persona, method, path)
        assert response.status_code in (403, 404)
        assert set(response.json()) <= {"type", "title", "status", "detail"}
        _no_identity(response)


def test_access_log_notifications_and_directory_carry_no_identity(api: Api, child: str) -> None:
    api.search(CHILD, CLINIC)
    responses = [
        api.call(CAMDEN, "GET", f"/v1/children/{child}/access-log"),
        api.call(AUDITOR, "GET", f"/v1/children/{child}/access-log"),
        api.call(CAMDEN, "GET", "/v1/notifications"),
        api.call(ROYAL_FREE, "GET", "/v1/organisations/E09000007"),
    ]
    for response in responses:
        assert response.status_code == 200
        _no_identity(response)
    for item in responses[0].json()["items"]:
        assert set(item) <= {"at", "org", "role", "action", "reason", "outcome"}
    assert "RAL-SH1" not in responses[0].text + responses[1].text + responses[2].text


def test_the_record_itself_goes_only_to_its_owner(api: Api, child: str) -> None:
    own = api.call(CAMDEN, "GET", f"/v1/children/{child}")
    assert own.status_code == 200
    assert own.json()["nhs_number"] == "9434765870"  # the owner sees what it registered
    for persona in (HACKNEY, HACKNEY_MANAGER, ROYAL_FREE, CLINIC, SCHOOL, POLICE, AUDITOR, ADMIN):
        _no_identity(api.call(persona, "GET", f"/v1/children/{child}"))
