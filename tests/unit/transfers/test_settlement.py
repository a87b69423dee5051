"""Transfers and closure: closing a record settles its open transfer in the same transaction;
the sending organisation may withdraw an open transfer; re-sending any transfer action for a
transfer already in that state answers the first response again (API.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import Conflict, Forbidden, NotFound
from signpost.logic import records, search, transfers
from signpost.models.children import CloseRequest
from signpost.models.search import SearchRequest
from signpost.models.transfers import DeclineRequest

from tests.unit.logic.conftest import AMELIA, CAMDEN, HACKNEY, ROYAL_FREE, search_body
from tests.unit.logic.fakes import make_services
from tests.unit.transfers.fakes import FakeTransfers
from tests.unit.transfers.test_transfers import BIRMINGHAM, FRIDAY, HACKNEY_MANAGER, ask, register


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    services, store, _, _ = make_services(FRIDAY)
    return services, store, FakeTransfers(store)


def _open(services) -> tuple[str, str]:
    child_id = register(services)
    return child_id, ask(services, child_id).body["transfer_id"]


def _types(store, since: int = 0) -> list[tuple[str, str]]:
    return [(i.type, i.to_org) for i in store.outbox[since:]]


def test_transfers_and_closure_closing_a_record_withdraws_its_open_transfer_in_the_same_commit(env):
    services, store, repo = env
    child_id, transfer_id = _open(services)
    commits, intents = store.commits, len(store.outbox)
    closed = records.close_child(services, CAMDEN, child_id, CloseRequest(reason="moved_abroad"))
    assert closed.status == "closed"
    assert store.commits == commits + 1, "record, transfer, clocks, audit and notice: one commit"
    transfer = repo.get(transfer_id)
    assert transfer is not None
    assert transfer.status == "withdrawn"
    assert transfer.withdrawn_at == FRIDAY
    assert store.records.children[child_id].transfer is None
    assert not {k for k in store.transfer_items.live if k[0] == transfer_id}, "its clocks stopped"
    assert _types(store, intents) == [("transfer_withdrawn", "E09000012")]
    assert [e.action for e in store.audit.chains[f"CHILD#{child_id}"]][-2:] == ["close", "transfer_withdrawn"]
    # The receiving LA can no longer accept it, and searches no longer list it.
    with pytest.raises(Conflict):
        transfers.accept(services, repo, HACKNEY, transfer_id)
    result = search.search(services, ROYAL_FREE, SearchRequest.model_validate(search_body(AMELIA)))
    assert [s.organisation.code for s in result.signposts] == ["E09000007"]


def test_transfers_and_closure_a_record_without_an_open_transfer_closes_as_before(env):
    services, store, repo = env
    child_id, transfer_id = _open(services)
    transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="not_resident"))
    intents = len(store.outbox)
    records.close_child(services, CAMDEN, child_id, CloseRequest(reason="plan_ended"))
    assert repo.get(transfer_id).status == "declined"
    assert _types(store, intents) == []


def test_transfers_and_closure_the_sending_la_withdraws_an_open_transfer(env):
    services, store, repo = env
    child_id, transfer_id = _open(services)
    transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    commits, intents = store.commits, len(store.outbox)
    view = transfers.withdraw(services, repo, CAMDEN, transfer_id)
    assert store.commits == commits + 1
    assert view.status == "withdrawn"
    assert view.withdrawn_at == FRIDAY
    assert _types(store, intents) == [("transfer_withdrawn", "E09000012")]
    assert store.outbox[-1].from_org == "E09000007"
    record = store.records.children[child_id]
    assert (record.org, record.transfer, record.status) == ("E09000007", None, "active")
    assert not {k for k in store.transfer_items.live if k[0] == transfer_id}
    assert store.audit.chains[f"CHILD#{child_id}"][-1].action == "transfer_withdrawn"
    with pytest.raises(Conflict):
        transfers.accept(services, repo, HACKNEY, transfer_id)
    assert ask(services, child_id, to_org="E08000025").status == 201, "a new transfer may be asked"


def test_transfers_and_closure_only_the_sending_la_may_withdraw(env):
    services, _, repo = env
    _, transfer_id = _open(services)
    for other in (HACKNEY, HACKNEY_MANAGER, BIRMINGHAM):
        with pytest.raises(NotFound):
            transfers.withdraw(services, repo, other, transfer_id)
    with pytest.raises(Forbidden):
        transfers.withdraw(services, repo, ROYAL_FREE, transfer_id)
    with pytest.raises(NotFound):
        transfers.withdraw(services, repo, CAMDEN, "no-such-transfer")
    assert repo.get(transfer_id).status == "requested"


def test_transfers_and_closure_a_decided_transfer_cannot_be_withdrawn(env):
    services, _, repo = env
    _, transfer_id = _open(services)
    transfers.accept(services, repo, HACKNEY, transfer_id)
    with pytest.raises(Conflict):
        transfers.withdraw(services, repo, CAMDEN, transfer_id)
    assert repo.get(transfer_id).status == "accepted"


@pytest.mark.parametrize("action", ["acknowledge", "accept", "decline", "withdraw"])
def test_idempotency_gaps_resending_a_transfer_action_answers_the_first_response_again(env, action):
    services, store, repo = env
    _, transfer_id = _open(services)
    reason = DeclineRequest(reason="not_resident")
    send = {
        "acknowledge": lambda: transfers.acknowledge(services, repo, HACKNEY, transfer_id),
        "accept": lambda: transfers.accept(services, repo, HACKNEY, transfer_id),
        "decline": lambda: transfers.decline(services, repo, HACKNEY, transfer_id, reason),
        "withdraw": lambda: transfers.withdraw(services, repo, CAMDEN, transfer_id),
    }[action]
    first = send()
    commits, intents, audit = store.commits, len(store.outbox), len(store.audit.chains)
    services.now = lambda: FRIDAY + dt.timedelta(days=30)  # long after: the decide clock has passed
    again = send()
    assert again.model_dump() == first.model_dump()
    assert (store.commits, len(store.outbox), len(store.audit.chains)) == (commits, intents, audit)


def test_idempotency_gaps_a_resent_decline_with_another_reason_is_a_conflict(env):
    services, _, repo = env
    _, transfer_id = _open(services)
    transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="not_resident"))
    with pytest.raises(Conflict):
        transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="other"))


def test_idempotency_gaps_an_action_for_a_transfer_in_another_state_is_still_a_conflict(env):
    services, _, repo = env
    _, transfer_id = _open(services)
    transfers.accept(services, repo, HACKNEY, transfer_id)
    with pytest.raises(Conflict):
        transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    with pytest.raises(Conflict):
        transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="other"))
