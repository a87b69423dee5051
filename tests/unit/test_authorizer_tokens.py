"""signpost.auth.tokens: what a verifier must refuse, and why (reason codes)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from jwt import PyJWKClient
from signpost.auth import InvalidToken, TokenVerifier, verifier_from_settings
from signpost.auth.tokens import MAX_TOKEN_LENGTH
from signpost.settings import Settings

from infrastructure.local.tokens import DevTokenIssuer
from tests.support import forge

ISSUER = "http://127.0.0.1:3000/dev"
AUDIENCE = "signpost-local"


@pytest.fixture(scope="module")
def issuer() -> DevTokenIssuer:
    return DevTokenIssuer(ISSUER, AUDIENCE)


@pytest.fixture(scope="module")
def verifier(issuer: DevTokenIssuer) -> TokenVerifier:
    return TokenVerifier(ISSUER, AUDIENCE, issuer.jwks())


def rejected(verifier: TokenVerifier, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        verifier.verify(token)
    # The message is fixed: no part of the token ever appears in it.
    if token:
        assert token not in str(caught.value)
    assert caught.value.status == 401
    return caught.value


def test_a_valid_token_gives_its_claims(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    claims = verifier.verify(issuer.issue_token("RAL", "health", "rf-nurse-1"))
    assert (claims.sub, claims.org, claims.role) == ("rf-nurse-1", "RAL", "health")
    assert claims.expires_at > time.time()


def test_alg_none_is_refused_before_any_key_lookup(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = forge.unsigned(forge.claims(issuer), issuer.kid)
    assert rejected(verifier, token).reason == "algorithm_not_allowed"


def test_hs256_signed_with_the_public_key_is_refused(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = forge.hs256_with_public_key(forge.claims(issuer), issuer)
    assert rejected(verifier, token).reason == "algorithm_not_allowed"


def test_an_algorithm_outside_the_pinned_list_is_refused(
    issuer: DevTokenIssuer, verifier: TokenVerifier
) -> None:
    token = issuer.sign(forge.claims(issuer), algorithm="RS512")  # right key, unpinned alg
    assert rejected(verifier, token).reason == "algorithm_not_allowed"


def test_a_tampered_payload_fails_the_signature(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = forge.tampered(issuer.issue_token("E09000007", "la_practitioner", "sw-1"), role="la_manager")
    assert rejected(verifier, token).reason == "bad_signature"


def test_another_key_under_the_published_kid_fails_the_signature(
    issuer: DevTokenIssuer, verifier: TokenVerifier
) -> None:
    token = forge.signed_by_another_key(forge.claims(issuer), kid=issuer.kid)
    assert rejected(verifier, token).reason == "bad_signature"


def test_an_unknown_kid_is_refused(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = forge.signed_by_another_key(forge.claims(issuer), kid="someone-elses-key")
    assert rejected(verifier, token).reason == "unknown_key"


def test_a_token_without_kid_is_refused(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.sign(forge.claims(issuer), kid=None)
    assert rejected(verifier, token).reason == "missing_kid"


@dataclass(frozen=True)
class FromNow:
    seconds: int

    def at(self) -> int:
        return int(time.time()) + self.seconds

    def __str__(self) -> str:
        return f"now{self.seconds:+d}s"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://evil.example/"}, "wrong_issuer"),
        ({"aud": "another-service"}, "wrong_audience"),
        ({"exp": FromNow(-120)}, "expired"),
        ({"nbf": FromNow(300)}, "not_yet_valid"),
        ({"iat": FromNow(300)}, "not_yet_valid"),
        ({"exp": None}, "missing_claim"),
        ({"iss": None}, "missing_claim"),
        ({"aud": None}, "missing_claim"),
        ({"sub": None}, "missing_claim"),
        ({"org": None}, "missing_claim"),
        ({"role": None}, "missing_claim"),
        ({"org": "  "}, "missing_claim"),
        ({"role": ["la_manager"]}, "missing_claim"),
        ({"org": "E" * 300}, "missing_claim"),
    ],
    ids=lambda value: json.dumps(value, default=str) if isinstance(value, dict) else value,
)
def test_claims_are_checked(
    issuer: DevTokenIssuer, verifier: TokenVerifier, changes: dict[str, Any], reason: str
) -> None:
    # Times are taken when the test runs, not when it is collected (a long session would age them).
    resolved = {k: v.at() if isinstance(v, FromNow) else v for k, v in changes.items()}
    token = issuer.sign(forge.claims(issuer, **resolved))
    assert rejected(verifier, token).reason == reason


def test_clock_skew_within_the_leeway_is_tolerated(issuer: DevTokenIssuer, verifier: TokenVerifier) -> None:
    now = int(time.time())
    token = issuer.sign(forge.claims(issuer, exp=now - 10, nbf=now + 10, iat=now + 10))
    assert verifier.verify(token).org == "E09000007"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "x" * (MAX_TOKEN_LENGTH + 1)])
def test_garbage_is_malformed(verifier: TokenVerifier, token: str) -> None:
    assert rejected(verifier, token).reason == "malformed"


def test_a_jwk_that_pins_another_algorithm_refuses_the_token(issuer: DevTokenIssuer) -> None:
    jwks = issuer.jwks()
    jwks["keys"][0]["alg"] = "RS384"
    verifier = TokenVerifier(ISSUER, AUDIENCE, jwks, algorithms=("RS256", "RS384"))
    token = issuer.issue_token("E09000007", "la_practitioner", "sw-1")  # RS256
    assert rejected(verifier, token).reason == "algorithm_not_allowed"


@pytest.mark.parametrize("algorithms", [("HS256",), ("RS256", "none"), ()])
def test_only_asymmetric_algorithms_can_be_configured(
    issuer: DevTokenIssuer, algorithms: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        TokenVerifier(ISSUER, AUDIENCE, issuer.jwks(), algorithms=algorithms)


def test_leeway_is_capped(issuer: DevTokenIssuer) -> None:
    with pytest.raises(ValueError, match="leeway"):
        TokenVerifier(ISSUER, AUDIENCE, issuer.jwks(), leeway_seconds=120)


def test_inline_jwks_json_from_settings(issuer: DevTokenIssuer) -> None:
    settings = Settings(JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWKS_JSON=json.dumps(issuer.jwks()))
    token = issuer.issue_token("URN-100050", "education", "dsl-1")
    assert verifier_from_settings(settings).verify(token).role == "education"


def test_settings_without_any_jwks_are_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="JWKS_URL"):
        verifier_from_settings(Settings(JWKS_URL="", JWKS_JSON=""))


class _JwksEndpoint:
    """The issuer's JWKS URL, served on 127.0.0.1 and counting fetches."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.fetches += 1
                body = json.dumps(jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.fetches = 0
        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def jwks_endpoint(issuer: DevTokenIssuer) -> Iterator[_JwksEndpoint]:
    endpoint = _JwksEndpoint(issuer.jwks())
    yield endpoint
    endpoint.close()


def test_a_warm_verifier_from_settings_fetches_the_jwks_once(
    issuer: DevTokenIssuer, jwks_endpoint: _JwksEndpoint
) -> None:
    verifier = verifier_from_settings(
        Settings(JWT_ISSUER=ISSUER, JWT_AUDIENCE=AUDIENCE, JWKS_URL=jwks_endpoint.url)
    )
    for n in range(5):
        verifier.verify(issuer.issue_token("E09000007", "la_practitioner", f"sw-{n}"))
    assert jwks_endpoint.fetches == 1


def test_unknown_kids_do_not_make_a_fetch_each(issuer: DevTokenIssuer, jwks_endpoint: _JwksEndpoint) -> None:
    verifier = TokenVerifier(ISSUER, AUDIENCE, PyJWKClient(jwks_endpoint.url, cooldown_duration=60))
    verifier.verify(issuer.issue_token("E09000007", "la_practitioner", "sw-1"))
    for n in range(5):
        token = forge.signed_by_another_key(forge.claims(issuer), kid=f"rotated-{n}")
        assert rejected(verifier, token).reason == "unknown_key"
    assert jwks_endpoint.fetches == 1  # PyJWKClient's refresh cooldown holds


def test_an_unreachable_jwks_endpoint_is_a_refusal(
    issuer: DevTokenIssuer, jwks_endpoint: _JwksEndpoint
) -> None:
    url = jwks_endpoint.url
    jwks_endpoint.close()
    verifier = TokenVerifier(ISSUER, AUDIENCE, PyJWKClient(url, timeout=1))
    token = issuer.issue_token("E09000007", "la_practitioner", "sw-1")
    assert rejected(verifier, token).reason == "jwks_unavailable"
