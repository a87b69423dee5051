"""The authorizer against moto: settings from the environment, the directory in DynamoDB."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from signpost.authz import Caller
from signpost.dal.directory import DynamoDirectory
from signpost.settings import get_settings, reset_settings

from functions.authorizer import app
from infrastructure.local.aws import LocalAws
from tests.support import forge
from tests.support.lambda_events import caller, invoke, make_authorizer_event

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_allows_a_practitioner_of_an_active_seeded_organisation(local_aws: LocalAws) -> None:
    token = local_aws.tokens.issue_token("E23000001", "police", "pc-4411")
    policy = invoke("authorizer", make_authorizer_event("POST", "/v1/searches", token=token))

    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert policy["policyDocument"]["Statement"][0]["Resource"][0].endswith("/api/*/*")
    assert Caller.from_context(policy["context"]) == caller("E23000001", "police", "pc-4411")


def test_refuses_an_organisation_deactivated_in_the_directory(local_aws: LocalAws) -> None:
    directory = DynamoDirectory(local_aws.tables["DirectoryTable"])
    hackney = directory.get("E09000012")
    assert hackney is not None
    directory.put(hackney.model_copy(update={"active": False}))

    token = local_aws.tokens.issue_token("E09000012", "la_manager", "hk-mgr-1")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", make_authorizer_event("GET", "/v1/notifications", token=token))


def test_refuses_a_token_from_another_issuer_url(local_aws: LocalAws) -> None:
    token = local_aws.tokens.issue_token("RAL", "health", "rf-1")
    local_aws.set_issuer("http://127.0.0.1:9/dev")  # the authorizer now trusts another issuer
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", make_authorizer_event("POST", "/v1/searches", token=token))


def test_the_sample_event_is_accepted_with_a_fresh_token(local_aws: LocalAws) -> None:
    event: dict[str, Any] = json.loads((EVENTS / "authorizer.json").read_text())
    token = local_aws.tokens.issue_token("E09000007", "la_practitioner", "camden-sw-1")
    event["headers"]["Authorization"] = f"Bearer {token}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]

    policy = invoke("authorizer", event)
    assert policy["principalId"] == "camden-sw-1"


@pytest.mark.usefixtures("local_aws")
def test_a_warm_authorizer_keeps_its_verifier_and_directory() -> None:
    first = app._dependencies()
    assert app._dependencies() is not None
    assert app._dependencies()[0] is first[0]
    assert app._dependencies()[1] is first[1]
    reset_settings()  # what a new environment (another test's LocalAws) does
    assert get_settings() is not None
    assert app._dependencies()[0] is not first[0]


def test_authorizer_cache_a_deactivated_organisation_is_refused_at_the_next_authorization(
    local_aws: LocalAws,
) -> None:
    """API Gateway caches an Allow for AUTHORIZER_CACHE_SECONDS (60 s); the authorizer itself
    adds no directory cache on top, so deactivation takes effect within that minute."""
    token = local_aws.tokens.issue_token("E09000012", "la_practitioner", "hk-sw-9")
    event = make_authorizer_event("GET", "/v1/notifications", token=token)
    assert invoke("authorizer", event)["principalId"] == "hk-sw-9"
    writer = DynamoDirectory(local_aws.tables["DirectoryTable"])
    hackney = writer.get("E09000012")
    assert hackney is not None
    writer.put(hackney.model_copy(update={"active": False}))  # an admin, in another function
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", event)


def test_authorizer_cache_a_token_that_expires_within_the_cache_ttl_is_refused(local_aws: LocalAws) -> None:
    """An Allow cached for 60 s must not outlive the token: a token with less life left is refused."""
    issuer = local_aws.tokens
    ttl = get_settings().authorizer_cache_seconds
    assert ttl == 60
    now = int(time.time())
    short = issuer.sign(forge.claims(issuer, org="RAL", role="health", exp=now + ttl - 5))
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        invoke("authorizer", make_authorizer_event("POST", "/v1/searches", token=short))
    enough = issuer.sign(forge.claims(issuer, org="RAL", role="health", exp=now + ttl + 30))
    assert invoke("authorizer", make_authorizer_event("POST", "/v1/searches", token=enough))["principalId"]
