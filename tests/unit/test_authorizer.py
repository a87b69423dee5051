"""The authorizer handler: API Gateway's REQUEST event in, an IAM policy (or a 401) out.

Token verification is real (the dev issuer's key); the directory is an in-memory fake.
"""

from __future__ import annotations

from typing import Any

import pytest
from signpost.auth import TokenVerifier
from signpost.authz import Caller
from signpost.models.organisation import Organisation

from functions.authorizer import app
from infrastructure.local.aws import load_seed
from infrastructure.local.events import API_ID, STAGE
from infrastructure.local.tokens import DevTokenIssuer
from tests.support import forge
from tests.support.lambda_events import caller, lambda_context, make_authorizer_event
from tests.support.logcapture import LogCapture

ISSUER = "http://127.0.0.1:3000/dev"
AUDIENCE = "signpost-local"
STAGE_WIDE = f"arn:aws:execute-api:eu-west-2:123456789012:{API_ID}/{STAGE}/*/*"


class FakeDirectory:
    def __init__(self, organisations: list[Organisation]) -> None:
        self.entries = {org.code: org for org in organisations}

    def get(self, code: str) -> Organisation | None:
        return self.entries.get(code)

    def put(self, organisation: Organisation) -> None:
        self.entries[organisation.code] = organisation


@pytest.fixture(scope="module")
def issuer() -> DevTokenIssuer:
    return DevTokenIssuer(ISSUER, AUDIENCE)


@pytest.fixture
def directory(issuer: DevTokenIssuer, monkeypatch: pytest.MonkeyPatch) -> FakeDirectory:
    directory = FakeDirectory(load_seed())
    verifier = TokenVerifier(ISSUER, AUDIENCE, issuer.jwks())
    monkeypatch.setattr(app, "_dependencies", lambda: (verifier, directory))
    return directory


def authorise(token: str | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = make_authorizer_event("GET", "/v1/children/c0ffee", token=token, headers=headers)
    return app.lambda_handler(event, lambda_context("authorizer"))


def refused(token: str | None, headers: dict[str, str] | None = None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorise(token, headers)


@pytest.mark.usefixtures("directory")
def test_a_valid_token_is_allowed_on_the_whole_stage_with_the_caller_as_context(
    issuer: DevTokenIssuer,
) -> None:
    policy = authorise(issuer.issue_token("RAL-SH1", "health", "clinic-nurse-7"))

    assert policy["principalId"] == "clinic-nurse-7"
    assert policy["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [STAGE_WIDE]}
    ]
    expected = caller("RAL-SH1", "health", "clinic-nurse-7")
    assert policy["context"] == expected.as_context()
    assert policy["context"]["sensitive_service"] == "true"
    assert Caller.from_context(policy["context"]) == expected


@pytest.mark.usefixtures("directory")
def test_header_names_are_case_insensitive(issuer: DevTokenIssuer) -> None:
    token = issuer.issue_token("E09000007", "la_practitioner", "sw-1")
    assert authorise(None, {"authorization": f"bearer {token}"})["principalId"] == "sw-1"


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic c3c6cHc=", "Token abc"])
def test_no_bearer_token_is_refused(header: str | None) -> None:
    refused(None, {} if header is None else {"Authorization": header})


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize(
    "forgery",
    [
        lambda i: forge.unsigned(forge.claims(i), i.kid),
        lambda i: forge.hs256_with_public_key(forge.claims(i), i),
        lambda i: forge.tampered(i.issue_token("E09000007", "la_practitioner", "sw-1"), role="la_manager"),
        lambda i: forge.signed_by_another_key(forge.claims(i), kid=i.kid),
        lambda i: forge.signed_by_another_key(forge.claims(i), kid="unknown"),
        lambda i: i.sign(forge.claims(i, iss="https://evil.example/")),
        lambda i: i.sign(forge.claims(i, aud="another-service")),
        lambda i: i.sign(forge.claims(i, exp=1_600_000_000)),
        lambda i: i.sign(forge.claims(i, org=None)),
        lambda i: i.sign(forge.claims(i, role=None)),
        lambda i: i.sign(forge.claims(i, sub=None)),
    ],
    ids=[
        "alg-none",
        "hs256-public-key",
        "tampered",
        "wrong-key",
        "unknown-kid",
        "wrong-issuer",
        "wrong-audience",
        "expired",
        "no-org",
        "no-role",
        "no-sub",
    ],
)
def test_bad_tokens_are_refused(issuer: DevTokenIssuer, forgery: Any) -> None:
    refused(forgery(issuer))


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize(
    ("org", "role"),
    [
        ("RAL", "la_practitioner"),  # health trust claiming an LA role
        ("E09000007", "health"),
        ("E23000001", "la_manager"),
        ("E09000007", "admin"),  # admin belongs to the national organisation only
        ("URN-100050", "auditor"),
        ("NATIONAL", "police"),
        ("E09000007", "superuser"),  # no such role
    ],
)
def test_a_role_that_does_not_fit_the_organisation_is_refused(
    issuer: DevTokenIssuer, org: str, role: str
) -> None:
    refused(issuer.issue_token(org, role, "someone"))


@pytest.mark.usefixtures("directory")
def test_an_unknown_organisation_is_refused(issuer: DevTokenIssuer) -> None:
    refused(issuer.issue_token("E99999999", "la_practitioner", "sw-1"))


def test_an_inactive_organisation_is_refused(issuer: DevTokenIssuer, directory: FakeDirectory) -> None:
    camden = directory.entries["E09000007"]
    directory.put(camden.model_copy(update={"active": False}))
    refused(issuer.issue_token("E09000007", "la_practitioner", "sw-1"))


def test_a_fault_is_a_401_not_a_500(issuer: DevTokenIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def get(self, code: str) -> Organisation | None:
            raise ConnectionError("directory unreachable")

    verifier = TokenVerifier(ISSUER, AUDIENCE, issuer.jwks())
    monkeypatch.setattr(app, "_dependencies", lambda: (verifier, Broken()))
    refused(issuer.issue_token("E09000007", "la_practitioner", "sw-1"))


@pytest.mark.usefixtures("directory")
def test_logs_carry_the_decision_and_reason_never_the_token(
    issuer: DevTokenIssuer, log_capture: LogCapture
) -> None:
    expired = issuer.sign(forge.claims(issuer, exp=1_600_000_000, sub="practitioner-secret-sub"))
    good = issuer.issue_token("E09000007", "la_manager", "manager-secret-sub")
    refused(expired)
    authorise(good)

    decisions = [line for line in log_capture.json_lines() if line.get("message") == "authorizer decision"]
    assert [(d["decision"], d.get("reason")) for d in decisions] == [("deny", "expired"), ("allow", None)]
    for secret in (expired, good, *expired.split("."), *good.split("."), "secret-sub"):
        assert not log_capture.contains(secret)
