"""Break-glass: only a manager of the searching organisation, justified, audited for review,
and the responsible LA told at once - all in one transaction (API.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError
from signpost.errors import Conflict, Forbidden, NotFound
from signpost.logic import records
from signpost.logic.audit_trail import AuditTrail
from signpost.logic.break_glass import break_glass
from signpost.models.children import UpdateRequest
from signpost.models.domain import Changes, CommitConflict
from signpost.models.search import BreakGlassRequest
from signpost.settings import Settings

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
)
from tests.unit.security.conftest import (
    ADMIN,
    HACKNEY_MANAGER,
    JUSTIFICATION,
    SCHOOL,
    do_search,
    register,
)

WHY = BreakGlassRequest(justification=JUSTIFICATION)


def _shielded_search(services, searcher=HACKNEY):
    child_id = register(services, CAMDEN_MANAGER, shielding={"reason": "refuge"})
    result = do_search(services, searcher)
    assert result.outcome == "match"
    assert result.signposts[0].child_id is None
    return child_id, result.search_id


def test_manager_of_the_searching_org_sees_the_shielded_signpost(env):
    services, _, _, _ = env
    child_id, search_id = _shielded_search(services)  # searched by a Hackney practitioner
    result = break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    assert result.search_id == search_id
    assert result.outcome == "match"
    [signpost] = result.signposts
    assert signpost.child_id == child_id
    assert signpost.categories == ["child_protection_plan"]
    assert signpost.organisation.code == "E09000007"
    assert signpost.contact.team == "Camden Children and Families Contact Service"


def test_reveal_is_audited_for_review_and_alerts_the_responsible_la_in_one_commit(env):
    services, store, _, _ = env
    child_id, search_id = _shielded_search(services)
    commits, outbox = store.commits, len(store.outbox)
    break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    assert store.commits == commits + 1
    search_entry = store.audit.chains[f"SEARCH#{search_id}"][-1]
    assert search_entry.action == "break_glass"
    assert search_entry.review is True
    assert search_entry.org == "E09000012"
    assert search_entry.sub == "hackney-mgr-1"
    assert search_entry.details == {"justification": JUSTIFICATION, "revealed": [child_id]}
    child_entry = store.audit.chains[f"CHILD#{child_id}"][-1]
    assert (child_entry.action, child_entry.review, child_entry.search_id) == ("break_glass", True, search_id)
    [alert] = store.outbox[outbox:]
    assert (alert.type, alert.to_org, alert.child_id, alert.from_org) == (
        "break_glass_used",
        "E09000007",
        child_id,
        "E09000012",
    )


def test_the_alert_goes_to_the_responsible_la_even_for_its_own_manager(env):
    services, store, _, _ = env
    _, search_id = _shielded_search(services, searcher=CAMDEN)
    break_glass(services, CAMDEN_MANAGER, search_id, WHY)
    assert [(i.type, i.to_org) for i in store.outbox] == [("break_glass_used", "E09000007")]


def test_no_reveal_without_its_audit_and_alert(env):
    services, store, _, _ = env
    child_id, search_id = _shielded_search(services)
    before = (len(store.audit.chains[f"CHILD#{child_id}"]), len(store.outbox))
    store.fail_next = {"outbox"}  # the transaction fails: nothing may be written, nothing returned
    with pytest.raises(CommitConflict):
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    assert (len(store.audit.chains[f"CHILD#{child_id}"]), len(store.outbox)) == before
    assert len(store.audit.chains[f"SEARCH#{search_id}"]) == 1


@pytest.mark.parametrize("who", [HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE, AUDITOR, ADMIN])
def test_any_role_but_la_manager_is_forbidden(env, who):
    services, store, _, _ = env
    _, search_id = _shielded_search(services)
    before = (store.commits, len(store.outbox))
    with pytest.raises(Forbidden):
        break_glass(services, who, search_id, WHY)
    assert (store.commits, len(store.outbox)) == before


def test_a_manager_of_another_org_gets_404_as_for_an_unknown_search(env):
    services, store, _, _ = env
    _, search_id = _shielded_search(services)  # Hackney's search
    before = (store.commits, len(store.outbox))
    for search in (search_id, "no-such-search", "x" * 2000, "../SEARCH#" + search_id):
        with pytest.raises(NotFound):
            break_glass(services, CAMDEN_MANAGER, search, WHY)
    assert (store.commits, len(store.outbox)) == before


def test_police_searches_cannot_be_broken_open_by_any_la(env):
    services, _, _, _ = env
    _, search_id = _shielded_search(services, searcher=POLICE)
    for manager in (CAMDEN_MANAGER, HACKNEY_MANAGER):
        with pytest.raises(NotFound):
            break_glass(services, manager, search_id, WHY)


def test_a_search_with_nothing_shielded_is_a_conflict_and_writes_nothing(env):
    services, store, _, _ = env
    register(services)
    search_id = do_search(services, HACKNEY).search_id
    commits = store.commits
    with pytest.raises(Conflict):
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    no_match = do_search(services, HACKNEY, identity=OLIVER).search_id
    with pytest.raises(Conflict):
        break_glass(services, HACKNEY_MANAGER, no_match, WHY)
    assert store.commits == commits + 1  # only the second search


def test_a_possible_match_reveals_the_id_but_still_no_categories(env):
    services, store, _, _ = env
    child_id = register(services, CAMDEN_MANAGER, shielding={"reason": "adoption"})
    # A search the matcher scored as a possible match (recorded as search.py records one).
    changes = Changes()
    AuditTrail(services, HACKNEY).add(
        changes,
        "SEARCH#s-possible",
        "search",
        new_chain=True,
        search_id="s-possible",
        reason="referral",
        outcome="possible_match",
        details={"children": [child_id], "candidates_read": 2},
    )
    store.commit(changes)
    revealed = break_glass(services, HACKNEY_MANAGER, "s-possible", WHY)
    assert revealed.outcome == "possible_match"
    assert revealed.signposts[0].child_id == child_id
    assert revealed.signposts[0].categories is None


@pytest.mark.parametrize("length", [0, 19, 501])
def test_justification_is_20_to_500_characters(length):
    with pytest.raises(ValidationError):
        BreakGlassRequest.model_validate({"justification": "x" * length})
    assert BreakGlassRequest.model_validate({"justification": "x" * 20})
    assert BreakGlassRequest.model_validate({"justification": "x" * 500})


def test_break_glass_body_takes_nothing_but_a_justification():
    with pytest.raises(ValidationError):
        BreakGlassRequest.model_validate({"justification": JUSTIFICATION, "review": False})


def _later(services, **delta):
    moment = services.now() + dt.timedelta(**delta)
    services.now = lambda: moment


def test_break_glass_limits_only_within_24_hours_of_the_search(env):
    services, store, _, _ = env
    child_id, search_id = _shielded_search(services)
    _later(services, hours=23, minutes=59)
    assert break_glass(services, HACKNEY_MANAGER, search_id, WHY).signposts[0].child_id == child_id
    _later(services, minutes=2)  # 24 h and a minute after the search
    commits, outbox = store.commits, len(store.outbox)
    with pytest.raises(Conflict) as refused:
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    assert "24 hours" in (refused.value.detail or "")
    assert (store.commits, len(store.outbox)) == (commits, outbox)


def test_break_glass_limits_the_window_is_configurable(env):
    services, _, _, _ = env
    services.settings = Settings(BREAK_GLASS_WINDOW_HOURS=1)
    _, search_id = _shielded_search(services)
    _later(services, minutes=61)
    with pytest.raises(Conflict):
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)


def test_break_glass_limits_a_child_shielded_after_the_search_is_not_revealed_by_it(env):
    """The search showed the child unshielded; shielding added since (an adoption, say) is not
    undone by breaking that search open."""
    services, _, _, _ = env
    child_id = register(services)
    search_id = do_search(services, HACKNEY).search_id
    records.update_child(
        services,
        CAMDEN_MANAGER,
        child_id,
        UpdateRequest.model_validate({"shielding": {"reason": "adoption"}}),
    )
    with pytest.raises(Conflict):
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)


def test_break_glass_limits_a_child_moved_to_another_la_since_the_search_is_not_revealed(env):
    services, store, _, _ = env
    child_id, search_id = _shielded_search(services)
    moved = store.records.children[child_id].model_copy(update={"org": "E08000025", "version": 99})
    store.records.children[child_id] = moved  # responsibility moved since (a transfer accepted)
    with pytest.raises(Conflict):
        break_glass(services, HACKNEY_MANAGER, search_id, WHY)


def test_break_glass_limits_a_child_moved_since_is_not_shown_at_its_new_organisation(env):
    """The search showed an unshielded twin at Camden; the twin has moved to Birmingham since.
    Breaking the search open must not say where the twin is now: that would be a new answer
    (Birmingham's signpost) without an entry on the twin's chain or a word to Birmingham."""
    services, store, _, _ = env
    noid = {k: v for k, v in AMELIA.items() if k != "nhs_number"}
    shielded = register(services, CAMDEN_MANAGER, identity=noid, shielding={"reason": "refuge"})
    twin = register(services, CAMDEN, identity={**noid, "given_names": "Isla"})
    searched = do_search(services, HACKNEY, identity={**noid, "given_names": "Emilia"})
    assert searched.outcome == "possible_match"
    assert [s.organisation.code for s in searched.signposts] == ["E09000007", "E09000007"]
    moved = store.records.children[twin].model_copy(update={"org": "E08000025", "version": 99})
    store.records.children[twin] = moved  # responsibility moved since (a transfer accepted)
    outbox = len(store.outbox)
    result = break_glass(services, HACKNEY_MANAGER, searched.search_id, WHY)
    assert [s.child_id for s in result.signposts] == [shielded]
    assert all(s.organisation.code != "E08000025" for s in result.signposts)
    assert [(n.to_org, n.child_id) for n in store.outbox[outbox:]] == [("E09000007", shielded)]


def test_break_glass_limits_reveals_only_the_children_that_search_matched(env):
    services, store, _, _ = env
    child_id, search_id = _shielded_search(services)
    twin = register(services, CAMDEN_MANAGER, identity={**OLIVER}, shielding={"reason": "refuge"})
    result = break_glass(services, HACKNEY_MANAGER, search_id, WHY)
    assert [s.child_id for s in result.signposts] == [child_id]
    assert twin not in store.audit.chains[f"SEARCH#{search_id}"][-1].details["revealed"]
