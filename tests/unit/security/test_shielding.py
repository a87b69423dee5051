"""No VIP class: a child is shielded only by the published criteria, by an la_manager of the
responsible LA, and shielding never hides that the child is known - it changes the route.
There is no other way to hide a child: no field, no role, no admin path."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from signpost.authz import ROLE_PERMISSIONS, Action
from signpost.errors import Forbidden, NotFound
from signpost.logic import records
from signpost.models.children import RegisterRequest, UpdateRequest
from signpost.models.common import Role, ShieldingReason
from signpost.models.domain import ChildRecord
from signpost.models.organisation import OrganisationIn

from tests.unit.logic.conftest import (
    AMELIA,
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    HACKNEY,
    POLICE,
    ROYAL_FREE,
    register_body,
)
from tests.unit.security.conftest import ADMIN, HACKNEY_MANAGER, SCHOOL, do_search, register

OPENAPI = Path(__file__).resolve().parents[3] / "layers" / "signpost" / "signpost" / "openapi.json"
HIDING_WORDS = re.compile(
    r"hid(e|den)|vip|celebr|suppress|exclude|invisible|restrict|confidential|secret|mask|private|"
    r"redact|opt_?out|unlisted|sealed|priority|protected_person|high_profile",
    re.IGNORECASE,
)
SEARCHERS = [HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE]


def test_the_criteria_are_the_published_closed_list():
    assert {r.value for r in ShieldingReason} == {"adoption", "witness_protection", "refuge", "court_order"}
    for reason in ("celebrity", "vip", "public_figure", "staff_child", "other", ""):
        with pytest.raises(ValidationError):
            RegisterRequest.model_validate(register_body(AMELIA, shielding={"reason": reason}))


def test_only_la_manager_may_manage_shielding():
    allowed = {role for role, actions in ROLE_PERMISSIONS.items() if Action.MANAGE_SHIELDING in actions}
    assert allowed == {Role.LA_MANAGER}


def test_the_record_and_its_requests_have_no_other_way_to_hide_a_child():
    assert set(RegisterRequest.model_fields) == {
        "given_names", "family_name", "date_of_birth", "sex", "nhs_number", "postcode", "other_names",
        "categories", "contact", "review_by", "shielding",
    }  # fmt: skip
    assert set(UpdateRequest.model_fields) == set(RegisterRequest.model_fields)
    assert set(OrganisationIn.model_fields) == {
        "code", "name", "type", "area", "sensitive_service", "contact", "manager_contact", "active",
    }  # fmt: skip
    stored = set(ChildRecord.model_fields)
    assert not {f for f in stored if HIDING_WORDS.search(f)}
    assert "shielding" in stored


@pytest.mark.parametrize(
    "field", ["hidden", "vip", "exclude_from_search", "suppressed", "visibility", "status", "restricted"]
)
def test_unknown_fields_that_might_hide_a_child_are_rejected(field):
    with pytest.raises(ValidationError):
        RegisterRequest.model_validate(register_body(AMELIA, **{field: True}))
    with pytest.raises(ValidationError):
        UpdateRequest.model_validate({field: True})


def test_no_request_body_in_the_published_api_has_a_hiding_field():
    schema = json.loads(OPENAPI.read_text(encoding="utf-8"))
    properties: set[str] = set()
    for component in schema.get("components", {}).get("schemas", {}).values():
        properties.update(component.get("properties", {}))
    suspicious = {p for p in properties if HIDING_WORDS.search(p)}
    assert suspicious == set()
    # sensitive_service is about an organisation's searches, never a child.
    assert "sensitive_service" in properties


def test_a_practitioner_cannot_shield_by_registering_or_patching(env):
    services, store, _, _ = env
    with pytest.raises(Forbidden):
        records.register(
            services,
            CAMDEN,
            RegisterRequest.model_validate(register_body(AMELIA, shielding={"reason": "refuge"})),
            None,
        )
    assert not store.records.children
    child_id = register(services)
    with pytest.raises(Forbidden):
        records.update_child(services, CAMDEN, child_id, UpdateRequest(shielding={"reason": "refuge"}))
    assert store.records.children[child_id].shielding is None


@pytest.mark.parametrize("who", [ADMIN, ROYAL_FREE, POLICE, SCHOOL])
def test_no_other_role_can_touch_a_record_at_all(env, who):
    services, _, _, _ = env
    child_id = register(services)
    with pytest.raises(Forbidden):
        records.update_child(services, who, child_id, UpdateRequest(shielding={"reason": "refuge"}))
    with pytest.raises(Forbidden):
        records.update_child(services, who, child_id, UpdateRequest(categories=["child_in_need"]))


def test_a_manager_of_another_la_cannot_shield_someone_elses_child(env):
    services, store, _, _ = env
    child_id = register(services)
    with pytest.raises(NotFound):
        records.update_child(
            services, HACKNEY_MANAGER, child_id, UpdateRequest(shielding={"reason": "refuge"})
        )
    assert store.records.children[child_id].shielding is None


@pytest.mark.parametrize("reason", [r.value for r in ShieldingReason])
def test_a_shielded_child_is_still_found_by_everyone_only_the_route_changes(env, reason):
    services, _, _, _ = env
    register(services, CAMDEN_MANAGER, shielding={"reason": reason})
    for who in SEARCHERS:
        result = do_search(services, who)
        assert result.outcome == "match"
        [signpost] = result.signposts
        assert signpost.child_id is None
        assert signpost.categories is None
        assert signpost.organisation.code == "E09000007"
        assert signpost.contact.team == "Camden Safeguarding Manager on duty"


def test_shielding_changes_are_audited_with_who_made_them(env):
    services, store, _, _ = env
    child_id = register(services)
    records.update_child(services, CAMDEN_MANAGER, child_id, UpdateRequest(shielding={"reason": "refuge"}))
    records.update_child(
        services, CAMDEN_MANAGER, child_id, UpdateRequest.model_validate({"shielding": None})
    )
    changes = [e for e in store.audit.chains[f"CHILD#{child_id}"] if e.action == "update"]
    assert [(e.sub, e.details) for e in changes] == [("camden-mgr-1", {"fields": ["shielding"]})] * 2


def test_a_closed_record_is_not_hidden_either(env):
    services, _, _, _ = env
    child_id = register(services)
    records.close_child(services, CAMDEN, child_id, records.CloseRequest(reason="plan_ended"))
    [signpost] = do_search(services, HACKNEY).signposts
    assert (signpost.child_id, signpost.status) == (child_id, "closed")
