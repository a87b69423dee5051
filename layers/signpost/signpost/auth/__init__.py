"""Authentication: verifying the bearer tokens of the agencies' identity providers."""

from signpost.auth.tokens import InvalidToken, TokenClaims, TokenVerifier, verifier_from_settings

__all__ = ["InvalidToken", "TokenClaims", "TokenVerifier", "verifier_from_settings"]
