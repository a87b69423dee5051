"""Existence oracle: every answer that reveals a child is on the index - a 409 on register or
PATCH included - carries its signposts (redacted as in a search), is audited on that child's
chain and is told to the responsible organisation exactly like a search (API.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import Conflict, TooManyRequests
from signpost.logic import access_log, disclosure, records
from signpost.models.children import RegisterRequest, UpdateRequest
from signpost.models.common import Outcome
from signpost.settings import Settings

from tests.unit.logic.conftest import AMELIA, CAMDEN, CAMDEN_MANAGER, HACKNEY, OLIVER, POLICE, register_body
from tests.unit.logic.fakes import make_services
from tests.unit.security.conftest import HACKNEY_MANAGER, register

# A made-up child who happens to carry Amelia's (real) NHS number.
PROBE = {
    "given_names": "Zebedee",
    "family_name": "Quartermaine",
    "date_of_birth": "2010-01-01",
    "nhs_number": AMELIA["nhs_number"],
}


def _probe_register(services, who=HACKNEY, identity=PROBE):
    body = RegisterRequest.model_validate(register_body(identity))
    with pytest.raises(Conflict) as refused:
        records.register(services, who, body, None)
    return refused.value


def _probe_patch(services, child_id, who=HACKNEY):
    with pytest.raises(Conflict) as refused:
        records.update_child(
            services, who, child_id, UpdateRequest.model_validate({"nhs_number": AMELIA["nhs_number"]})
        )
    return refused.value


def _chain(store, child_id):
    return store.audit.chains[f"CHILD#{child_id}"]


def test_existence_oracle_register_with_made_up_identity_and_a_real_nhs_number_is_a_revealing_409(env):
    services, store, _, _ = env
    amelia = register(services)
    refused = _probe_register(services)
    assert refused.status == 409
    [signpost] = refused.extra["signposts"]
    assert signpost["organisation"]["code"] == "E09000007"
    assert signpost["child_id"] == amelia
    # The made-up name and date of birth do not match: shown as a possible match, no categories.
    assert "categories" not in signpost or signpost["categories"] is None
    entry = _chain(store, amelia)[-1]
    assert (entry.action, entry.org, entry.outcome) == ("register_duplicate", "E09000012", "possible_match")
    assert [(i.type, i.to_org, i.from_org, i.child_id) for i in store.outbox] == [
        ("record_viewed", "E09000007", "E09000012", amelia)
    ]
    assert len(store.records.children) == 1


def test_existence_oracle_register_guard_conflict_with_matching_identity_is_a_match_like_a_search(env):
    """The matcher missed it (e.g. a stale index) but the NHS guard holds: revealed as a search would."""
    services, store, _, _ = env
    amelia = register(services)
    for entries in store.records.blocks.values():  # the blind-index blocks do not find the record
        entries.pop(amelia, None)
    refused = _probe_register(services, identity=AMELIA)
    [signpost] = refused.extra["signposts"]
    assert signpost["categories"] == ["child_protection_plan"]
    assert _chain(store, amelia)[-1].outcome == "match"
    assert [i.type for i in store.outbox] == ["record_viewed", "seen_in_other_area"]


def test_existence_oracle_patch_own_record_to_a_real_nhs_number_is_a_signposted_audited_notified_409(env):
    services, store, _, _ = env
    amelia = register(services)
    olivers = register(services, HACKNEY, OLIVER)
    refused = _probe_patch(services, olivers)
    [signpost] = refused.extra["signposts"]
    assert signpost["organisation"]["code"] == "E09000007"
    assert signpost["child_id"] == amelia
    entry = _chain(store, amelia)[-1]
    assert (entry.action, entry.org) == ("update_duplicate", "E09000012")
    assert [(i.type, i.to_org) for i in store.outbox] == [("record_viewed", "E09000007")]
    # Hackney's own record did not change.
    assert store.records.children[olivers].version == 1


def test_existence_oracle_a_shielded_child_is_signposted_as_in_a_search(env):
    services, store, _, _ = env
    amelia = register(services, CAMDEN_MANAGER, shielding={"reason": "refuge"})
    for refused in (_probe_register(services), _probe_patch(services, register(services, HACKNEY, OLIVER))):
        [signpost] = refused.extra["signposts"]
        assert signpost.get("child_id") is None
        assert signpost.get("categories") is None
        assert signpost["contact"]["team"] == "Camden Safeguarding Manager on duty"
    assert [e.action for e in _chain(store, amelia)] == ["register", "register_duplicate", "update_duplicate"]


def test_existence_oracle_repeated_probing_is_visible_in_the_access_log(env):
    services, store, _, _ = env
    amelia = register(services)
    for _ in range(3):
        _probe_register(services)
    probe_from_patch = register(services, HACKNEY, OLIVER)
    _probe_patch(services, probe_from_patch)
    log, _ = access_log.access_log(services, CAMDEN, amelia)
    assert [(i.org, i.action) for i in log.items] == [
        ("E09000012", "update_duplicate"),
        ("E09000012", "register_duplicate"),
        ("E09000012", "register_duplicate"),
        ("E09000012", "register_duplicate"),
        ("E09000007", "register"),
    ]
    assert len([i for i in store.outbox if i.type == "record_viewed" and i.child_id == amelia]) == 4


def test_existence_oracle_an_own_organisation_probe_is_audited_but_not_notified_to_itself(env):
    services, store, _, _ = env
    amelia = register(services)
    _probe_register(services, who=CAMDEN)
    assert _chain(store, amelia)[-1].action == "register_duplicate"
    assert store.outbox == []


def test_existence_oracle_no_audit_without_a_conflict(env):
    """A registration that does not collide reveals nothing and writes no duplicate entry."""
    services, store, _, _ = env
    amelia = register(services)
    register(services, HACKNEY, OLIVER)
    assert [e.action for e in _chain(store, amelia)] == ["register"]
    assert store.outbox == []


def test_existence_oracle_reveal_counts_against_the_police_limit_like_a_search():
    """The shared reveal helper applies the same limit as a search (police: N an hour)."""
    services, store, _, _ = make_services(dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC))
    services.settings = Settings(POLICE_SEARCHES_PER_HOUR=2)
    amelia = register(services)
    record = store.records.children[amelia]
    for _ in range(2):
        disclosure.reveal_existing(services, POLICE, [record], Outcome.MATCH, action="register_duplicate")
    with pytest.raises(TooManyRequests) as refused:
        disclosure.reveal_existing(services, POLICE, [record], Outcome.MATCH, action="register_duplicate")
    assert refused.value.retry_after > 0
    assert [e.action for e in _chain(store, amelia)] == [
        "register",
        "register_duplicate",
        "register_duplicate",
    ]


def test_existence_oracle_reveal_for_police_never_carries_categories(env):
    services, store, _, _ = env
    amelia = register(services)
    record = store.records.children[amelia]
    [signpost] = disclosure.reveal_existing(
        services, POLICE, [record], Outcome.MATCH, action="register_duplicate"
    )
    assert signpost.categories is None
    assert [i.type for i in store.outbox] == ["record_viewed"]


def test_existence_oracle_manager_probe_is_also_revealed(env):
    services, store, _, _ = env
    amelia = register(services)
    _probe_register(services, who=HACKNEY_MANAGER)
    assert _chain(store, amelia)[-1].sub == "hackney-mgr-1"
