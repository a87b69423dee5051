"""Hostile tokens for authorizer tests: what an attacker can make without the issuer's key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from infrastructure.local.tokens import DevTokenIssuer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims(issuer: DevTokenIssuer, **overrides: Any) -> dict[str, Any]:
    """Valid claims for ``issuer``; an override of None removes the claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": "practitioner-1",
        "org": "E09000007",
        "role": "la_practitioner",
        "iat": now,
        "exp": now + 600,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def unsigned(payload: dict[str, Any], kid: str) -> str:
    """``alg: none`` with an empty signature."""
    return f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_segment(payload)}."


def hs256_with_public_key(payload: dict[str, Any], issuer: DevTokenIssuer) -> str:
    """The key-confusion attack: HMAC-SHA256 keyed with the issuer's *public* key (PEM)."""
    public = jwt.PyJWK(issuer.jwks()["keys"][0]).key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': issuer.kid})}.{_segment(payload)}"
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def tampered(token: str, **changes: Any) -> str:
    """The same header and signature over a payload with ``changes``."""
    header, payload, signature = token.split(".")
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values.update(changes)
    return f"{header}.{_segment(values)}.{signature}"


def signed_by_another_key(payload: dict[str, Any], kid: str, algorithm: str = "RS256") -> str:
    """Well-formed, but signed by a key the issuer never published."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, other, algorithm=algorithm, headers={"kid": kid})
