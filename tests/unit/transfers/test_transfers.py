"""The transfer workflow with the store faked: who may do what, the state machine, clocks,
responsibility moving in one commit, and retries after a lost race."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import BadRequest, Conflict, Forbidden, NotFound
from signpost.logic import records, search, transfers
from signpost.logic.idempotency import idempotency_request
from signpost.models.children import CloseRequest, RegisterRequest, UpdateRequest
from signpost.models.organisation import Organisation
from signpost.models.search import SearchRequest
from signpost.models.transfers import DeclineRequest, Direction, TransferRequest, TransferStatus

from tests.unit.logic.conftest import AMELIA, CAMDEN, HACKNEY, OLIVER, ROYAL_FREE, caller, search_body
from tests.unit.logic.fakes import make_services
from tests.unit.transfers.fakes import FakeTransfers

BIRMINGHAM = caller("E08000025", "la_practitioner", "brum-sw-1")
HACKNEY_MANAGER = caller("E09000012", "la_manager", "hackney-mgr-1")
FRIDAY = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    services, store, _, _ = make_services(FRIDAY)
    return services, store, FakeTransfers(store)


def register(services, identity=AMELIA, by=CAMDEN) -> str:
    review_by = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    body = {**identity, "categories": ["child_protection_plan"], "review_by": review_by}
    return records.register(services, by, RegisterRequest.model_validate(body), None).body["child_id"]


def request_body(to_org: str = "E09000012", **extra) -> TransferRequest:
    return TransferRequest.model_validate(
        {"to_org": to_org, "reason": "family_moved", "move_date": dt.date.today().isoformat(), **extra}
    )


def ask(services, child_id, by=CAMDEN, to_org="E09000012", key=None):
    body = request_body(to_org)
    idem = idempotency_request(by, key, f"transfer:{child_id}", body.model_dump(mode="json"))
    return transfers.request_transfer(services, by, child_id, body, idem)


def test_request_opens_a_transfer_with_its_clocks_notice_and_audit_in_one_commit(env):
    services, store, _ = env
    child_id = register(services)
    commits = store.commits
    result = ask(services, child_id)
    assert result.status == 201
    body = result.body
    assert body["status"] == "requested"
    assert body["from_org"] == "E09000007"
    assert body["to_org"] == "E09000012"
    # Friday 27 November 2026: the next working day, and the 15th (no bank holiday between).
    assert body["acknowledge_by"] == "2026-11-30"
    assert body["decide_by"] == "2026-12-18"
    assert body["overdue"] is False
    assert store.commits == commits + 1
    record = store.records.children[child_id]
    assert record.org == "E09000007", "responsibility does not move until accepted"
    assert record.transfer == {
        "transfer_id": body["transfer_id"],
        "to_org": "E09000012",
        "status": "requested",
        "requested_on": "2026-11-27",
    }
    [intent] = [i for i in store.outbox if i.type == "transfer_requested"]
    assert (intent.to_org, intent.from_org, intent.child_id) == ("E09000012", "E09000007", child_id)
    assert intent.transfer_id == body["transfer_id"]
    assert store.audit.chains[f"CHILD#{child_id}"][-1].action == "transfer_requested"
    live = {name for (tid, name) in store.transfer_items.live if tid == body["transfer_id"]}
    assert live == {"acknowledge", "decide"}


def test_only_the_responsible_la_may_request_and_others_see_404(env):
    services, store, _ = env
    child_id = register(services)
    with pytest.raises(Forbidden):
        ask(services, child_id, by=ROYAL_FREE)
    with pytest.raises(NotFound):
        ask(services, child_id, by=HACKNEY, to_org="E08000025")
    with pytest.raises(NotFound):
        ask(services, "no-such-child")
    assert not store.transfer_items.transfers


@pytest.mark.parametrize(
    ("to_org", "why"),
    [
        ("RAL", "must be an active local authority"),  # a health trust
        ("E23000001", "must be an active local authority"),  # police
        ("E99999999", "must be an active local authority"),  # not in the directory
        ("E09000007", "must be another organisation"),  # itself
        ("E08000025", "must be an active local authority"),  # deactivated below
    ],
)
def test_receiver_must_be_another_active_local_authority(env, to_org, why):
    services, store, _ = env
    brum = store.directory.orgs["E08000025"]
    store.directory.orgs["E08000025"] = Organisation.model_validate({**brum.model_dump(), "active": False})
    child_id = register(services)
    with pytest.raises(BadRequest) as refused:
        ask(services, child_id, to_org=to_org)
    assert refused.value.errors == [{"field": "to_org", "message": why}]
    assert store.records.children[child_id].transfer is None


def test_one_open_transfer_per_child_and_none_for_a_closed_record(env):
    services, store, _ = env
    child_id = register(services)
    ask(services, child_id)
    with pytest.raises(Conflict):
        ask(services, child_id, to_org="E08000025")
    other = register(services, OLIVER)
    records.close_child(services, CAMDEN, other, CloseRequest(reason="plan_ended"))
    with pytest.raises(Conflict):
        ask(services, other)
    assert len(store.transfer_items.transfers) == 1


def test_idempotency_key_replays_the_request(env):
    services, store, _ = env
    child_id = register(services)
    first = ask(services, child_id, key="move-1")
    again = ask(services, child_id, key="move-1")
    assert again.replayed
    assert again.body == first.body
    assert len(store.transfer_items.transfers) == 1


def test_while_open_a_match_lists_both_organisations_responsible_first(env):
    services, _, _ = env
    register(services)
    ask(services, register(services, OLIVER))
    request = SearchRequest.model_validate(search_body(OLIVER))
    result = search.search(services, ROYAL_FREE, request)
    assert result.outcome == "match"
    assert [s.organisation.code for s in result.signposts] == ["E09000007", "E09000012"]


def test_acknowledge_is_for_the_receiving_la_only(env):
    services, store, repo = env
    transfer_id = ask(services, register(services)).body["transfer_id"]
    for other in (CAMDEN, BIRMINGHAM):
        with pytest.raises(NotFound):
            transfers.acknowledge(services, repo, other, transfer_id)
    with pytest.raises(Forbidden):
        transfers.acknowledge(services, repo, ROYAL_FREE, transfer_id)
    with pytest.raises(NotFound):
        transfers.acknowledge(services, repo, HACKNEY, "no-such-transfer")
    view = transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    assert view.status == "acknowledged"
    assert view.acknowledged_at == FRIDAY
    [intent] = [i for i in store.outbox if i.type == "transfer_acknowledged"]
    assert (intent.to_org, intent.from_org) == ("E09000007", "E09000012")
    assert (transfer_id, "acknowledge") not in store.transfer_items.live
    assert (transfer_id, "decide") in store.transfer_items.live
    child = store.records.children[view.child_id]
    assert child.transfer is not None
    assert child.transfer["status"] == "acknowledged"
    # Re-sent: the first response again, nothing written (API.md).
    commits = store.commits
    assert transfers.acknowledge(services, repo, HACKNEY, transfer_id) == view
    assert store.commits == commits


def test_accept_moves_responsibility_in_one_commit(env):
    services, store, repo = env
    child_id = register(services)
    records.update_child(
        services,
        CAMDEN,
        child_id,
        UpdateRequest.model_validate(
            {"contact": {"team": "Camden CP team", "phone": "020 7974 0000", "email": "cp@camden.gov.uk"}}
        ),
    )
    transfer_id = ask(services, child_id).body["transfer_id"]
    transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    accept_day = FRIDAY + dt.timedelta(days=3)
    services.now = lambda: accept_day
    commits, intents = store.commits, len(store.outbox)

    view = transfers.accept(services, repo, HACKNEY_MANAGER, transfer_id)

    assert store.commits == commits + 1, "record, transfer, clocks, audit and intent: one commit"
    assert view.status == "accepted"
    assert view.decided_at == accept_day
    record = store.records.children[child_id]
    assert record.org == "E09000012"
    assert record.since == dt.date(2026, 11, 30)
    assert record.transfer is None
    assert record.contact is None, "Camden's team contact must not signpost Hackney"
    with pytest.raises(NotFound):
        records.get_child(services, CAMDEN, child_id)
    assert records.get_child(services, HACKNEY, child_id).organisation.code == "E09000012"
    [intent] = store.outbox[intents:]
    assert (intent.type, intent.to_org, intent.from_org) == ("transfer_accepted", "E09000007", "E09000012")
    assert [e.action for e in store.audit.chains[f"CHILD#{child_id}"]][-2:] == ["transfer_accepted", "view"]
    assert not {k for k in store.transfer_items.live if k[0] == transfer_id}
    result = search.search(services, ROYAL_FREE, SearchRequest.model_validate(search_body(AMELIA)))
    [signpost] = result.signposts
    assert signpost.organisation.code == "E09000012"
    assert signpost.contact.team == store.directory.orgs["E09000012"].contact.team
    assert transfers.accept(services, repo, HACKNEY, transfer_id) == view  # re-sent: the first response
    with pytest.raises(Conflict):
        transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    with pytest.raises(Conflict):
        transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="other"))


def test_accept_straight_from_requested_stops_both_clocks(env):
    services, store, repo = env
    transfer_id = ask(services, register(services)).body["transfer_id"]
    transfers.accept(services, repo, HACKNEY, transfer_id)
    assert not {k for k in store.transfer_items.live if k[0] == transfer_id}


def test_decline_leaves_responsibility_and_allows_a_new_request(env):
    services, store, repo = env
    child_id = register(services)
    transfer_id = ask(services, child_id).body["transfer_id"]
    with pytest.raises(NotFound):
        transfers.decline(services, repo, CAMDEN, transfer_id, DeclineRequest(reason="other"))
    view = transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="not_resident"))
    assert view.status == "declined"
    assert view.decline_reason == "not_resident"
    record = store.records.children[child_id]
    assert record.org == "E09000007"
    assert record.transfer is None
    [intent] = [i for i in store.outbox if i.type == "transfer_declined"]
    assert intent.to_org == "E09000007"
    assert store.audit.chains[f"CHILD#{child_id}"][-1].reason == "not_resident"
    assert ask(services, child_id, to_org="E08000025").status == 201


def test_accept_or_decline_after_the_record_was_closed_is_refused_closing_withdrew_it(env):
    services, store, repo = env
    child_id = register(services)
    transfer_id = ask(services, child_id).body["transfer_id"]
    records.close_child(services, CAMDEN, child_id, CloseRequest(reason="moved_abroad"))
    with pytest.raises(Conflict):
        transfers.accept(services, repo, HACKNEY, transfer_id)
    assert store.records.children[child_id].org == "E09000007"
    with pytest.raises(Conflict):
        transfers.decline(services, repo, HACKNEY, transfer_id, DeclineRequest(reason="not_resident"))
    assert repo.get(transfer_id).status == "withdrawn"


def test_a_conflict_in_the_middle_of_accept_is_retried_and_committed_once(env):
    services, store, repo = env
    child_id = register(services)
    transfer_id = ask(services, child_id).body["transfer_id"]
    intents = len(store.outbox)
    store.fail_next = {"version"}  # e.g. a TransactionConflict with a concurrent write
    transfers.accept(services, repo, HACKNEY, transfer_id)
    assert store.records.children[child_id].org == "E09000012"
    assert [i.type for i in store.outbox[intents:]] == ["transfer_accepted"]


def test_a_concurrent_update_between_read_and_commit_is_kept(env):
    """Camden corrects the record while Hackney's accept is in flight: the accept re-reads and
    commits on top of the correction; nothing is lost and nothing is done twice."""
    services, store, repo = env
    child_id = register(services)
    transfer_id = ask(services, child_id).body["transfer_id"]
    real_commit = store.commit
    raced = []

    def commit_after_a_concurrent_patch(changes):
        if changes.put_transfers and not raced:
            raced.append(True)
            records.update_child(
                services, CAMDEN, child_id, UpdateRequest.model_validate({"categories": ["looked_after"]})
            )
        real_commit(changes)

    store.commit = commit_after_a_concurrent_patch
    intents = len(store.outbox)
    transfers.accept(services, repo, HACKNEY, transfer_id)
    record = store.records.children[child_id]
    assert record.org == "E09000012"
    assert record.categories == ["looked_after"]
    assert [i.type for i in store.outbox[intents:]] == ["transfer_accepted"]
    assert store.transfer_items.transfers[transfer_id].status == TransferStatus.ACCEPTED


def test_listing_by_direction_and_status_with_pages(env):
    services, _, repo = env
    ids = []
    for i, identity in enumerate(
        (AMELIA, OLIVER, {**OLIVER, "given_names": "Olive", "date_of_birth": "2013-01-02"})
    ):
        services.now = lambda i=i: FRIDAY + dt.timedelta(minutes=i)
        ids.append(ask(services, register(services, identity)).body["transfer_id"])
    transfers.decline(services, repo, HACKNEY, ids[0], DeclineRequest(reason="other"))

    def listing(by, direction, status=None, limit=50, after=None):
        return transfers.list_transfers(
            services, repo, by, direction=direction, status=status, limit=limit, after=after
        )

    incoming, _ = listing(HACKNEY, Direction.INCOMING)
    assert [t.transfer_id for t in incoming] == ids[::-1], "newest first"
    outgoing, _ = listing(CAMDEN, Direction.OUTGOING, TransferStatus.REQUESTED)
    assert [t.transfer_id for t in outgoing] == [ids[2], ids[1]]
    assert listing(CAMDEN, Direction.INCOMING)[0] == []
    first, cursor = listing(HACKNEY, Direction.INCOMING, limit=2)
    second, end = listing(HACKNEY, Direction.INCOMING, limit=2, after=cursor)
    assert [t.transfer_id for t in first + second] == ids[::-1]
    assert end is None
    with pytest.raises(Forbidden):
        listing(ROYAL_FREE, Direction.INCOMING)


def test_overdue_flag_follows_the_clocks(env):
    services, _, repo = env
    transfer_id = ask(services, register(services)).body["transfer_id"]
    services.now = lambda: dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # after acknowledge_by
    [view] = transfers.list_transfers(
        services, repo, HACKNEY, direction=Direction.INCOMING, status=None, limit=10, after=None
    )[0]
    assert view.overdue
    view = transfers.acknowledge(services, repo, HACKNEY, transfer_id)
    assert not view.overdue, "acknowledged, and decide_by (18 December) has not passed"
