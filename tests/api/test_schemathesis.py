"""Schemathesis against the local stack's own /openapi.json: every operation, positive and
negative examples, each sent with a token of a role allowed to call it. Checks: no 5xx, and
every response conforms to the document (status code, content type, headers, body schema).

Bounded so it finishes in a few minutes on two cores: SCHEMATHESIS_EXAMPLES (default 20) per
operation, no deadline, and the examples are derandomised so a run is reproducible.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.stack import LocalStack

pytestmark = pytest.mark.api

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "20"))
CASES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Who calls each operation: a role allowed to, so the cases reach the handlers' logic
# (API5 proves the refusals). Police are left out: their hourly limit would turn every
# later case into a 429.
CAMDEN = ("E09000007", "la_practitioner", "fuzz-camden")
CAMDEN_MANAGER = ("E09000007", "la_manager", "fuzz-camden-mgr")
HEALTH = ("RAL", "health", "fuzz-health")
ADMIN = ("NATIONAL", "admin", "fuzz-admin")
CALLER = {
    ("GET", "/v1/children/{child_id}/subject-access-report"): CAMDEN_MANAGER,
    ("POST", "/v1/searches/{search_id}/break-glass"): CAMDEN_MANAGER,
    ("PATCH", "/v1/children/{child_id}"): CAMDEN_MANAGER,  # may also change shielding
    ("POST", "/v1/children"): CAMDEN_MANAGER,
    ("POST", "/v1/searches"): HEALTH,
    ("GET", "/v1/organisations/{code}"): HEALTH,
    ("PUT", "/v1/organisations/{code}"): ADMIN,
}


@pytest.fixture(scope="module")
def openapi(local_stack: LocalStack) -> Any:
    return schemathesis.openapi.from_url(f"{local_stack.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("openapi")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_openapi_document(case: Any, local_stack: LocalStack) -> None:
    persona = CALLER.get((case.operation.method.upper(), case.path), CAMDEN)
    headers = {"Authorization": f"Bearer {local_stack.token(*persona)}"}
    if case.path in ("/health", "/openapi.json"):
        headers = {}
    if case.method.upper() != case.operation.method.upper():
        # A method the path does not have (negative testing): API Gateway answers it, not
        # Signpost. The local emulator says 405 (501 for methods http.server has no verb for).
        response = case.call(headers=headers)
        assert response.status_code in (403, 404, 405, 501)
        CASES[f"{case.operation.method.upper()} {case.path}"] += 1
        STATUSES[response.status_code] += 1
        return
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    CASES[f"{case.method.upper()} {case.path}"] += 1
    STATUSES[response.status_code] += 1


def test_schemathesis_ran_every_operation(openapi: Any) -> None:
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in openapi.get_all_operations())}
    assert set(CASES) == operations, operations - set(CASES)
    assert sum(CASES.values()) >= len(operations) * min(EXAMPLES, 5)
    # not_a_server_error fails a case on any 5xx first; 501 is the gateway refusing an unknown method
    assert not [status for status in STATUSES if status >= 500 and status != 501]
    print(
        f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations; statuses {dict(STATUSES)}"
    )
