"""Idempotency-Key semantics (after Powertools' idempotency utility, with the action's own
transaction storing the response): a retry gets the first response - also while the first is
still in flight - never a 500, never a spurious duplicate."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import Conflict
from signpost.logic import records, transfers
from signpost.logic.idempotency import idempotency_request
from signpost.models.children import RegisterRequest
from signpost.models.transfers import TransferRequest

from tests.unit.logic.conftest import AMELIA, CAMDEN, HACKNEY, OLIVER, register_body
from tests.unit.logic.fakes import make_services

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def _register(services, who=CAMDEN, identity=AMELIA, key="key-1"):
    body = register_body(identity)
    idem = idempotency_request(who, key, "register", body)
    return records.register(services, who, RegisterRequest.model_validate(body), idem)


def _read_once_before_the_first_commit(store) -> None:
    """The retry's first read of its key happened while the first request was in flight."""
    real_get = store.idempotency.get
    stale = [True]

    def read(key):
        if stale:
            stale.pop()
            return None
        return real_get(key)

    store.idempotency.get = read


def _all_actions(store) -> list[str]:
    return [e.action for chain in store.audit.chains.values() for e in chain]


def test_idempotency_gaps_an_expired_key_not_yet_deleted_by_ttl_is_a_new_request_not_a_500():
    services, store, _, _ = make_services(NOW)
    first = _register(services)
    [stored] = store.idempotency.items.values()
    # A day and a bit later: past `expiration`, but DynamoDB's TTL deletes lazily (up to days).
    later = NOW + dt.timedelta(seconds=services.settings.idempotency_ttl_seconds + 60)
    services.now = lambda: later
    assert stored.expiration < later.timestamp()
    again = _register(services, identity=OLIVER)  # the same key, reused after it expired
    assert again.status == 201
    assert not again.replayed
    assert again.body["child_id"] != first.body["child_id"]
    assert len(store.records.children) == 2
    [stored] = store.idempotency.items.values()
    assert stored.body == again.body


def test_idempotency_gaps_a_retry_that_meets_the_first_requests_record_gets_its_response_not_a_duplicate():
    """The retry read the key before the first request committed, and its lookup after: it finds
    the first request's own child. It answers the first response - no 409, no audit entry."""
    services, store, _, _ = make_services(NOW)
    first = _register(services)
    _read_once_before_the_first_commit(store)
    commits, outbox = store.commits, len(store.outbox)
    again = _register(services)
    assert again.replayed
    assert (again.status, again.body) == (201, first.body)
    assert _all_actions(store) == ["register"], "no register_duplicate for its own record"
    assert (store.commits, len(store.outbox)) == (commits, outbox)


def test_idempotency_gaps_a_retry_that_commits_while_the_first_is_in_flight_answers_one_response():
    """Both run to their commit: one commits, the other fails on the key and replays it."""
    services, store, _, _ = make_services(NOW)
    answers = []
    store.before_next_commit = lambda: answers.append(_register(services))  # the retry, mid-flight
    first = _register(services)
    [retry] = answers
    assert (first.status, first.body) == (retry.status, retry.body)
    assert first.replayed != retry.replayed  # exactly one of them committed
    assert len(store.records.children) == 1
    assert _all_actions(store) == ["register"]


def test_idempotency_gaps_a_refused_request_is_not_stored_and_its_retry_runs_again():
    """A 409 is not stored (as in Powertools): a retry runs again, and reveals again."""
    services, store, _, _ = make_services(NOW)
    _register(services, key=None)
    for _ in range(2):
        with pytest.raises(Conflict):
            _register(services, who=HACKNEY, key="hackney-1")
    assert not store.idempotency.items
    assert _all_actions(store).count("register_duplicate") == 2


def test_idempotency_gaps_the_same_key_with_another_body_is_409():
    services, store, _, _ = make_services(NOW)
    _register(services)
    with pytest.raises(Conflict) as refused:
        _register(services, identity=OLIVER)
    assert "different request" in (refused.value.detail or "")
    assert len(store.records.children) == 1


def test_idempotency_gaps_a_transfer_retry_that_meets_its_own_open_transfer_replays_it():
    """Not a 409 "this child already has an open transfer" about the request's own transfer."""
    services, store, _, _ = make_services(NOW)
    child_id = _register(services, key=None).body["child_id"]
    body = TransferRequest.model_validate(
        {"to_org": "E09000012", "reason": "family_moved", "move_date": NOW.date().isoformat()}
    )
    idem = idempotency_request(CAMDEN, "move-1", f"transfer:{child_id}", body.model_dump(mode="json"))
    first = transfers.request_transfer(services, CAMDEN, child_id, body, idem)
    _read_once_before_the_first_commit(store)
    again = transfers.request_transfer(services, CAMDEN, child_id, body, idem)
    assert again.replayed
    assert (again.status, again.body) == (201, first.body)
