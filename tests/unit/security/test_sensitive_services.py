"""Sexual-health and other sensitive services: they search like health, but outside the
auditor-only audit nothing is kept that could turn back into the service's identity."""

from __future__ import annotations

import json

from signpost.logic.access_log import access_log
from signpost.logic.subject_access import subject_access_report

from tests.unit.logic.conftest import AUDITOR, CAMDEN, CAMDEN_MANAGER, CLINIC, OLIVER, ROYAL_FREE
from tests.unit.security.conftest import do_search, register

CLINIC_TRACES = ("RAL-SH1", "Sexual Health", "clinic-nurse-1")


def _everything_but_the_audit(store) -> str:
    """All state the fake store holds outside the audit table, as one text."""
    parts = [
        [r.model_dump(mode="json", exclude={"identity"}) for r in store.records.children.values()],
        store.records.blocks,
        store.records.guards,
        store.nhs_guards,
        [i.model_dump(mode="json") for i in store.outbox],
        [s.model_dump(mode="json") for s in store.idempotency.items.values()],
        [[k, list(v.times)] for k, v in store.rate_windows.items()],
    ]
    return json.dumps(parts, default=str)


def test_a_clinic_search_is_named_nowhere_outside_the_audit(env):
    services, store, _, _ = env
    child_id = register(services, identity={**OLIVER, "postcode": "E8 1DY"})  # Camden child
    register(
        services,
        CAMDEN,
        identity={"given_names": "Maya", "family_name": "Osei", "date_of_birth": "2010-02-02"},
    )
    result = do_search(services, CLINIC, identity={**OLIVER, "postcode": "E8 1DY"})
    assert result.outcome == "match"
    text = _everything_but_the_audit(store)
    for trace in CLINIC_TRACES:
        assert trace not in text
    assert {i.from_org for i in store.outbox} == {"a health service"}
    # The audit keeps the truth, for auditors.
    entry = store.audit.chains[f"CHILD#{child_id}"][-1]
    assert (entry.org, entry.sensitive_service) == ("RAL-SH1", True)


def test_access_log_shows_a_health_service_to_the_la_and_to_auditors(env):
    services, _, _, _ = env
    child_id = register(services)
    do_search(services, CLINIC)
    do_search(services, ROYAL_FREE)
    for who in (CAMDEN, AUDITOR):
        log, _ = access_log(services, who, child_id)
        orgs = [e.org for e in log.items]
        assert orgs[:2] == ["RAL", "a health service"]
        assert "RAL-SH1" not in log.model_dump_json()


def test_the_subject_access_report_shows_a_health_service(env):
    services, _, _, _ = env
    child_id = register(services)
    do_search(services, CLINIC)
    text = subject_access_report(services, CAMDEN_MANAGER, child_id).model_dump_json()
    assert "a health service" in text
    for trace in CLINIC_TRACES:
        assert trace not in text


def test_a_clinic_search_that_finds_nothing_leaves_nothing_but_the_audit(env):
    services, store, _, _ = env
    register(services)
    result = do_search(services, CLINIC, identity=OLIVER)
    assert result.outcome == "no_match"
    assert not store.outbox
    assert "RAL-SH1" not in _everything_but_the_audit(store)


def test_a_clinic_may_search_like_any_health_service_and_sees_the_same_signpost(env):
    services, _, _, _ = env
    register(services)
    clinic = do_search(services, CLINIC).signposts
    trust = do_search(services, ROYAL_FREE).signposts
    assert [s.model_dump() for s in clinic] == [s.model_dump() for s in trust]


def test_the_authorizer_context_offers_a_redacted_org_for_access_logs():
    assert CLINIC.as_context()["shown_org"] == "a health service"
    assert ROYAL_FREE.as_context()["shown_org"] == "RAL"
    assert CLINIC.as_context()["org"] == "RAL-SH1"  # the handlers still know who asks
