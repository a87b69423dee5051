"""Idempotency-Key semantics (after Powertools' idempotency utility, with the action's own
transaction storing the response): a key is claimed (INPROGRESS) before the action runs, the
action's commit turns the claim into the stored response, and a failure releases it."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import Conflict, InProgress
from signpost.logic import records
from signpost.logic.idempotency import idempotency_request
from signpost.models.children import RegisterRequest
from signpost.models.domain import StoredResponse

from tests.unit.logic.conftest import AMELIA, CAMDEN, HACKNEY, OLIVER, register_body
from tests.unit.logic.fakes import make_services

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def _register(services, who=CAMDEN, identity=AMELIA, key="key-1"):
    body = register_body(identity)
    idem = idempotency_request(who, key, "register", body)
    return records.register(services, who, RegisterRequest.model_validate(body), idem)


def _all_actions(store) -> list[str]:
    return [e.action for chain in store.audit.chains.values() for e in chain]


def test_idempotency_gaps_an_expired_key_not_yet_deleted_by_ttl_is_a_new_request_not_a_500():
    services, store, _, _ = make_services(NOW)
    first = _register(services)
    stored = store.idempotency.items[next(iter(store.idempotency.items))]
    # A day and a bit later: past `expiration`, but DynamoDB's TTL deletes lazily (up to days).
    later = NOW + dt.timedelta(seconds=services.settings.idempotency_ttl_seconds + 60)
    services.now = lambda: later
    assert stored.expiration < later.timestamp()
    again = _register(services, identity=OLIVER)  # the same key, reused after it expired
    assert again.status == 201
    assert not again.replayed
    assert again.body["child_id"] != first.body["child_id"]
    assert len(store.records.children) == 2


def _in_flight(store, rival):
    """Run `rival` (expecting a Conflict) while the first request is between claim and commit;
    the Conflicts it raised are collected in the list returned."""
    real_commit = store.commit
    seen: list[Conflict] = []

    def commit_with_a_rival_in_flight(changes):
        if changes.idempotency is not None and not seen:
            with pytest.raises(Conflict) as refused:
                rival()
            seen.append(refused.value)
        return real_commit(changes)

    store.commit = commit_with_a_rival_in_flight
    return seen


def test_idempotency_gaps_a_retry_while_the_first_is_in_flight_gets_409_in_progress_and_no_audit():
    services, store, _, _ = make_services(NOW)
    retried = _in_flight(store, lambda: _register(services))  # the client's retry, before the commit
    first = _register(services)
    [busy] = retried
    assert isinstance(busy, InProgress)
    assert busy.status == 409
    assert 1 <= busy.retry_after <= services.settings.idempotency_in_progress_seconds
    assert _all_actions(store) == ["register"], "the retry left no register_duplicate entry"
    assert store.outbox == []
    # Once the first has committed, the retry gets its response.
    again = _register(services)
    assert again.replayed
    assert again.body == first.body
    assert _all_actions(store) == ["register"]


def test_idempotency_gaps_a_retry_of_a_duplicate_after_the_first_finished_replays_nothing_stale():
    """A 409 is not stored (as in Powertools): the key is released, and a retry runs again."""
    services, store, _, _ = make_services(NOW)
    _register(services, key=None)
    for _ in range(2):
        with pytest.raises(Conflict):
            _register(services, who=HACKNEY, key="hackney-1")
    assert not [s for s in store.idempotency.items.values() if s.state == "INPROGRESS"]
    assert _all_actions(store).count("register_duplicate") == 2


def test_idempotency_gaps_a_claim_abandoned_by_a_crashed_request_lapses():
    services, store, _, _ = make_services(NOW)
    idem = idempotency_request(CAMDEN, "key-1", "register", register_body(AMELIA))
    assert idem is not None
    store.idempotency.items[idem.scoped_key] = StoredResponse(
        key=idem.scoped_key,
        request_hash=idem.request_hash,
        status=0,
        body={},
        expiration=int(NOW.timestamp()) + 86_400,
        state="INPROGRESS",
        in_progress_expiration=int(NOW.timestamp() * 1000) + 5_000,
        claim="a-request-that-died",
    )
    with pytest.raises(InProgress) as busy:
        _register(services)
    assert busy.value.retry_after == 1
    services.now = lambda: NOW + dt.timedelta(seconds=6)
    assert _register(services).status == 201


def test_idempotency_gaps_the_same_key_with_another_body_while_in_flight_is_409_not_in_progress():
    services, store, _, _ = make_services(NOW)
    seen = _in_flight(store, lambda: _register(services, identity=OLIVER))
    _register(services)
    [refused] = seen
    assert not isinstance(refused, InProgress)
    assert "different request" in (refused.detail or "")
