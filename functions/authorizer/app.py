"""API Gateway REQUEST authorizer: bearer JWT → verified caller → stage-wide IAM policy.

API Gateway's contract: return an Allow policy, or raise ``Exception("Unauthorized")``
for a 401. The policy covers the whole stage so API Gateway can cache the result
per token; what the caller may do is decided by the handlers (signpost.authz).
Logs carry only the decision and a reason code, never the token or its claims.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from signpost.auth import InvalidToken, TokenVerifier, verifier_from_settings
from signpost.authz import Caller, role_fits_org
from signpost.dal.directory import DirectoryRepository, DynamoDirectory
from signpost.models.common import OrgType, Role
from signpost.observability import logger
from signpost.settings import Settings, get_settings

_BEARER = "bearer "


class Denied(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# Built on first use and kept while the settings object is the same, so a warm
# authorizer neither re-reads the JWKS nor loses the directory cache between calls
# (tests that swap the environment call reset_settings(), which rebuilds these).
_deps: tuple[Settings, TokenVerifier, DynamoDirectory] | None = None


def _dependencies() -> tuple[TokenVerifier, DynamoDirectory]:
    global _deps  # noqa: PLW0603 - the per-container singleton is the point
    settings = get_settings()
    if _deps is None or _deps[0] is not settings:
        # No directory cache here: API Gateway caches this function's answer per token for
        # ReauthorizeEvery, and a second cache would lengthen how long a deactivated
        # organisation keeps working.
        directory = DynamoDirectory(settings.directory_table, cache_seconds=0)
        _deps = (settings, verifier_from_settings(settings), directory)
    return _deps[1], _deps[2]


def authorise(
    event: APIGatewayAuthorizerRequestEvent,
    verifier: TokenVerifier,
    directory: DirectoryRepository,
    *,
    cache_seconds: int = 0,
) -> Caller:
    """The caller behind a valid token of an active organisation, or :class:`Denied`.

    A token with less than `cache_seconds` of life left is refused: API Gateway would keep
    allowing it from its cache after it expired.
    """
    header = event.get_header_value("Authorization", default_value="", case_sensitive=False) or ""
    if not header.lower().startswith(_BEARER):
        raise Denied("missing_token")
    try:
        claims = verifier.verify(header[len(_BEARER) :].strip())
    except InvalidToken as exc:
        raise Denied(exc.reason) from None
    if claims.expires_at - time.time() < cache_seconds:
        raise Denied("expires_within_cache")
    org = directory.get(claims.org)
    if org is None:
        raise Denied("unknown_org")
    if not org.active:
        raise Denied("inactive_org")
    if not role_fits_org(claims.role, org.type):
        raise Denied("role_not_for_org")
    return Caller(
        sub=claims.sub,
        org=org.code,
        role=Role(claims.role),
        org_type=OrgType(org.type),
        org_name=org.name,
        area=org.area,
        sensitive_service=org.sensitive_service,
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:  # noqa: ARG001
    request = APIGatewayAuthorizerRequestEvent(event)
    try:
        caller = authorise(request, *_dependencies(), cache_seconds=get_settings().authorizer_cache_seconds)
    except Denied as exc:
        logger.info("authorizer decision", extra={"decision": "deny", "reason": exc.reason})
        raise Exception("Unauthorized") from None  # API Gateway's contract for a 401
    except Exception as exc:
        # A fault (directory unreachable, bad configuration): still a 401 to the client;
        # the log names the error type only, as its message could quote input.
        logger.error(
            "authorizer decision",
            extra={"decision": "deny", "reason": "error", "error": type(exc).__name__},
        )
        raise Exception("Unauthorized") from None
    # shown_org: a sensitive service is never named outside the audit, logs included.
    shown = caller.as_context()["shown_org"]
    logger.info("authorizer decision", extra={"decision": "allow", "org": shown, "role": caller.role})
    policy = APIGatewayAuthorizerResponse.from_route_arn(
        request.method_arn, principal_id=caller.sub, context=caller.as_context()
    )
    policy.allow_all_routes()  # arn:…:apiId/stage/*/* — cacheable per token
    return policy.asdict()
