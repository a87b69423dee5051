"""The post-deployment smoke test (scripts/smoke_test.py) against the local stack over HTTP, with a
client-credentials token endpoint standing in for the environment's identity provider."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from signpost.models.identity import nhs_number_is_valid

from infrastructure.local.aws import load_seed
from scripts import smoke_test
from tests.support.stack import LocalStack

pytestmark = pytest.mark.api

SMOKE_FILE = Path(__file__).resolve().parents[2] / "infrastructure" / "directory" / "smoke.json"
CLIENT_ID, CLIENT_SECRET = "signpost-smoke", "s3cret-for-tests"


@pytest.fixture(scope="module")
def token_url(local_stack: LocalStack) -> Iterator[str]:
    local_stack.aws.seed(load_seed(SMOKE_FILE))
    issuer = local_stack.aws.tokens

    class TokenEndpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if (
                form.get("grant_type") != ["client_credentials"]
                or self.headers.get("Authorization") != expected
            ):
                self.send_response(401)
                self.end_headers()
                return
            body = json.dumps(
                {"access_token": issuer.issue_token("SIGNPOST-SMOKE", "la_practitioner", CLIENT_ID)}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/token"
    server.shutdown()
    thread.join()


def _env(token_url: str, secret: str = CLIENT_SECRET) -> dict[str, str]:
    return {"SMOKE_TOKEN_URL": token_url, "SMOKE_CLIENT_ID": CLIENT_ID, "SMOKE_CLIENT_SECRET": secret}


def test_the_smoke_test_passes_on_a_working_stack(local_stack: LocalStack, token_url: str) -> None:
    lines: list[str] = []
    child_id = smoke_test.run(
        local_stack.url, _env(token_url), smoke_test.verify_with_admin(None), lines.append
    )
    assert lines == [
        "health: 200", "register: 201", "search: 200", "access log: 200", "close: 200", "audit chain: intact",
    ]  # fmt: skip
    auditor = local_stack.token("NATIONAL", "auditor", "auditor-1")
    log = local_stack.request("GET", f"/v1/children/{child_id}/access-log", token=auditor).json()
    assert [e["action"] for e in log["items"]][:1] == ["close"]  # the synthetic child is closed


def test_a_refused_token_fails_the_smoke_test(local_stack: LocalStack, token_url: str) -> None:
    with pytest.raises(smoke_test.SmokeFailed, match="token: the identity provider refused"):
        smoke_test.run(local_stack.url, _env(token_url, secret="wrong"), None, lambda _: None)


def test_a_failed_audit_check_fails_and_still_closes_the_child(
    local_stack: LocalStack, token_url: str
) -> None:
    lines: list[str] = []
    with pytest.raises(smoke_test.SmokeFailed, match="audit"):
        smoke_test.run(local_stack.url, _env(token_url), lambda child_id: False, lines.append)
    assert "close: 200" in lines


def test_main_exits_non_zero_without_credentials(
    local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SMOKE_TOKEN_URL", "SMOKE_CLIENT_ID", "SMOKE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert smoke_test.main(["--api-url", local_stack.url, "--no-verify-audit"]) == 1


def test_synthetic_nhs_numbers_are_valid_and_in_the_test_range() -> None:
    rng = secrets.SystemRandom()
    for _ in range(50):
        number = smoke_test.test_nhs_number(rng)
        assert number.startswith("999")
        assert len(number) == 10
        assert nhs_number_is_valid(number)
