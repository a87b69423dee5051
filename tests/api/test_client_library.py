"""The client library (clients/python) against the real local stack: every call's response is also
validated against the served OpenAPI document, and the PII ledger sees what it sends and receives."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from signpost_client import ProblemError, SignpostClient, dev_token

from tests.api.conftest import CAMDEN, HACKNEY, LEDGER, ROYAL_FREE, Persona, fictional_identity, review_by
from tests.support.stack import LocalStack

pytestmark = pytest.mark.api


@pytest.fixture
def connect(
    local_stack: LocalStack, request: pytest.FixtureRequest
) -> Iterator[Callable[[Persona], SignpostClient]]:
    """A client per persona, over an httpx client whose every exchange is checked and recorded."""
    test = request.node.nodeid
    conformance = local_stack.conformance
    assert conformance is not None

    def check(response: httpx.Response) -> None:
        response.read()
        sent = response.request
        if sent.content:
            LEDGER.add_identity_values(test, json.loads(sent.content))
        if response.status_code >= 400:
            LEDGER.add_output(test, "error_body", response.text)
        conformance.check(
            sent.method,
            str(sent.url),
            dict(sent.headers),
            sent.content,
            response.status_code,
            dict(response.headers),
            response.content,
        )

    http = httpx.Client(event_hooks={"response": [check]}, timeout=30)

    def make(persona: Persona) -> SignpostClient:
        return SignpostClient(local_stack.url, dev_token(local_stack.url, *persona), http=http, max_wait=2)

    yield make
    http.close()


def child() -> dict[str, object]:
    return {**fictional_identity(), "categories": ["child_in_need"], "review_by": review_by()}


def test_service_endpoints(connect: Callable[[Persona], SignpostClient]) -> None:
    api = connect(CAMDEN)
    assert api.health() == {"status": "ok"}
    assert api.openapi_document()["paths"]["/v1/children"]["post"]["operationId"] == "registerChild"


def test_register_retry_and_duplicate(connect: Callable[[Persona], SignpostClient]) -> None:
    camden, hackney = connect(CAMDEN), connect(HACKNEY)
    amelia = child()
    created = camden.register_child(amelia, idempotency_key="client-test-0001")  # type: ignore[arg-type]
    assert created["status"] == "active"
    again = camden.register_child(amelia, idempotency_key="client-test-0001")  # type: ignore[arg-type]
    assert again == created  # the retry answered the first response: one record

    with pytest.raises(ProblemError) as duplicate:
        hackney.register_child(amelia)  # type: ignore[arg-type]
    assert duplicate.value.status == 409
    assert duplicate.value.title == "Conflict"
    assert [s["organisation"]["code"] for s in duplicate.value.signposts] == ["E09000007"]


def test_search_and_the_access_log(connect: Callable[[Persona], SignpostClient]) -> None:
    camden, nurse = connect(CAMDEN), connect(ROYAL_FREE)
    amelia = child()
    child_id = camden.register_child(amelia)["child_id"]  # type: ignore[arg-type]
    query = {k: amelia[k] for k in ("given_names", "family_name", "date_of_birth")}
    found = nurse.search({**query, "reason": "emergency_care"})  # type: ignore[typeddict-item]
    assert found["outcome"] == "match"
    assert found["signposts"][0]["organisation"]["code"] == "E09000007"
    actions = [entry["action"] for entry in camden.iter_access_log(child_id)]
    assert actions[0] == "search"
    assert "register" in actions


def test_a_move_between_authorities(connect: Callable[[Persona], SignpostClient]) -> None:
    camden, hackney = connect(CAMDEN), connect(HACKNEY)
    child_id = camden.register_child(child())["child_id"]  # type: ignore[arg-type]
    transfer = camden.request_transfer(child_id, "E09000012", "family_moved", dt.date.today().isoformat())
    assert transfer["status"] == "requested"
    incoming = hackney.list_transfers("incoming", status="requested")
    assert transfer["transfer_id"] in [t["transfer_id"] for t in incoming["items"]]
    hackney.acknowledge_transfer(transfer["transfer_id"])
    assert hackney.accept_transfer(transfer["transfer_id"])["status"] == "accepted"

    assert hackney.get_child(child_id)["organisation"]["code"] == "E09000012"
    with pytest.raises(ProblemError) as gone:
        camden.get_child(child_id)
    assert gone.value.status == 404
    told = [n for n in camden.iter_notifications() if n.get("transfer_id") == transfer["transfer_id"]]
    assert {n["type"] for n in told} >= {"transfer_accepted"}
    assert camden.mark_notification_read(told[0]["id"])["read"] is True


def test_an_invalid_request_names_the_field(connect: Callable[[Persona], SignpostClient]) -> None:
    with pytest.raises(ProblemError) as invalid:
        connect(CAMDEN).register_child({**child(), "date_of_birth": "31/12/2015"})  # type: ignore[arg-type]
    assert invalid.value.status == 400
    assert invalid.value.errors == [{"field": "date_of_birth", "message": "must be a date: use YYYY-MM-DD"}]
