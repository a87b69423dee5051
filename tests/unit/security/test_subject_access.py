"""Subject access report: la_manager of the responsible LA only; the decrypted record and the
whole access log, with sensitive services shown only as "a health service"."""

from __future__ import annotations

import pytest
from signpost.errors import Forbidden, NotFound
from signpost.logic import records
from signpost.logic.break_glass import break_glass
from signpost.logic.subject_access import subject_access_report
from signpost.models.children import CloseRequest
from signpost.models.organisation import Organisation
from signpost.models.search import BreakGlassRequest

from tests.unit.logic.conftest import (
    AUDITOR,
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    HACKNEY,
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

CLINIC_TRACES = (
    "RAL-SH1",
    "Sexual Health",
    "clinic-nurse-1",
    "Clinic Safeguarding Lead",
    "Clinic Lead Nurse",
)


def test_the_report_holds_the_decrypted_record_and_every_access_newest_first(env):
    services, _, _, _ = env
    child_id = register(services)
    do_search(services, HACKNEY)
    do_search(services, POLICE)
    report = subject_access_report(services, CAMDEN_MANAGER, child_id)
    assert report.child.child_id == child_id
    assert report.child.given_names == "Amélia"
    assert report.child.nhs_number == "9434765919"
    assert report.child.postcode == "NW1 2AB"
    assert report.blind_index_entries > 0
    assert [(e.action, e.org) for e in report.access_log] == [
        ("subject_access_report", "E09000007"),
        ("search", "E23000001"),
        ("search", "E09000012"),
        ("register", "E09000007"),
    ]
    assert report.access_log[1].reason == "police_enquiry"


def test_a_sensitive_service_appears_only_as_a_health_service(env):
    services, _, _, _ = env
    child_id = register(services)
    do_search(services, CLINIC)
    report = subject_access_report(services, CAMDEN_MANAGER, child_id)
    clinic_entry = report.access_log[1]
    assert (clinic_entry.org, clinic_entry.role, clinic_entry.action) == (
        "a health service",
        "health",
        "search",
    )
    text = report.model_dump_json()
    for trace in CLINIC_TRACES:
        assert trace not in text


def test_an_organisation_flagged_sensitive_later_is_redacted_in_past_entries_too(env):
    services, store, _, _ = env
    child_id = register(services)
    do_search(services, ROYAL_FREE)
    trust = store.directory.get("RAL")
    assert isinstance(trust, Organisation)
    store.directory.put(trust.model_copy(update={"sensitive_service": True}))
    report = subject_access_report(services, CAMDEN_MANAGER, child_id)
    assert "RAL" not in {e.org for e in report.access_log}
    assert "a health service" in {e.org for e in report.access_log}


def test_break_glass_and_closure_are_in_the_report(env):
    services, _, _, _ = env
    child_id = register(services, CAMDEN_MANAGER, shielding={"reason": "court_order"})
    search_id = do_search(services, HACKNEY).search_id
    break_glass(services, HACKNEY_MANAGER, search_id, BreakGlassRequest(justification=JUSTIFICATION))
    records.close_child(services, CAMDEN, child_id, CloseRequest(reason="plan_ended"))
    report = subject_access_report(services, CAMDEN_MANAGER, child_id)
    assert report.child.status == "closed"
    assert report.child.shielding is not None
    assert report.purge_after is not None
    assert [e.action for e in report.access_log][:3] == ["subject_access_report", "close", "break_glass"]
    assert JUSTIFICATION not in report.model_dump_json()  # the justification is for the reviewers


def test_every_entry_is_included_however_long_the_log(env):
    services, _, _, _ = env
    child_id = register(services)
    for _ in range(130):
        do_search(services, HACKNEY)
    report = subject_access_report(services, CAMDEN_MANAGER, child_id)
    assert len(report.access_log) == 132  # register + 130 searches + the report itself


def test_producing_the_report_is_itself_audited(env):
    services, store, _, _ = env
    child_id = register(services)
    subject_access_report(services, CAMDEN_MANAGER, child_id)
    entry = store.audit.chains[f"CHILD#{child_id}"][-1]
    assert (entry.action, entry.org, entry.sub) == ("subject_access_report", "E09000007", "camden-mgr-1")


@pytest.mark.parametrize("who", [CAMDEN, HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE, AUDITOR, ADMIN])
def test_only_an_la_manager_may_ask(env, who):
    services, _, _, _ = env
    child_id = register(services)
    with pytest.raises(Forbidden):
        subject_access_report(services, who, child_id)


def test_a_manager_of_another_la_gets_404_as_for_an_unknown_child(env):
    services, store, _, _ = env
    child_id = register(services)
    commits = store.commits
    for target in (child_id, "no-such-child"):
        with pytest.raises(NotFound):
            subject_access_report(services, HACKNEY_MANAGER, target)
    with pytest.raises(NotFound):
        subject_access_report(services, CAMDEN_MANAGER, "no-such-child")
    assert store.commits == commits
