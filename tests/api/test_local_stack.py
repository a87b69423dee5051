"""The local stack over HTTP: gateway emulation, dev tokens, the authorizer in front of /v1."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from signpost.auth import verifier_from_settings
from signpost.settings import get_settings

from infrastructure.local.gateway import MAX_BODY_BYTES
from tests.support import forge
from tests.support.logcapture import LogCapture
from tests.support.stack import LocalStack

pytestmark = pytest.mark.api

UNAUTHORIZED = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "send a valid, unexpired bearer token in the Authorization header",
}


def is_problem(response: requests.Response, status: int) -> bool:
    return (
        response.status_code == status
        and response.headers["Content-Type"].startswith("application/problem+json")
        and response.json()["status"] == status
    )


def test_health_needs_no_token(local_stack: LocalStack) -> None:
    response = local_stack.request("GET", "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-amzn-RequestId"]


def test_dev_token_issues_a_bearer_token(local_stack: LocalStack) -> None:
    response = local_stack.request(
        "POST", "/dev/token", json={"org": "E09000007", "role": "la_practitioner", "sub": "camden-sw-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    claims = verifier_from_settings(get_settings()).verify(body["access_token"])  # as the authorizer does
    assert (claims.org, claims.role, claims.sub) == ("E09000007", "la_practitioner", "camden-sw-1")
    unverified = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert unverified["iss"] == f"{local_stack.url}/dev"


@pytest.mark.parametrize(
    "body", [{}, {"org": "E09000007", "role": "la_practitioner"}, {"org": "", "role": "x", "sub": "y"}, []]
)
def test_dev_token_validates_its_fields(local_stack: LocalStack, body: object) -> None:
    assert is_problem(local_stack.request("POST", "/dev/token", json=body), 400)


def test_a_token_is_accepted_by_the_authorizer(local_stack: LocalStack) -> None:
    token = local_stack.token("E09000007", "la_practitioner", "camden-sw-1")
    response = local_stack.request("GET", "/v1/organisations/E09000012", token=token)
    assert response.status_code == 200, response.text


def test_v1_without_a_token_is_401(local_stack: LocalStack) -> None:
    response = local_stack.request("GET", "/v1/organisations/E09000007")
    assert is_problem(response, 401)
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize(
    "forgery",
    [
        lambda issuer: forge.unsigned(forge.claims(issuer), issuer.kid),
        lambda issuer: forge.hs256_with_public_key(forge.claims(issuer), issuer),
        lambda issuer: forge.signed_by_another_key(forge.claims(issuer), kid=issuer.kid),
        lambda issuer: forge.tampered(issuer.issue_token("RAL", "health", "rf-1"), org="E09000007"),
        lambda issuer: issuer.sign(forge.claims(issuer, exp=int(time.time()) - 3600)),
        lambda _: "not-a-token",
    ],
    ids=["alg-none", "hs256-public-key", "wrong-key", "tampered", "expired", "garbage"],
)
def test_v1_with_a_forged_token_is_401(local_stack: LocalStack, forgery: object) -> None:
    token = forgery(local_stack.aws.tokens)  # type: ignore[operator]
    response = local_stack.request("POST", "/v1/searches", json={}, token=token)
    assert response.json() == UNAUTHORIZED
    assert is_problem(response, 401)


def test_a_role_that_does_not_fit_its_organisation_is_401_at_use(local_stack: LocalStack) -> None:
    token = local_stack.token("RAL", "la_manager", "impostor-1")  # /dev/token issues it...
    response = local_stack.request("GET", "/v1/organisations/RAL", token=token)
    assert is_problem(response, 401)  # ...the authorizer refuses it


def test_an_unknown_path_is_404(local_stack: LocalStack) -> None:
    assert is_problem(local_stack.request("GET", "/v2/children"), 404)


def test_a_known_path_with_another_method_is_405(local_stack: LocalStack) -> None:
    response = local_stack.request("DELETE", "/v1/children/c0ffee")
    assert is_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "PATCH"}


def test_a_body_over_10_mb_is_413(local_stack: LocalStack) -> None:
    token = local_stack.token()
    response = local_stack.request(
        "POST",
        "/v1/children",
        data=b"x" * (MAX_BODY_BYTES + 1),
        token=token,
        headers={"Content-Type": "application/json"},
    )
    assert is_problem(response, 413)


def test_one_log_line_per_request_with_no_body_or_query(
    local_stack: LocalStack, log_capture: LogCapture
) -> None:
    marker = "Zebedee-Quixote"
    response = local_stack.request(
        "POST",
        "/v1/searches",
        params={"q": marker},
        json={"given_names": marker, "family_name": "Example"},
    )
    assert response.status_code == 401

    line = local_stack.log_lines[-1]
    assert set(line) == {"method", "path", "status", "duration_ms", "correlation_id"}
    assert (line["method"], line["path"], line["status"]) == ("POST", "/v1/searches", 401)
    assert line["correlation_id"] == response.headers["x-amzn-RequestId"]
    assert isinstance(line["duration_ms"], float)
    assert not log_capture.contains(marker)
