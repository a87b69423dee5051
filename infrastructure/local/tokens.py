"""The local stack's token issuer: a throwaway RSA key that only the local stack trusts.

The key is generated once per process (a fresh one each run, never written to
disk); its public half is handed to the authorizer as an inline JWKS, exactly as
the issuer's JWKS URL would be in AWS.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ALGORITHM = "RS256"
DEFAULT_AUDIENCE = "signpost-local"
DEFAULT_TTL_SECONDS = 3600


@cache
def dev_private_key() -> rsa.RSAPrivateKey:
    """One key per process: RSA generation costs tens of milliseconds, tests start many stacks."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a kid that names the key itself."""
    members = {name: public_jwk[name] for name in ("e", "kty", "n")}
    digest = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class DevTokenIssuer:
    def __init__(
        self,
        issuer: str,
        audience: str = DEFAULT_AUDIENCE,
        private_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        self.issuer = issuer  # settable: the gateway learns its port only once bound
        self.audience = audience
        self._private_key = private_key or dev_private_key()
        self._public_jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self._private_key.public_key(), as_dict=True)
        self.kid = _thumbprint(self._public_jwk)

    def issue_token(self, org: str, role: str, sub: str, ttl: int = DEFAULT_TTL_SECONDS) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": sub,
            "org": org,
            "role": role,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        return self.sign(claims)

    def sign(self, claims: dict[str, Any], algorithm: str = ALGORITHM, **header: Any) -> str:
        """Any claims and header fields under the dev key (tests craft edge cases with it);
        a header field given as None is left out."""
        fields = {k: v for k, v in {"kid": self.kid, **header}.items() if v is not None}
        return jwt.encode(claims, self._private_key, algorithm=algorithm, headers=fields)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._public_jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}]}
