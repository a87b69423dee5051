"""Verifying bearer tokens (JWTs) against the identity provider's JWKS.

The token is attacker-controlled input, so the order matters: the header's
``alg`` is checked against the pinned list *before* any key is looked up or any
signature checked (this is what stops ``alg: none`` and the HS256-with-the-public-
key confusion), the key is chosen by ``kid`` from the trusted JWKS only, and only
then are the signature and the registered claims verified by PyJWT.

Every failure is an :class:`InvalidToken` (a 401) with a fixed message and a
stable ``reason`` code for logs; neither ever carries any part of the token.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWKClientConnectionError,
    PyJWKClientError,
    PyJWKError,
    PyJWKSetError,
)

from signpost.errors import Unauthorised
from signpost.settings import Settings

# Only public-key algorithms: a verifier holding a *public* JWKS must never accept
# a symmetric (HS*) signature, nor an unsigned token.
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_LEEWAY_SECONDS: Final = 30
# API Gateway caps a header at 10 KB; real access tokens are far smaller. Refusing
# long input early keeps base64/JSON parsing of junk cheap.
MAX_TOKEN_LENGTH: Final = 8192
# The claims Signpost needs besides the registered ones PyJWT checks.
APPLICATION_CLAIMS: Final = ("sub", "org", "role")
_MAX_CLAIM_LENGTH: Final = 256

# JWKS from the issuer: a PyJWKClient (fetched, cached), a parsed set, or inline JSON.
JwksSource = PyJWKClient | PyJWKSet | Mapping[str, Any] | str


class InvalidToken(Unauthorised):
    """A refused token. ``reason`` is a stable code for logs and metrics (never token content)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims Signpost acts on."""

    sub: str
    org: str
    role: str
    expires_at: int


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks: JwksSource,
        algorithms: Iterable[str] = ("RS256",),
        leeway_seconds: int = MAX_LEEWAY_SECONDS,
    ) -> None:
        self._algorithms = tuple(algorithms)
        unsafe = [alg for alg in self._algorithms if alg not in ASYMMETRIC_ALGORITHMS]
        if not self._algorithms or unsafe:
            # A configuration error, not a token error: fail loudly at start-up.
            raise ValueError(f"only asymmetric JWT algorithms may be configured, got {unsafe or 'none'}")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        if not 0 <= leeway_seconds <= MAX_LEEWAY_SECONDS:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY_SECONDS} seconds")
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._client: PyJWKClient | None = None
        self._key_set: PyJWKSet | None = None
        if isinstance(jwks, PyJWKClient):
            self._client = jwks
        else:
            self._key_set = _as_key_set(jwks)

    def verify(self, token: str) -> TokenClaims:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("malformed", "malformed token")
        header = self._header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise InvalidToken("algorithm_not_allowed", "token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("missing_kid", "token has no key id")
        key = self._signing_key(kid)
        if key.algorithm_name != algorithm:
            # The JWK pins its own algorithm; a token claiming another one is forged or misissued.
            raise InvalidToken("algorithm_not_allowed", "token algorithm not allowed")
        claims = self._decode(token, key, algorithm)
        return TokenClaims(
            sub=_claim(claims, "sub"),
            org=_claim(claims, "org"),
            role=_claim(claims, "role"),
            expires_at=int(claims["exp"]),
        )

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        try:
            return jwt.get_unverified_header(token)
        except InvalidTokenError as exc:
            raise InvalidToken("malformed", "malformed token") from exc

    def _signing_key(self, kid: str) -> PyJWK:
        if self._client is not None:
            try:
                # Cached by PyJWKClient; an unknown kid refreshes at most once per cooldown.
                return self._client.get_signing_key(kid)
            except PyJWKClientConnectionError as exc:
                raise InvalidToken("jwks_unavailable", "signing keys unavailable") from exc
            except (PyJWKClientError, PyJWKSetError) as exc:
                raise InvalidToken("unknown_key", "unknown signing key") from exc
        assert self._key_set is not None
        for key in self._key_set.keys:
            if key.key_id == kid and key.public_key_use in ("sig", None):
                return key
        raise InvalidToken("unknown_key", "unknown signing key")

    def _decode(self, token: str, key: PyJWK, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "aud", *APPLICATION_CLAIMS]},
            )
        except ExpiredSignatureError as exc:
            raise InvalidToken("expired", "token expired") from exc
        except (ImmatureSignatureError, InvalidIssuedAtError) as exc:
            raise InvalidToken("not_yet_valid", "token not yet valid") from exc
        except InvalidAudienceError as exc:
            raise InvalidToken("wrong_audience", "token audience not accepted") from exc
        except InvalidIssuerError as exc:
            raise InvalidToken("wrong_issuer", "token issuer not accepted") from exc
        except MissingRequiredClaimError as exc:
            raise InvalidToken("missing_claim", "token lacks a required claim") from exc
        except InvalidSignatureError as exc:
            raise InvalidToken("bad_signature", "token signature invalid") from exc
        except InvalidTokenError as exc:
            raise InvalidToken("invalid", "invalid token") from exc
        except PyJWKError as exc:  # the key cannot verify this token (e.g. wrong key type)
            raise InvalidToken("invalid", "invalid token") from exc


def _claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_CLAIM_LENGTH:
        raise InvalidToken("missing_claim", "token lacks a required claim")
    return value


def _as_key_set(jwks: PyJWKSet | Mapping[str, Any] | str) -> PyJWKSet:
    if isinstance(jwks, PyJWKSet):
        return jwks
    data = json.loads(jwks) if isinstance(jwks, str) else dict(jwks)
    try:
        return PyJWKSet.from_dict(data)
    except (PyJWKSetError, PyJWKError) as exc:
        raise ValueError("the configured JWKS holds no usable key") from exc


# How long a fetched JWKS is trusted before it is fetched again: keys rotate rarely,
# and a warm authorizer must not fetch per request.
JWKS_LIFESPAN_SECONDS: Final = 900
JWKS_TIMEOUT_SECONDS: Final = 3


def verifier_from_settings(settings: Settings) -> TokenVerifier:
    """The verifier configured by the environment: inline JWKS (local stack) or the issuer's URL."""
    jwks: JwksSource
    if settings.jwks_json:
        jwks = settings.jwks_json
    elif settings.jwks_url:
        jwks = PyJWKClient(
            settings.jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_LIFESPAN_SECONDS,
            timeout=JWKS_TIMEOUT_SECONDS,
        )
    else:
        raise ValueError("set JWKS_URL (or JWKS_JSON locally) to verify tokens")
    algorithms = [alg.strip() for alg in settings.jwt_algorithms.split(",") if alg.strip()]
    return TokenVerifier(settings.jwt_issuer, settings.jwt_audience, jwks, algorithms)
