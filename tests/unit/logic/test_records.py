"""Register / read / update / close, with the store and KMS faked."""

from __future__ import annotations

import pytest
from signpost.errors import BadRequest, Conflict, Forbidden, NotFound
from signpost.logic import records
from signpost.logic.idempotency import idempotency_request
from signpost.matching.key_scheme import KEY_SCHEME_VERSION
from signpost.models.children import CloseRequest, RegisterRequest, UpdateRequest

from tests.unit.logic.conftest import (
    AMELIA,
    CAMDEN,
    CAMDEN_MANAGER,
    HACKNEY,
    OLIVER,
    ROYAL_FREE,
    register_body,
)


def _register(services, caller=CAMDEN, identity=AMELIA, key=None, **extra):
    body = register_body(identity, **extra)
    idem = idempotency_request(caller, key, "register", body)
    return records.register(services, caller, RegisterRequest.model_validate(body), idem)


def test_register_stores_identity_only_as_ciphertext(env):
    services, store, _, _ = env
    result = _register(services)
    assert result.status == 201
    record = store.records.children[result.body["child_id"]]
    assert record.org == "E09000007"
    blob = record.identity
    for value in ("Amélia", "O'Connor-Smith", "9434765919", "NW1 2AB", "2015-03-14"):
        assert value.encode() not in blob
    assert store.records.blocks_of(record.child_id), "blind indexes are written with the record"
    assert store.records.blocks_of(record.child_id) == {b for ids in record.blocks.values() for b in ids}
    assert [e.action for e in store.audit.chains[f"CHILD#{record.child_id}"]] == ["register"]


def test_health_may_not_register(env):
    services, store, _, _ = env
    with pytest.raises(Forbidden):
        _register(services, caller=ROYAL_FREE)
    assert store.commits == 0


def test_practitioner_may_not_set_shielding_but_a_manager_may(env):
    services, store, _, _ = env
    with pytest.raises(Forbidden):
        _register(services, shielding={"reason": "adoption"})
    assert store.commits == 0
    result = _register(services, caller=CAMDEN_MANAGER, shielding={"reason": "adoption"})
    assert store.records.children[result.body["child_id"]].shielding == "adoption"


def test_duplicate_registration_anywhere_is_409_with_the_existing_signpost(env):
    services, store, _, _ = env
    _register(services)
    commits = store.commits
    spaced = {**AMELIA, "given_names": "  amelia ", "family_name": "O CONNOR SMITH"}
    with pytest.raises(Conflict) as exc:
        _register(services, caller=HACKNEY, identity=spaced)
    signposts = exc.value.extra["signposts"]
    assert len(signposts) == 1
    assert signposts[0]["organisation"]["code"] == "E09000007"
    # No second record; but the 409 revealed a signpost, so it is audited and Camden is told.
    assert len(store.records.children) == 1
    assert store.commits == commits + 1
    [existing] = store.records.children
    assert store.audit.chains[f"CHILD#{existing}"][-1].action == "register_duplicate"
    assert store.audit.chains[f"CHILD#{existing}"][-1].org == "E09000012"
    assert [(i.type, i.to_org, i.from_org) for i in store.outbox] == [
        ("record_viewed", "E09000007", "E09000012"),
        ("seen_in_other_area", "E09000007", "E09000012"),  # Hackney's area is not Camden's
    ]


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(env):
    services, store, _, _ = env
    first = _register(services, key="req-1")
    again = _register(services, key="req-1")
    assert again.replayed
    assert again.body == first.body
    assert again.status == 201
    assert len(store.records.children) == 1
    with pytest.raises(Conflict):
        _register(services, identity=OLIVER, key="req-1")
    assert len(store.records.children) == 1


def test_idempotency_keys_are_scoped_to_the_practitioner(env):
    services, store, _, _ = env
    _register(services, key="same")
    result = _register(services, caller=HACKNEY, identity=OLIVER, key="same")
    assert not result.replayed
    assert len(store.records.children) == 2


def test_another_la_gets_404_for_a_record_it_is_not_responsible_for(env):
    services, _, _, _ = env
    child_id = _register(services).body["child_id"]
    with pytest.raises(NotFound):
        records.get_child(services, HACKNEY, child_id)
    with pytest.raises(NotFound):
        records.get_child(services, CAMDEN, "no-such-child")


def test_read_returns_the_decrypted_identity_and_is_audited(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    view = records.get_child(services, CAMDEN, child_id)
    assert view.given_names == "Amélia"
    assert view.postcode == "NW1 2AB"
    assert view.contact.team.startswith("Camden")
    assert [e.action for e in store.audit.chains[f"CHILD#{child_id}"]] == ["register", "view"]


def test_identity_correction_moves_the_blind_indexes(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    before = store.records.blocks_of(child_id)
    update = UpdateRequest.model_validate({"family_name": "Okafor", "date_of_birth": "2014-01-02"})
    view = records.update_child(services, CAMDEN, child_id, update)
    assert view.family_name == "Okafor"
    after = store.records.blocks_of(child_id)
    assert after != before
    assert after == set(store.records.children[child_id].blocks[str(KEY_SCHEME_VERSION)])
    assert store.records.children[child_id].version == 2


def test_a_required_identity_field_cannot_be_nulled(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    commits = store.commits
    with pytest.raises(BadRequest):
        records.update_child(services, CAMDEN, child_id, UpdateRequest.model_validate({"family_name": None}))
    assert store.commits == commits


def test_shielding_change_needs_a_manager(env):
    services, _, _, _ = env
    child_id = _register(services).body["child_id"]
    with pytest.raises(Forbidden):
        records.update_child(
            services, CAMDEN, child_id, UpdateRequest.model_validate({"shielding": {"reason": "refuge"}})
        )
    view = records.update_child(
        services, CAMDEN_MANAGER, child_id, UpdateRequest.model_validate({"shielding": {"reason": "refuge"}})
    )
    assert view.shielding is not None
    view = records.update_child(
        services, CAMDEN_MANAGER, child_id, UpdateRequest.model_validate({"shielding": None})
    )
    assert view.shielding is None


def test_close_then_register_again_is_allowed(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    closed = records.close_child(services, CAMDEN, child_id, CloseRequest(reason="registered_in_error"))
    assert closed.status == "closed"
    assert store.records.children[child_id].expires_at is not None
    assert not store.nhs_guards
    with pytest.raises(Conflict):
        records.close_child(services, CAMDEN, child_id, CloseRequest(reason="plan_ended"))
    again = _register(services)
    assert again.body["child_id"] != child_id


def test_a_lost_audit_race_is_retried_and_writes_once(env):
    services, store, _, _ = env
    store.fail_next = {"audit_chain"}
    result = _register(services)
    assert result.status == 201
    assert len(store.records.children) == 1
    assert store.commits == 1
