"""Search: outcomes, what each role sees, audit and notifications."""

from __future__ import annotations

import pytest
from signpost.errors import BadRequest, Forbidden
from signpost.logic import records, search
from signpost.logic.signposts import signposts_for
from signpost.matching import load_match_config
from signpost.models.children import RegisterRequest
from signpost.models.common import Outcome
from signpost.models.search import SearchRequest

from tests.unit.logic.conftest import (
    AMELIA,
    AUDITOR,
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    HACKNEY,
    OLIVER,
    POLICE,
    ROYAL_FREE,
    register_body,
    search_body,
)


def _register(services, caller=CAMDEN, identity=AMELIA, **extra):
    return records.register(
        services, caller, RegisterRequest.model_validate(register_body(identity, **extra)), None
    )


def _search(services, caller, identity=AMELIA, **extra):
    return search.search(services, caller, SearchRequest.model_validate(search_body(identity, **extra)))


def test_match_from_another_area_gives_the_responsible_la_contact(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    result = _search(services, HACKNEY)
    assert result.outcome == "match"
    [signpost] = result.signposts
    assert signpost.child_id == child_id
    assert signpost.organisation.code == "E09000007"
    assert signpost.contact.team.startswith("Camden")
    assert signpost.categories == ["child_protection_plan"]
    types = sorted(i.type for i in store.outbox)
    assert types == ["record_viewed", "seen_in_other_area"]


def test_search_result_carries_no_stored_identity(env):
    services, _, _, _ = env
    _register(services)
    text = _search(services, ROYAL_FREE).model_dump_json()
    for value in ("Amélia", "Amelia", "Connor", "9434765919", "NW1", "2015-03-14"):
        assert value not in text


def test_unknown_child_is_no_match_and_still_audited(env):
    services, store, _, _ = env
    _register(services)
    result = _search(services, ROYAL_FREE, identity=OLIVER)
    assert result.outcome == "no_match"
    assert result.signposts == []
    assert store.audit.chains[f"SEARCH#{result.search_id}"][0].outcome == "no_match"
    assert not store.outbox


def test_own_search_does_not_notify_itself(env):
    services, store, _, _ = env
    _register(services)
    assert _search(services, CAMDEN).outcome == "match"
    assert not store.outbox


def test_police_must_use_police_enquiry_with_a_case_reference_and_see_no_categories(env):
    services, store, _, _ = env
    _register(services)
    with pytest.raises(BadRequest):
        _search(services, POLICE)
    with pytest.raises(BadRequest):
        _search(services, HACKNEY, reason="police_enquiry", case_reference="CAD-1")
    result = _search(services, POLICE, reason="police_enquiry", case_reference="CAD-1234/26")
    assert result.outcome == "match"
    assert result.signposts[0].categories is None
    assert store.audit.chains[f"SEARCH#{result.search_id}"][0].case_reference == "CAD-1234/26"


def test_auditor_may_not_search(env):
    services, _, _, _ = env
    with pytest.raises(Forbidden):
        _search(services, AUDITOR)


def test_shielded_child_routes_to_the_manager_contact_without_id_or_categories(env):
    services, _, _, _ = env
    _register(services, caller=CAMDEN_MANAGER, shielding={"reason": "witness_protection"})
    [signpost] = _search(services, HACKNEY).signposts
    assert signpost.child_id is None
    assert signpost.categories is None
    assert signpost.contact.team == "Camden Safeguarding Manager on duty"


def test_sensitive_service_is_named_only_as_a_health_service(env):
    services, store, _, _ = env
    _register(services)
    _search(services, CLINIC)
    assert store.outbox
    assert {i.from_org for i in store.outbox} == {"a health service"}


def test_possible_match_signposts_have_child_id_but_no_categories(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    record = store.records.children[child_id]
    [signpost] = signposts_for([record], Outcome.POSSIBLE_MATCH, HACKNEY, store.directory)
    assert signpost.child_id == child_id
    assert signpost.categories is None


def test_mid_transfer_match_lists_both_organisations_responsible_first(env):
    services, store, _, _ = env
    child_id = _register(services).body["child_id"]
    record = store.records.children[child_id].model_copy(
        update={
            "transfer": {
                "transfer_id": "t1",
                "to_org": "E09000012",
                "status": "requested",
                "requested_on": "2026-11-27",
            }
        }
    )
    signposts = signposts_for([record], Outcome.MATCH, ROYAL_FREE, store.directory)
    assert [s.organisation.code for s in signposts] == ["E09000007", "E09000012"]


def test_warm_search_makes_no_kms_call(env):
    services, _, keys, mac = env
    _register(services)
    _search(services, HACKNEY)
    before = (keys.generated, keys.unwrapped, mac.calls)
    for _ in range(3):
        _search(services, ROYAL_FREE)
    assert (keys.generated, keys.unwrapped, mac.calls) == before


def test_match_thresholds_are_configuration_read_from_the_environment(env):
    services, _, _, _ = env
    _register(services)
    near = {k: v for k, v in AMELIA.items() if k != "nhs_number"}
    assert _search(services, HACKNEY, identity=near).outcome == "match"
    services.match_config = load_match_config({"MATCH_THRESHOLD": "400"})
    assert _search(services, HACKNEY, identity=near).outcome == "possible_match"
