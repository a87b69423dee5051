"""Which professional groups see what: the role table of API.md, exactly, deny by default."""

from __future__ import annotations

import pytest
from signpost.authz import ROLE_ORG_TYPE, ROLE_PERMISSIONS, Action, Caller, role_fits_org
from signpost.errors import Unauthorised
from signpost.models.common import OrgType, Role

# API.md: register/update/close/transfer own LA's children | search | inbox | access log of own
# children | break-glass | manage shielding | directory admin  (+ auditor: any child's access log)
API_MD = {
    Role.LA_PRACTITIONER: {Action.MANAGE_RECORDS, Action.SEARCH, Action.INBOX, Action.ACCESS_LOG_OWN},
    Role.LA_MANAGER: {
        Action.MANAGE_RECORDS, Action.SEARCH, Action.INBOX, Action.ACCESS_LOG_OWN,
        Action.BREAK_GLASS, Action.MANAGE_SHIELDING, Action.SUBJECT_ACCESS,
    },
    Role.HEALTH: {Action.SEARCH},
    Role.EDUCATION: {Action.SEARCH},
    Role.POLICE: {Action.SEARCH},
    Role.AUDITOR: {Action.ACCESS_LOG_ANY},
    Role.ADMIN: {Action.DIRECTORY_ADMIN},
}  # fmt: skip
CONTRACT_COLUMNS = {
    Action.MANAGE_RECORDS, Action.SEARCH, Action.INBOX, Action.ACCESS_LOG_OWN, Action.ACCESS_LOG_ANY,
    Action.BREAK_GLASS, Action.MANAGE_SHIELDING, Action.SUBJECT_ACCESS, Action.DIRECTORY_ADMIN,
}  # fmt: skip


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_exactly_the_contract_columns_of_api_md(role):
    assert ROLE_PERMISSIONS[role] & CONTRACT_COLUMNS == API_MD[role]


def test_police_health_and_education_may_only_search():
    for role in (Role.POLICE, Role.HEALTH, Role.EDUCATION):
        assert ROLE_PERMISSIONS[role] & CONTRACT_COLUMNS == {Action.SEARCH}


def test_only_local_authorities_hold_records_and_only_their_managers_break_glass():
    holders = {r for r, a in ROLE_PERMISSIONS.items() if Action.MANAGE_RECORDS in a}
    assert holders == {Role.LA_PRACTITIONER, Role.LA_MANAGER}
    for action in (Action.BREAK_GLASS, Action.MANAGE_SHIELDING, Action.SUBJECT_ACCESS):
        assert {r for r, a in ROLE_PERMISSIONS.items() if action in a} == {Role.LA_MANAGER}


def test_auditors_and_admins_cannot_search_or_read_records():
    for role in (Role.AUDITOR, Role.ADMIN):
        assert not ROLE_PERMISSIONS[role] & {Action.SEARCH, Action.MANAGE_RECORDS, Action.BREAK_GLASS}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("org_type", list(OrgType))
def test_a_role_belongs_to_one_type_of_organisation(role, org_type):
    assert role_fits_org(role.value, org_type.value) == (ROLE_ORG_TYPE[role] == org_type)


def test_a_caller_context_with_a_role_that_does_not_fit_is_refused():
    context = {"sub": "s", "org": "RAL", "role": "la_manager", "org_type": "health"}
    with pytest.raises(Unauthorised):
        Caller.from_context(context)
    for broken in ({}, None, {**context, "role": "superuser"}, {**context, "sub": ""}):
        with pytest.raises(Unauthorised):
            Caller.from_context(broken)
