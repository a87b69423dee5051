"""Post-deployment smoke test: the deployed API does the whole job for one synthetic child.

    python scripts/smoke_test.py --api-url URL [--stack NAME] [--no-verify-audit]

1. a token from the environment's identity provider (OAuth 2.0 client credentials:
   SMOKE_TOKEN_URL, SMOKE_CLIENT_ID, SMOKE_CLIENT_SECRET, optional SMOKE_SCOPE and
   SMOKE_AUDIENCE); the client's tokens must carry org=SIGNPOST-SMOKE (the synthetic
   local authority of infrastructure/directory/smoke.json) and an la_* role;
2. GET /health; register a synthetic child; search finds it (match); its access log
   shows the registration and the search; close it (registered_in_error);
3. the child's audit chain verifies (`signpost-admin verify-audit --chain CHILD#<id>`,
   with this job's AWS credentials; `--stack` names where the tables are).

The synthetic child cannot be a real one: an NHS number from the 999 range, which NHS
England reserves for testing, and a name no child has. Exit 0 when every step passed,
1 naming the first step that failed. Nothing is printed but step names and statuses.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT = 20
SMOKE_ORG = "SIGNPOST-SMOKE"


class SmokeFailed(Exception):
    pass


def test_nhs_number(rng: secrets.SystemRandom) -> str:
    """A valid NHS number (modulus 11) from the 999 range reserved for testing."""
    while True:
        digits = [9, 9, 9, *(rng.randrange(10) for _ in range(6))]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, [*digits, check]))


def synthetic_child(today: dt.date, run: str) -> dict[str, Any]:
    rng = secrets.SystemRandom()
    born = today - dt.timedelta(days=365 * 8 + rng.randrange(365))
    return {
        "given_names": f"Smoketest {run}",
        "family_name": "Synthetic-Signpost",
        "date_of_birth": born.isoformat(),
        "nhs_number": test_nhs_number(rng),
    }


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        if self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.base_url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        return status, (json.loads(text) if text else None)


def client_credentials_token(env: dict[str, str]) -> str:
    """An access token from the identity provider's token endpoint (RFC 6749 section 4.4)."""
    missing = [n for n in ("SMOKE_TOKEN_URL", "SMOKE_CLIENT_ID", "SMOKE_CLIENT_SECRET") if not env.get(n)]
    if missing:
        raise SmokeFailed(f"token: {', '.join(missing)} not set")
    form = {"grant_type": "client_credentials"}
    for name, field in (("SMOKE_SCOPE", "scope"), ("SMOKE_AUDIENCE", "audience")):
        if env.get(name):
            form[field] = env[name]
    basic = base64.b64encode(f"{env['SMOKE_CLIENT_ID']}:{env['SMOKE_CLIENT_SECRET']}".encode()).decode()
    request = urllib.request.Request(
        env["SMOKE_TOKEN_URL"],
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            token = json.loads(response.read().decode()).get("access_token")
    except (urllib.error.URLError, ValueError) as error:
        raise SmokeFailed(
            f"token: the identity provider refused or failed ({type(error).__name__})"
        ) from None
    if not token:
        raise SmokeFailed("token: no access_token in the identity provider's answer")
    return str(token)


def expect(step: str, status: int, wanted: int, log: Callable[[str], None]) -> None:
    log(f"{step}: {status}")
    if status != wanted:
        raise SmokeFailed(f"{step}: expected {wanted}, got {status}")


def run(
    api_url: str, env: dict[str, str], verify: Callable[[str], bool] | None, log: Callable[[str], None]
) -> str:
    """Every step; returns the synthetic child's id. Raises SmokeFailed at the first failure."""
    status, _ = Api(api_url).call("GET", "/health")
    expect("health", status, 200, log)
    api = Api(api_url, client_credentials_token(env))
    run_id = secrets.token_hex(4)
    child = synthetic_child(dt.date.today(), run_id)
    review_by = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    body = {**child, "categories": ["child_in_need"], "review_by": review_by}
    status, created = api.call("POST", "/v1/children", body, {"Idempotency-Key": f"smoke-{run_id}"})
    expect("register", status, 201, log)
    child_id = str(created["child_id"])
    try:
        search = {k: child[k] for k in ("given_names", "family_name", "date_of_birth")}
        status, found = api.call("POST", "/v1/searches", {**search, "reason": "safeguarding_concern"})
        expect("search", status, 200, log)
        if found.get("outcome") != "match" or child_id not in [
            s.get("child_id") for s in found.get("signposts", [])
        ]:
            raise SmokeFailed(
                f"search: outcome {found.get('outcome')}, the synthetic child was not the match"
            )
        status, access_log = api.call("GET", f"/v1/children/{child_id}/access-log")
        expect("access log", status, 200, log)
        actions = [e.get("action") for e in access_log.get("items", [])]
        if "register" not in actions or "search" not in actions:
            raise SmokeFailed(f"access log: expected the registration and the search, got {actions}")
    finally:  # never leave the synthetic child active, whatever failed
        status, _ = api.call("POST", f"/v1/children/{child_id}/close", {"reason": "registered_in_error"})
        expect("close", status, 200, log)
    if verify is not None:
        intact = verify(child_id)
        log(f"audit chain: {'intact' if intact else 'PROBLEMS'}")
        if not intact:
            raise SmokeFailed("audit: the synthetic child's audit chain does not verify")
    return child_id


def verify_with_admin(stack: str | None) -> Callable[[str], bool]:
    def verify(child_id: str) -> bool:
        from signpost import admin  # noqa: PLC0415 - only when verifying

        target = ["--stack", stack] if stack else []
        return admin.main([*target, "verify-audit", "--chain", f"CHILD#{child_id}"]) == 0

    return verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-url", required=True, help="the stack's ApiUrl output")
    parser.add_argument("--stack", help="the stack whose audit to verify (default: the environment's tables)")
    parser.add_argument(
        "--no-verify-audit", action="store_true", help="skip the audit check (no AWS credentials)"
    )
    args = parser.parse_args(argv)
    verify = None if args.no_verify_audit else verify_with_admin(args.stack)
    try:
        run(args.api_url, dict(os.environ), verify, lambda line: print(f"smoke: {line}", flush=True))
    except SmokeFailed as failure:
        print(f"smoke test FAILED at {failure}", file=sys.stderr)
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
