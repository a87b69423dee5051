"""The metrics the operations dashboard reads, as the handlers emit them (EMF on stdout)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from signpost import wiring

from infrastructure.local.aws import LocalAws
from tests.support.callers import CAMDEN, HACKNEY, POLICE
from tests.support.lambda_events import invoke, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
CHILD = {"given_names": "Noor", "family_name": "Castellanos", "date_of_birth": "2014-10-02"}


def emf(captured: str, metric: str) -> list[dict[str, Any]]:
    """The EMF documents on stdout that carry `metric`."""
    found = []
    for line in captured.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            doc = json.loads(line)
            names = {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
            if metric in names:
                found.append(doc)
    return found


def test_each_search_counts_by_outcome_and_organisation_type(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    review_by = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    body = {**CHILD, "categories": ["child_in_need"], "review_by": review_by}
    assert invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN)).status == 201
    invoke("search", make_event("POST", "/v1/searches", {**CHILD, "reason": "referral"}, caller=HACKNEY))
    # Another child: a rare family name and a birthday both shared would be a possible match.
    police = {
        **CHILD,
        "given_names": "Someone",
        "date_of_birth": "2009-01-15",
        "reason": "police_enquiry",
        "case_reference": "X-1",
    }
    invoke("search", make_event("POST", "/v1/searches", police, caller=POLICE))
    docs = emf(capsys.readouterr().out, "Searches")
    assert [(d["outcome"], d["org_type"], d["Searches"]) for d in docs] == [
        ("match", "local_authority", [1.0]),
        ("no_match", "police", [1.0]),
    ]
    for doc in docs:
        (dimensions,) = doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
        assert set(dimensions) == {"service", "outcome", "org_type"}  # no organisation, no child
        assert doc["service"] == "signpost"


def _run_clock(at: dt.datetime) -> dict[str, Any]:
    event = json.loads((EVENTS / "clock-schedule.json").read_text())
    event["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    wiring.services().now = lambda: at
    return dict(invoke("clock", event))


def test_the_clock_reports_open_and_overdue_transfers(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    wiring.services().now = lambda: now
    review_by = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    transfers = []
    for i in range(3):
        names = {
            "given_names": ("Aditi", "Bronwen", "Cosmin")[i],
            "family_name": ("Rahman", "Pryce", "Ionescu")[i],
        }
        body = {**CHILD, **names, "date_of_birth": f"201{i}-0{i + 1}-1{i}", "categories": ["looked_after"]}
        body["review_by"] = review_by
        child_id = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN)).json()[
            "child_id"
        ]
        move = {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()}
        response = invoke(
            "transfers", make_event("POST", f"/v1/children/{child_id}/transfers", move, caller=CAMDEN)
        )
        transfers.append(response.json())
    assert (_run_clock(now)["open_transfers"], _run_clock(now)["overdue_transfers"]) == (3, 0)

    # one is acknowledged in time, one accepted; after the acknowledge clock, one is overdue
    invoke(
        "transfers",
        make_event("POST", f"/v1/transfers/{transfers[0]['transfer_id']}/acknowledge", caller=HACKNEY),
    )
    invoke(
        "transfers", make_event("POST", f"/v1/transfers/{transfers[1]['transfer_id']}/accept", caller=HACKNEY)
    )
    after = dt.datetime.combine(
        dt.date.fromisoformat(transfers[2]["acknowledge_by"]) + dt.timedelta(days=2),
        dt.time(9),
        tzinfo=dt.UTC,
    )
    capsys.readouterr()
    summary = _run_clock(after)
    assert (summary["open_transfers"], summary["overdue_transfers"]) == (2, 1)
    (doc,) = emf(capsys.readouterr().out, "OpenTransfers")
    assert (doc["OpenTransfers"], doc["OverdueTransfers"]) == ([2.0], [1.0])

    # once it is acknowledged it is no longer overdue; still open until decided
    invoke(
        "transfers",
        make_event("POST", f"/v1/transfers/{transfers[2]['transfer_id']}/acknowledge", caller=HACKNEY),
    )
    summary = _run_clock(after + dt.timedelta(hours=1))
    assert (summary["open_transfers"], summary["overdue_transfers"]) == (2, 0)
