"""The whole move over HTTP on the local stack: Camden → Hackney.

Request, Hackney's inbox has transfer_requested at once, acknowledge, accept,
responsibility moved (Camden 404, Hackney 200), search from the Royal Free signposts
Hackney, and Camden is told at every step.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from moto.sns.models import sns_backends

from infrastructure.local.stream import stream_of

pytestmark = pytest.mark.api

CAMDEN = ("E09000007", "la_practitioner", "camden-sw-1")
HACKNEY = ("E09000012", "la_practitioner", "hackney-sw-1")
BIRMINGHAM = ("E08000025", "la_practitioner", "brum-sw-1")
ROYAL_FREE = ("RAL", "health", "rf-nurse-1")
CHILD = {
    "given_names": "Kayden",
    "family_name": "Okafor-Reilly",
    "date_of_birth": "2014-06-02",
    "nhs_number": "9434765870",
    "postcode": "NW5 1TL",
}
PII = ("Kayden", "Okafor", "Reilly", "2014-06-02", "9434765870", "NW5")


def types(items: list[dict]) -> list[str]:
    return [i["type"] for i in items]


@pytest.fixture(scope="module")
def move(local_stack):
    """Run the move once; the tests below look at what each step answered."""
    s = local_stack
    camden, hackney = s.token(*CAMDEN), s.token(*HACKNEY)
    steps: dict[str, object] = {}
    review_by = (dt.date.today() + dt.timedelta(days=120)).isoformat()
    contact = {"team": "Camden North CIN team", "phone": "020 7974 1111", "email": "cin-north@camden.gov.uk"}
    registered = s.request(
        "POST",
        "/v1/children",
        {**CHILD, "categories": ["child_in_need"], "review_by": review_by, "contact": contact},
        camden,
    )
    assert registered.status_code == 201, registered.text
    child_id = registered.json()["child_id"]
    steps["child_id"] = child_id
    requested = s.request(
        "POST",
        f"/v1/children/{child_id}/transfers",
        {"to_org": "E09000012", "reason": "family_moved", "move_date": dt.date.today().isoformat()},
        camden,
    )
    steps["requested"] = requested
    # No waiting, no polling: the notification is in the inbox when the response arrives.
    steps["hackney_inbox_1"] = s.request("GET", "/v1/notifications", token=hackney)
    transfer_id = requested.json()["transfer_id"]
    steps["search_open"] = s.request(
        "POST", "/v1/searches", {**CHILD, "reason": "new_to_service"}, s.token(*ROYAL_FREE)
    )
    steps["acknowledged"] = s.request("POST", f"/v1/transfers/{transfer_id}/acknowledge", token=hackney)
    steps["accepted"] = s.request("POST", f"/v1/transfers/{transfer_id}/accept", token=hackney)
    steps["camden_get"] = s.request("GET", f"/v1/children/{child_id}", token=camden)
    steps["hackney_get"] = s.request("GET", f"/v1/children/{child_id}", token=hackney)
    steps["search_after"] = s.request(
        "POST", "/v1/searches", {**CHILD, "reason": "new_to_service"}, s.token(*ROYAL_FREE)
    )
    steps["camden_inbox"] = s.request("GET", "/v1/notifications", token=camden)
    steps["hackney_inbox_2"] = s.request("GET", "/v1/notifications", token=hackney)
    return steps


def test_request_answers_201_with_the_working_day_clocks(move):
    response = move["requested"]
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert (body["from_org"], body["to_org"]) == ("E09000007", "E09000012")
    assert body["acknowledge_by"] > dt.date.today().isoformat()
    assert body["decide_by"] > body["acknowledge_by"]


def test_hackney_inbox_has_transfer_requested_at_once(move):
    response = move["hackney_inbox_1"]
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["type"] == "transfer_requested"
    assert item["transfer_id"] == move["requested"].json()["transfer_id"]
    assert item["child_id"] == move["child_id"]
    assert item["from_org"] == "E09000007"
    assert item["read"] is False


def test_while_open_a_match_signposts_both_authorities(move):
    body = move["search_open"].json()
    assert body["outcome"] == "match"
    assert [s["organisation"]["code"] for s in body["signposts"]] == ["E09000007", "E09000012"]


def test_acknowledge_and_accept_by_hackney(move):
    assert move["acknowledged"].status_code == 200, move["acknowledged"].text
    assert move["acknowledged"].json()["status"] == "acknowledged"
    assert move["accepted"].status_code == 200, move["accepted"].text
    assert move["accepted"].json()["status"] == "accepted"


def test_responsibility_moved(move):
    assert move["camden_get"].status_code == 404
    assert move["camden_get"].headers["Content-Type"] == "application/problem+json"
    hackney = move["hackney_get"]
    assert hackney.status_code == 200
    body = hackney.json()
    assert body["organisation"]["code"] == "E09000012"
    assert body["since"] == dt.date.today().isoformat()
    assert body["contact"]["team"] != "Camden North CIN team", "Camden's team is no longer the route"


def test_search_from_the_royal_free_now_signposts_hackney(move):
    body = move["search_after"].json()
    assert body["outcome"] == "match"
    [signpost] = body["signposts"]
    assert signpost["organisation"]["code"] == "E09000012"


def test_camden_was_told_newest_first(move):
    items = move["camden_inbox"].json()["items"]
    transfer_types = [t for t in types(items) if t.startswith("transfer_")]
    assert transfer_types == ["transfer_accepted", "transfer_acknowledged"]
    assert "record_viewed" in types(items), "the Royal Free's search while Camden was responsible"
    times = [i["created_at"] for i in items]
    assert times == sorted(times, reverse=True)


def test_hackney_is_told_of_the_search_after_it_became_responsible(move):
    # The Royal Free serves Camden's area, not Hackney's: seen_in_other_area too.
    assert sorted(types(move["hackney_inbox_2"].json()["items"])) == [
        "record_viewed",
        "seen_in_other_area",
        "transfer_requested",
    ]


def test_no_identity_in_any_transfer_or_notification_response(move):
    for name in ("requested", "acknowledged", "accepted", "camden_inbox", "hackney_inbox_2"):
        text = move[name].text
        for value in PII:
            assert value not in text, name


def test_refusals(local_stack, move):
    s = local_stack
    camden, hackney, brum = s.token(*CAMDEN), s.token(*HACKNEY), s.token(*BIRMINGHAM)
    child_id, transfer_id = move["child_id"], move["requested"].json()["transfer_id"]
    body = {"to_org": "E09000007", "reason": "returned_home", "move_date": dt.date.today().isoformat()}
    # Camden is no longer responsible: 404 for the child.
    assert s.request("POST", f"/v1/children/{child_id}/transfers", body, camden).status_code == 404
    # A health trust may not transfer at all.
    assert (
        s.request("POST", f"/v1/children/{child_id}/transfers", body, s.token(*ROYAL_FREE)).status_code == 403
    )
    # Not a local authority → 400; an unknown field → 400.
    not_la = s.request("POST", f"/v1/children/{child_id}/transfers", {**body, "to_org": "RAL"}, hackney)
    assert not_la.status_code == 400
    assert not_la.json()["errors"][0]["field"] == "to_org"
    extra = s.request("POST", f"/v1/children/{child_id}/transfers", {**body, "note": "x"}, hackney)
    assert extra.status_code == 400
    # Not addressed to the caller → 404; re-sent → the first response again; the wrong state → 409.
    assert s.request("POST", f"/v1/transfers/{transfer_id}/accept", token=brum).status_code == 404
    assert (
        s.request("POST", f"/v1/transfers/{transfer_id}/decline", {"reason": "other"}, camden).status_code
        == 404
    )
    again = s.request("POST", f"/v1/transfers/{transfer_id}/accept", token=hackney)
    assert (again.status_code, again.json()) == (200, move["accepted"].json())
    assert s.request("POST", f"/v1/transfers/{transfer_id}/acknowledge", token=hackney).status_code == 409
    assert s.request("POST", f"/v1/transfers/{transfer_id}/withdraw", token=camden).status_code == 409
    assert s.request("POST", "/v1/transfers/nope/acknowledge", token=hackney).status_code == 404
    assert s.request("POST", f"/v1/transfers/{transfer_id}/accept", {"now": True}, hackney).status_code == 400
    # Another organisation's notification → 404.
    [item, *_] = move["hackney_inbox_2"].json()["items"]
    assert s.request("POST", f"/v1/notifications/{item['id']}/read", token=camden).status_code == 404
    assert s.request("GET", "/v1/notifications", token=s.token(*ROYAL_FREE)).status_code == 403


def test_listing_and_marking_read(local_stack, move):
    s = local_stack
    camden, hackney = s.token(*CAMDEN), s.token(*HACKNEY)
    outgoing = s.request("GET", "/v1/transfers", token=camden, params={"direction": "outgoing"})
    assert [t["status"] for t in outgoing.json()["items"]] == ["accepted"]
    incoming = s.request(
        "GET", "/v1/transfers", token=hackney, params={"direction": "incoming", "status": "requested"}
    )
    assert incoming.json()["items"] == []
    bad = s.request("GET", "/v1/transfers", token=hackney, params={"direction": "sideways"})
    assert bad.status_code == 400
    first = s.request("GET", "/v1/notifications", token=camden, params={"limit": 1}).json()
    assert len(first["items"]) == 1
    assert first["next"].startswith("/v1/notifications?")
    second = s.request("GET", first["next"], token=camden).json()
    assert second["items"][0]["id"] != first["items"][0]["id"]
    read = s.request("POST", f"/v1/notifications/{first['items'][0]['id']}/read", token=camden)
    assert read.status_code == 200
    assert read.json()["read"] is True
    unread = s.request("GET", "/v1/notifications", token=camden, params={"unread": "true"}).json()["items"]
    assert first["items"][0]["id"] not in [i["id"] for i in unread]
    assert s.request("GET", "/v1/notifications", token=camden, params={"after": "!!"}).status_code == 400


def test_sns_told_each_authority_only_a_count(local_stack, move):
    backend = sns_backends["123456789012"]["eu-west-2"]
    sent = backend.topics[local_stack.aws.topic_arn].sent_notifications
    assert sent, "an announcement per delivery"
    orgs = set()
    for _, message, subject, attributes, _ in sent:
        orgs.add(attributes["org"]["Value"])
        assert message.startswith("You have ")
        assert "Signpost" in message
        blob = json.dumps([message, subject, attributes])
        for value in (*PII, move["child_id"], move["requested"].json()["transfer_id"]):
            assert value not in blob
    assert {"E09000007", "E09000012"} <= orgs


def test_the_stream_feed_delivered_everything(local_stack, move):
    stream = stream_of(local_stack.gateway)
    assert stream is not None
    assert stream.pending() == 0
    assert not stream.stats.set_aside
    assert stream.stats.delivered >= 6
