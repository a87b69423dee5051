"""OWASP API Security Top 10 2023, items 6 to 10, as they apply to Signpost.

API6  Unrestricted access to sensitive business flows - looking children up, break-glass.
API7  Server-side request forgery - nothing the caller sends is ever fetched.
API8  Security misconfiguration - headers, CORS, error bodies, methods.
API9  Improper inventory management - the published API is exactly what is deployed.
API10 Unsafe consumption of APIs - what Signpost takes from the identity provider and the
      directory is verified before it is trusted.
"""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from signpost.auth import InvalidToken, TokenVerifier

from infrastructure.cfn_yaml import load_template
from tests.api.conftest import (
    ADMIN,
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    EVERYONE,
    HACKNEY,
    HACKNEY_MANAGER,
    JUSTIFICATION,
    POLICE,
    ROYAL_FREE,
    SCHOOL,
    Api,
    fictional_identity,
    review_by,
)
from tests.support import forge

pytestmark = pytest.mark.api

ROOT = Path(__file__).resolve().parents[2]
CHILD = {"given_names": "Wilhelmina", "family_name": "Okonkwo-Lindqvist", "date_of_birth": "2013-07-07"}
SHIELDED = {"given_names": "Ignatius", "family_name": "Pendragon-Mbeki", "date_of_birth": "2015-09-09"}


@pytest.fixture(scope="module")
def children(api: Api) -> dict[str, str]:
    return {
        "plain": api.register(CHILD, CAMDEN),
        "shielded": api.register(SHIELDED, CAMDEN_MANAGER, shielding={"reason": "court_order"}),
    }


def _inbox(api: Api, persona) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    response = api.call(persona, "GET", "/v1/notifications?limit=100")
    assert response.status_code == 200
    return list(response.json()["items"])


# ================================================================ API6 sensitive business flows


@pytest.mark.parametrize(
    "partial",
    [
        {"family_name": "Okonkwo-Lindqvist"},
        {"given_names": "Wilhelmina", "family_name": "Okonkwo-Lindqvist"},
        {"date_of_birth": "2013-07-07"},
        {"family_name": "*", "given_names": "*", "date_of_birth": "2013-07-07"},
        {"family_name": "%", "given_names": "_", "date_of_birth": "2013-07-07"},
    ],
)
def test_no_enumeration_a_search_needs_a_name_and_a_date_of_birth(api: Api, children, partial) -> None:  # type: ignore[no-untyped-def]
    response = api.call(ROYAL_FREE, "POST", "/v1/searches", {**partial, "reason": "emergency_care"})
    assert response.status_code == 400
    assert "signposts" not in response.json()


def test_every_search_by_another_organisation_is_told_to_the_responsible_la(api: Api, children) -> None:  # type: ignore[no-untyped-def]
    before = {n["id"] for n in _inbox(api, CAMDEN)}
    for who in (HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE):
        assert api.search(CHILD, who).json()["outcome"] == "match"
    new = [n for n in _inbox(api, CAMDEN) if n["id"] not in before and n["type"] == "record_viewed"]
    assert sorted(n["from_org"] for n in new) == sorted(
        ["E09000012", "RAL", "a health service", "URN-100050", "E23000001"]
    )
    assert all(n["child_id"] == children["plain"] for n in new)


def test_break_glass_alerts_the_responsible_la_every_time(api: Api, children) -> None:  # type: ignore[no-untyped-def]
    search_id = api.search(SHIELDED, HACKNEY).json()["search_id"]
    before = {n["id"] for n in _inbox(api, CAMDEN)}
    path = f"/v1/searches/{search_id}/break-glass"
    for _ in range(2):
        response = api.call(HACKNEY_MANAGER, "POST", path, {"justification": JUSTIFICATION})
        assert response.status_code == 200
        assert response.json()["signposts"][0]["child_id"] == children["shielded"]
    alerts = [n for n in _inbox(api, CAMDEN) if n["id"] not in before and n["type"] == "break_glass_used"]
    assert len(alerts) == 2
    assert {(a["child_id"], a["from_org"], a["search_id"]) for a in alerts} == {
        (children["shielded"], "E09000012", search_id)
    }
    log = api.call(CAMDEN, "GET", f"/v1/children/{children['shielded']}/access-log").json()["items"]
    assert [e["action"] for e in log[:2]] == ["break_glass", "break_glass"]


def test_a_searcher_cannot_approve_their_own_break_glass(api: Api, children) -> None:  # type: ignore[no-untyped-def]
    search_id = api.search(SHIELDED, HACKNEY).json()["search_id"]
    path = f"/v1/searches/{search_id}/break-glass"
    assert api.call(HACKNEY, "POST", path, {"justification": JUSTIFICATION}).status_code == 403


def test_registering_a_known_child_is_an_audited_lookup(api: Api, children) -> None:  # type: ignore[no-untyped-def]
    body = {**CHILD, "categories": ["child_in_need"], "review_by": review_by()}
    assert api.call(HACKNEY, "POST", "/v1/children", body).status_code == 409
    log = api.call(CAMDEN, "GET", f"/v1/children/{children['plain']}/access-log").json()["items"]
    assert log[0]["org"] == "E09000012"


def test_existence_oracle_nhs_number_probes_on_register_and_patch_are_signposted_audited_notified(
    api: Api,
) -> None:
    """A made-up name and date of birth with a real NHS number: the 409 is a lookup like a search."""
    real = {**fictional_identity(), "nhs_number": "8157471613"}
    shielded = {**fictional_identity(), "nhs_number": "7552096608"}
    known = api.register(real, CAMDEN)
    hidden = api.register(shielded, CAMDEN_MANAGER, shielding={"reason": "adoption"})
    own = api.register(fictional_identity(), HACKNEY)
    before = {n["id"] for n in _inbox(api, CAMDEN)}
    probes = [
        ("POST", "/v1/children", {**fictional_identity(), "nhs_number": "8157471613"}),
        ("PATCH", f"/v1/children/{own}", {"nhs_number": "8157471613"}),
        ("POST", "/v1/children", {**fictional_identity(), "nhs_number": "7552096608"}),
        ("PATCH", f"/v1/children/{own}", {"nhs_number": "7552096608"}),
    ]
    answers = []
    for method, path, fields in probes:
        body = (
            {**fields, "categories": ["child_in_need"], "review_by": review_by()}
            if method == "POST"
            else fields
        )
        response = api.call(HACKNEY, method, path, body)
        assert response.status_code == 409, response.text
        assert response.headers["Content-Type"].startswith("application/problem+json")
        answers.append(response.json()["signposts"])
    for signposts in answers[:2]:
        assert [(s["child_id"], s["organisation"]["code"], s.get("categories")) for s in signposts] == [
            (known, "E09000007", None)
        ]
    for signposts in answers[2:]:
        [signpost] = signposts
        assert "child_id" not in signpost
        assert "categories" not in signpost
        assert signpost["contact"]["team"] == "Camden Safeguarding Manager on duty"
    told = [n for n in _inbox(api, CAMDEN) if n["id"] not in before]
    assert sorted((n["type"], n["child_id"], n["from_org"]) for n in told) == sorted(
        [("record_viewed", known, "E09000012")] * 2 + [("record_viewed", hidden, "E09000012")] * 2
    )
    for child_id in (known, hidden):
        log = api.call(CAMDEN, "GET", f"/v1/children/{child_id}/access-log").json()["items"]
        assert [(e["org"], e["action"]) for e in log[:2]] == [
            ("E09000012", "update_duplicate"),
            ("E09000012", "register_duplicate"),
        ]
    assert api.call(HACKNEY, "GET", f"/v1/children/{own}").json().get("nhs_number") is None


def test_police_must_state_a_case_and_only_police_may(api: Api, children) -> None:  # type: ignore[no-untyped-def]
    base = {**CHILD}
    assert (
        api.call(POLICE, "POST", "/v1/searches", {**base, "reason": "safeguarding_concern"}).status_code
        == 400
    )
    assert api.call(POLICE, "POST", "/v1/searches", {**base, "reason": "police_enquiry"}).status_code == 400
    assert (
        api.call(
            POLICE, "POST", "/v1/searches", {**base, "reason": "police_enquiry", "case_reference": ""}
        ).status_code
        == 400
    )
    for who in (HACKNEY, ROYAL_FREE, SCHOOL):
        body = {**base, "reason": "police_enquiry", "case_reference": "CAD-1/26"}
        assert api.call(who, "POST", "/v1/searches", body).status_code == 400


# ================================================================ API7 server-side request forgery


@pytest.fixture
def outbound() -> Iterator[list[Any]]:
    """Every socket connection the process opens while the test runs (loopback is the stack)."""
    seen: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        return real(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


def test_no_request_makes_the_service_connect_anywhere(api: Api, children, outbound) -> None:  # type: ignore[no-untyped-def]
    issuer = api.stack.aws.tokens
    lure = "http://169.254.169.254/latest/meta-data/"
    forged = forge.signed_by_another_key(forge.claims(issuer), kid="x")
    head, rest = forged.split(".", 1)
    header = json.loads(base64.urlsafe_b64decode(head + "=="))
    header.update(jku=lure, x5u=lure)
    with_jku = forge.b64url(json.dumps(header).encode()) + "." + rest
    api.stack.request("GET", "/v1/notifications", token=with_jku)
    api.call(
        CAMDEN,
        "PATCH",
        f"/v1/children/{children['plain']}",
        {"contact": {"team": "T", "phone": "020", "email": lure}},
    )
    api.search(CHILD, HACKNEY)
    api.call(CAMDEN, "GET", f"/v1/children/{children['plain']}/access-log")
    api.call(CAMDEN_MANAGER, "GET", f"/v1/children/{children['plain']}/subject-access-report")
    remote = [a for a in outbound if not (isinstance(a, tuple) and a[0] in ("127.0.0.1", "::1", "localhost"))]
    assert remote == []


@pytest.mark.parametrize(
    "email", ["http://169.254.169.254/", "file:///etc/passwd", "gopher://x", "a@[127.0.0.1]", "@localhost"]
)
def test_contact_fields_take_no_urls(api: Api, children, email: str) -> None:  # type: ignore[no-untyped-def]
    response = api.call(
        CAMDEN,
        "PATCH",
        f"/v1/children/{children['plain']}",
        {"contact": {"team": "Team", "phone": "020 7000 0000", "email": email}},
    )
    assert response.status_code == 400


# ================================================================ API8 security misconfiguration

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}


@pytest.mark.parametrize(
    ("persona", "method", "path", "body"),
    [
        (HACKNEY, "POST", "/v1/searches", CHILD | {"reason": "referral"}),
        (HACKNEY, "POST", "/v1/searches", {}),
        (ROYAL_FREE, "GET", "/v1/children/x", None),
        (HACKNEY, "GET", "/v1/children/x", None),
        (CAMDEN, "GET", "/v1/notifications", None),
        (ADMIN, "GET", "/v1/organisations/RAL", None),
    ],
)
def test_every_api_answer_has_the_security_headers(api: Api, children, persona, method, path, body) -> None:  # type: ignore[no-untyped-def]
    response = api.call(persona, method, path, body)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


def test_service_and_gateway_answers_have_the_security_headers_too(api: Api) -> None:
    for method, path in (("GET", "/health"), ("GET", "/v1/notifications"), ("GET", "/v2/nothing")):
        response = api.stack.request(method, path)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


def test_no_cors_a_browser_on_another_site_gets_no_access(api: Api) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    preflight = api.stack.request("OPTIONS", "/v1/searches", headers=headers)
    assert "Access-Control-Allow-Origin" not in preflight.headers
    real = api.call(
        HACKNEY,
        "POST",
        "/v1/searches",
        CHILD | {"reason": "referral"},
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in real.headers
    assert "Access-Control-Allow-Credentials" not in real.headers


def test_errors_are_problem_json_without_internals(api: Api) -> None:
    token = api.stack.token(*HACKNEY)
    answers = [
        api.stack.request(
            "POST",
            "/v1/searches",
            data="{not json",
            token=token,
            headers={"Content-Type": "application/json"},
        ),
        api.call(HACKNEY, "POST", "/v1/searches", {"given_names": {"$ne": None}, "reason": "referral"}),
        api.call(HACKNEY, "GET", "/v1/children/%27%20OR%201%3D1--"),
        api.call(HACKNEY, "GET", "/v1/children/" + "a" * 5000),
    ]
    for response in answers:
        assert 400 <= response.status_code < 500, response.status_code
        assert response.headers["Content-Type"].startswith("application/problem+json")
        text = response.text
        for internal in (
            "Traceback",
            'File "',
            ".py",
            "botocore",
            "pydantic",
            "dynamodb",
            "ValidationException",
        ):
            assert internal not in text, internal


def test_a_non_json_content_type_is_a_client_error(api: Api) -> None:
    token = api.stack.token(*HACKNEY)
    headers = {"Content-Type": "application/octet-stream"}
    response = api.stack.request("POST", "/v1/searches", data=b"\x00\x01", token=token, headers=headers)
    assert response.status_code == 415


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_odd_methods_are_refused(api: Api, method: str) -> None:
    response = api.stack.request(method, "/v1/searches")
    assert response.status_code in (404, 405, 501)


# ================================================================ API9 improper inventory management


def _template_routes() -> set[tuple[str, str, bool]]:
    template = load_template(ROOT / "template.yaml")
    routes = set()
    for resource in template["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                public = (props.get("Auth") or {}).get("Authorizer") == "NONE"
                routes.add((props["Method"].upper(), props["Path"], public))
    return routes


def test_openapi_documents_exactly_the_deployed_routes(api: Api) -> None:
    published = api.stack.request("GET", "/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in published["paths"].items() for m in ops}
    deployed = {(m, p) for m, p, _ in _template_routes() if m != "ANY"}
    assert documented == deployed


def test_only_health_and_the_openapi_document_are_public(api: Api) -> None:
    public = {(m, p) for m, p, open_ in _template_routes() if open_}
    assert public == {("GET", "/health"), ("GET", "/openapi.json")}
    published = api.stack.request("GET", "/openapi.json").json()
    assert published["security"] == [{"bearer": []}]
    for path, operations in published["paths"].items():
        for operation in operations.values():
            public = path in ("/health", "/openapi.json")
            assert operation.get("security") == ([] if public else None), path


def test_the_dev_token_issuer_is_not_deployed() -> None:
    assert not [r for r in _template_routes() if r[1].startswith("/dev")]
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert "JWKS_JSON" not in text  # AWS verifies against the issuer's JWKS URL only


def test_every_data_route_is_versioned() -> None:
    for method, path, _ in _template_routes():
        if path not in ("/health", "/openapi.json", "/{proxy+}", "/*", "/"):
            assert path.startswith("/v1/"), (method, path)


# ================================================================ API10 unsafe consumption of APIs


def test_the_identity_providers_keys_are_trusted_only_for_signing_with_pinned_algorithms(api: Api) -> None:
    issuer = api.stack.aws.tokens
    jwks = issuer.jwks()
    with pytest.raises(ValueError, match="asymmetric"):
        TokenVerifier(issuer.issuer, issuer.audience, jwks, algorithms=["HS256"])
    with pytest.raises(ValueError, match="asymmetric"):
        TokenVerifier(issuer.issuer, issuer.audience, jwks, algorithms=["none"])
    encryption_key = {"keys": [{**jwks["keys"][0], "use": "enc"}]}
    verifier = TokenVerifier(issuer.issuer, issuer.audience, encryption_key)
    with pytest.raises(InvalidToken):
        verifier.verify(issuer.issue_token("RAL", "health", "rf-1"))


@pytest.mark.parametrize(
    "change",
    [
        {"type": "celebrity_register"},
        {"code": "e09000007"},
        {"contact": {"team": "x", "phone": "not a phone", "email": "a@b.example"}},
        {"manager_contact": {"team": "x", "phone": "020", "email": "not-an-email"}},
        {"sensitive_service": "yes please"},
        {"active": "maybe"},
        {"children": ["all"]},
        {"name": ""},
    ],
)
def test_directory_entries_are_validated_before_every_request_trusts_them(api: Api, change: dict) -> None:
    entry = api.call(ADMIN, "GET", "/v1/organisations/E09000012").json()
    response = api.call(ADMIN, "PUT", "/v1/organisations/E09000012", {**entry, **change})
    assert response.status_code == 400
    assert api.call(ADMIN, "GET", "/v1/organisations/E09000012").json() == entry


def test_a_directory_entry_cannot_make_a_role_fit_another_kind_of_organisation(api: Api) -> None:
    """The authorizer pairs role and organisation type from the directory, not from the token."""
    token = api.stack.token("RAL-SH1", "la_manager", "impostor")
    assert api.stack.request("GET", "/v1/notifications", token=token).status_code == 401
    assert EVERYONE["sensitive_health"][1] == "health"
