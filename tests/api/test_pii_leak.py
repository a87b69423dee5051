"""PII leak test: no identity used in any API test reaches a log line, a metric, an SNS message
or an error body.

tests/api/conftest.py keeps the ledger for the whole API session (every identity value sent
through the local stack, and every output captured while each test ran). This module adds a
scenario that deliberately pushes identities down every path that produces output (errors
that concern the identity fields, notifications that go to SNS, break-glass, subject access,
the clinic's and police searches), then the final check - which conftest moves to the very
end of the session - scans everything.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.conftest import (
    CAMDEN,
    CAMDEN_MANAGER,
    CLINIC,
    FINAL_CHECK,
    HACKNEY,
    HACKNEY_MANAGER,
    JUSTIFICATION,
    LEDGER,
    POLICE,
    ROYAL_FREE,
    SCHOOL,
    Api,
    PiiLedger,
    review_by,
)

pytestmark = pytest.mark.api

CHILD = {
    "given_names": "Seraphina Jolene",
    "family_name": "Vasquez-Thorburn",
    "date_of_birth": "2010-04-23",
    "sex": "female",
    "nhs_number": "9434765919",
    "postcode": "se15 4qj",
    "other_names": [{"given_names": "Sera", "family_name": "Thorburn"}, {"family_name": "Quarshie"}],
}
SHIELDED = {
    "given_names": "Ptolemy",
    "family_name": "Hargreaves-Nakamura",
    "date_of_birth": "2014-02-14",
    "nhs_number": "9434765870",
}


def test_scenario_pushes_identities_down_every_output_path(api: Api) -> None:
    child_id = api.register(
        CHILD, CAMDEN, contact={"team": "Camden CP", "phone": "020 7974 0000", "email": "cp@camden.example"}
    )
    shielded_id = api.register(SHIELDED, CAMDEN_MANAGER, shielding={"reason": "refuge"})
    # Searches by everyone who may (notifications → inbox → SNS "you have N new").
    for who in (HACKNEY, ROYAL_FREE, CLINIC, SCHOOL, POLICE):
        assert api.search(CHILD, who).status_code == 200
    # Errors that are about the identity fields themselves.
    bad = {k: v for k, v in CHILD.items() if k != "other_names"}
    for change in (
        {"nhs_number": "9434765918"},
        {"date_of_birth": "2099-04-23"},
        {"postcode": "SE15 4QJ SE15"},
        {"given_names": "Seraphina" * 12},
        {"reason": "police_enquiry"},
    ):
        assert (
            api.call(HACKNEY, "POST", "/v1/searches", {**bad, "reason": "referral", **change}).status_code
            == 400
        )
    duplicate = {**CHILD, "categories": ["looked_after"], "review_by": review_by()}
    assert api.call(HACKNEY, "POST", "/v1/children", duplicate).status_code == 409
    assert api.call(ROYAL_FREE, "POST", "/v1/children", duplicate).status_code == 403
    assert (
        api.call(CAMDEN, "PATCH", f"/v1/children/{child_id}", {"nhs_number": "9434765871"}).status_code == 400
    )
    assert api.call(CAMDEN, "PATCH", f"/v1/children/{child_id}", {"postcode": "SE15 4QK"}).status_code == 200
    # Break-glass, subject access, the access log, a transfer, closing.
    search_id = api.search(SHIELDED, HACKNEY).json()["search_id"]
    glass = api.call(
        HACKNEY_MANAGER, "POST", f"/v1/searches/{search_id}/break-glass", {"justification": JUSTIFICATION}
    )
    assert glass.status_code == 200
    assert (
        api.call(CAMDEN_MANAGER, "GET", f"/v1/children/{child_id}/subject-access-report").status_code == 200
    )
    assert api.call(CAMDEN, "GET", f"/v1/children/{shielded_id}/access-log").status_code == 200
    moved = api.call(
        CAMDEN,
        "POST",
        f"/v1/children/{child_id}/transfers",
        {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()},
    )
    assert moved.status_code == 201
    assert (
        api.call(CAMDEN, "POST", f"/v1/children/{shielded_id}/close", {"reason": "plan_ended"}).status_code
        == 200
    )
    assert api.call(CAMDEN, "GET", "/v1/notifications").status_code == 200
    assert api.call(HACKNEY, "GET", "/v1/notifications").status_code == 200
    # Police over their hourly limit: the 429 path too.
    officer = ("E23000001", "police", "pii-officer")
    statuses = {api.search(CHILD, officer).status_code for _ in range(21)}
    assert statuses == {200, 429}


def test_the_ledger_sees_every_kind_of_output(api: Api) -> None:
    """Guard against a silent capture failure: the scan is only as good as what it scans."""
    kinds = LEDGER.kinds()
    assert {"stdout", "metrics", "error_body", "sns"} <= kinds, kinds
    assert any('"_aws"' in text for _, kind, text in LEDGER.outputs if kind == "metrics")
    assert "Vasquez-Thorburn" in LEDGER.identities
    assert "9434765919" in LEDGER.identities
    assert "SE15 4QJ" in LEDGER.identities


def test_the_scanner_would_catch_a_leak() -> None:
    """The patterns find a value however it is cased or JSON-escaped, and only whole words."""
    ledger = PiiLedger()
    ledger.add_identity_values("t", {"given_names": "Amélie", "family_name": "Known", "postcode": "nw1 2ab"})
    ledger.add_output("t", "stdout", '{"message": "name \\u00e9 Am\\u00e9lie"}')
    ledger.add_output("t", "stderr", "POSTCODE NW12AB seen")
    ledger.add_output("t", "stdout", "the record is unknown")  # 'known' inside a word: no hit
    hits = {value for value, *_ in ledger.hits()}
    assert hits == {"Amélie", "NW12AB"}


def test_no_identity_reaches_any_log_metric_sns_message_or_error_body() -> None:
    assert FINAL_CHECK == "test_no_identity_reaches_any_log_metric_sns_message_or_error_body"
    assert LEDGER.identities, "no identities were recorded: run with the API tests"
    # Only values that are words of the public directory or API document are not scanned.
    unscannable = LEDGER.unscannable()
    assert len(unscannable) <= max(5, len(LEDGER.identities) // 10), sorted(unscannable)
    hits = LEDGER.hits()
    report = [f"{value!r} (used in {used}) found in {kind} of {where}" for value, used, where, kind in hits]
    assert not hits, "\n".join(report[:20])
