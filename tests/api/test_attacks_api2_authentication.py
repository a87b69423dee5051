"""OWASP API2:2023 Broken Authentication - every forged, stale or misdirected token is a 401
on every kind of endpoint, with the same fixed problem body (no hint of why).

The attacker has everything but the issuer's private key: the public JWKS, a valid token of
their own (a health worker's), and any library.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from signpost.dal import directory as directory_module

from infrastructure.local.tokens import DevTokenIssuer
from tests.api.conftest import Api
from tests.support import forge

pytestmark = pytest.mark.api

UNAUTHORIZED = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "send a valid, unexpired bearer token in the Authorization header",
}
TARGETS = [
    ("GET", "/v1/children/any-child", None),
    ("POST", "/v1/searches", {"given_names": "Ann", "family_name": "Lee", "date_of_birth": "2015-01-01"}),
    ("GET", "/v1/notifications", None),
    ("PUT", "/v1/organisations/E09000007", {}),
    ("POST", "/v1/searches/any-search/break-glass", {"justification": "x" * 30}),
]


def _segment(value: dict) -> str:
    return forge.b64url(json.dumps(value, separators=(",", ":")).encode())


def _header_swap(token: str, **header: object) -> str:
    """Keep payload and signature, change the header (e.g. another alg or kid)."""
    head, payload, signature = token.split(".")
    values = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    values.update(header)
    return f"{_segment(values)}.{payload}.{signature}"


Forgery = Callable[[DevTokenIssuer], str]
NOW = int(time.time())
FORGERIES: dict[str, Forgery] = {
    "alg-none": lambda i: forge.unsigned(forge.claims(i), i.kid),
    "alg-none-uppercase": lambda i: _header_swap(forge.unsigned(forge.claims(i), i.kid), alg="NONE"),
    "alg-none-no-signature-dot": lambda i: forge.unsigned(forge.claims(i), i.kid).rstrip("."),
    "hs256-keyed-with-public-key": lambda i: forge.hs256_with_public_key(forge.claims(i), i),
    "alg-swapped-to-rs512": lambda i: _header_swap(i.sign(forge.claims(i)), alg="RS512"),
    "tampered-role": lambda i: forge.tampered(i.issue_token("RAL", "health", "rf-1"), role="la_manager"),
    "tampered-org": lambda i: forge.tampered(i.issue_token("RAL", "health", "rf-1"), org="E09000007"),
    "tampered-expiry": lambda i: forge.tampered(i.sign(forge.claims(i, exp=NOW - 60)), exp=NOW + 3600),
    "signature-stripped": lambda i: i.issue_token("RAL", "health", "rf-1").rsplit(".", 1)[0] + ".",
    "signature-of-another-token": lambda i: (
        i.issue_token("RAL", "health", "rf-1").rsplit(".", 1)[0]
        + "."
        + i.issue_token("E09000007", "la_manager", "m").rsplit(".", 1)[1]
    ),
    "wrong-key-same-kid": lambda i: forge.signed_by_another_key(forge.claims(i), kid=i.kid),
    "wrong-key-unknown-kid": lambda i: forge.signed_by_another_key(forge.claims(i), kid="attacker-key"),
    "jku-points-at-attacker-jwks": lambda i: forge.signed_by_another_key(forge.claims(i), kid="attacker-key"),
    "no-kid": lambda i: i.sign(forge.claims(i), kid=None),
    "wrong-issuer": lambda i: i.sign(forge.claims(i, iss="https://evil.example/")),
    "issuer-prefix-trick": lambda i: i.sign(forge.claims(i, iss=i.issuer + ".evil.example")),
    "wrong-audience": lambda i: i.sign(forge.claims(i, aud="another-service")),
    "audience-list-without-ours": lambda i: i.sign(forge.claims(i, aud=["a", "b"])),
    "expired": lambda i: i.sign(forge.claims(i, exp=NOW - 3600)),
    "expired-beyond-leeway": lambda i: i.sign(forge.claims(i, exp=NOW - 31)),
    "not-yet-valid": lambda i: i.sign(forge.claims(i, nbf=NOW + 3600)),
    "issued-in-the-future": lambda i: i.sign(forge.claims(i, iat=NOW + 3600)),
    "no-expiry": lambda i: i.sign(forge.claims(i, exp=None)),
    "no-issuer": lambda i: i.sign(forge.claims(i, iss=None)),
    "no-audience": lambda i: i.sign(forge.claims(i, aud=None)),
    "no-subject": lambda i: i.sign(forge.claims(i, sub=None)),
    "no-org": lambda i: i.sign(forge.claims(i, org=None)),
    "no-role": lambda i: i.sign(forge.claims(i, role=None)),
    "empty-subject": lambda i: i.sign(forge.claims(i, sub="")),
    "non-string-role": lambda i: i.sign(forge.claims(i, role=["la_manager"])),
    "unknown-role": lambda i: i.sign(forge.claims(i, role="superuser")),
    "unknown-org": lambda i: i.sign(forge.claims(i, org="E99999999")),
    "role-not-for-org-type": lambda i: i.sign(forge.claims(i, org="RAL", role="la_manager")),
    "police-role-at-a-school": lambda i: i.sign(forge.claims(i, org="URN-100050", role="police")),
    "oversized": lambda i: i.sign(forge.claims(i, pad="x" * 9000)),
    "garbage": lambda _: "not-a-token",
    "empty-segments": lambda _: "..",
    "non-json-header": lambda i: "e30" + i.issue_token("RAL", "health", "rf-1")[3:],
}
HEADERS: dict[str, Callable[[str], dict[str, str]]] = {
    "bearer": lambda t: {"Authorization": f"Bearer {t}"},
}
BAD_AUTHORIZATION_HEADERS = {
    "missing": {},
    "empty": {"Authorization": ""},
    "bearer-without-token": {"Authorization": "Bearer "},
    "basic-auth": {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()},
    "token-without-scheme": {"Authorization": "eyJhbGciOiJub25lIn0.e30."},
    "api-key-header": {"x-api-key": "anything"},
}


def _check(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json() == UNAUTHORIZED  # the same body whatever went wrong
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t[0]}-{t[1].split('/')[2]}")
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_or_misdirected_tokens_are_401(api: Api, forgery: str, target) -> None:  # type: ignore[no-untyped-def]
    issuer = api.stack.aws.tokens
    token = FORGERIES[forgery](issuer)
    if forgery == "jku-points-at-attacker-jwks":
        token = _header_swap(
            token, jku="https://attacker.example/jwks.json", x5u="https://attacker.example/c"
        )
    method, path, body = target
    _check(api.stack.request(method, path, body, token))


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t[0]}-{t[1].split('/')[2]}")
@pytest.mark.parametrize("case", list(BAD_AUTHORIZATION_HEADERS))
def test_missing_or_malformed_authorization_is_401(api: Api, case: str, target) -> None:  # type: ignore[no-untyped-def]
    method, path, body = target
    _check(api.stack.request(method, path, body, headers=BAD_AUTHORIZATION_HEADERS[case]))


def test_a_genuine_token_passes_and_the_same_claims_forged_do_not(api: Api) -> None:
    issuer = api.stack.aws.tokens
    genuine = issuer.issue_token("RAL", "health", "rf-nurse-1")
    assert api.stack.request("GET", "/v1/organisations/RAL", token=genuine).status_code == 200
    claims = json.loads(base64.urlsafe_b64decode(genuine.split(".")[1] + "=="))
    forged = forge.signed_by_another_key(claims, kid=issuer.kid)
    _check(api.stack.request("GET", "/v1/organisations/RAL", token=forged))


def test_a_deactivated_organisation_is_locked_out(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Within the authorizer cache TTL (60 s) in AWS, where the authorizer reads the directory
    uncached; here (no authorizer cache) at once."""
    monkeypatch.setattr(directory_module, "_CACHE_SECONDS", 0.0)
    admin = api.stack.token("NATIONAL", "admin", "admin-1")
    school = api.stack.token("URN-100050", "education", "dsl-9")
    entry = api.stack.request("GET", "/v1/organisations/URN-100050", token=admin).json()
    assert api.stack.request("GET", "/v1/organisations/RAL", token=school).status_code == 200
    off = api.stack.request("PUT", "/v1/organisations/URN-100050", {**entry, "active": False}, admin)
    assert off.status_code == 200, off.text
    try:
        _check(api.stack.request("GET", "/v1/organisations/RAL", token=school))
    finally:
        back = api.stack.request("PUT", "/v1/organisations/URN-100050", {**entry, "active": True}, admin)
        assert back.status_code == 200


def test_401_never_echoes_the_token_or_its_claims(api: Api) -> None:
    issuer = api.stack.aws.tokens
    token = issuer.sign(forge.claims(issuer, sub="Zephyrine-Marchbanks", org="E99999999"))
    response = api.stack.request("GET", "/v1/notifications", token=token)
    _check(response)
    for value in ("Zephyrine", "E99999999", token[:20]):
        assert value not in response.text
        assert all(value not in v for v in response.headers.values())
