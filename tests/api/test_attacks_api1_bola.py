"""OWASP API1:2023 Broken Object Level Authorisation - every object endpoint x every role x
owning and foreign organisation, over HTTP on the local stack.

Rules (API.md): deny by default; a record the caller may not see answers exactly as one that
does not exist (404); a role that may not use the operation at all gets 403.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import (
    BIRMINGHAM,
    CAMDEN,
    CAMDEN_MANAGER,
    EVERYONE,
    HACKNEY,
    HACKNEY_MANAGER,
    JUSTIFICATION,
    Api,
    fictional_identity,
    review_by,
)

pytestmark = pytest.mark.api

LA_ROLES = {"la_practitioner", "la_manager"}
CHILD_A = {"given_names": "Ngozi", "family_name": "Blackwood-Tran", "date_of_birth": "2012-02-29"}
CHILD_H = {"given_names": "Radomir", "family_name": "Quennell", "date_of_birth": "2014-08-17"}
CHILD_S = {"given_names": "Ottoline", "family_name": "Fairweather", "date_of_birth": "2016-12-01"}
CHILD_T = {"given_names": "Bartholomew", "family_name": "Achterberg", "date_of_birth": "2010-06-15"}


@dataclass(frozen=True)
class World:
    camden_child: str
    hackney_child: str
    camden_search: str  # by a Camden practitioner, matching a shielded Camden child
    transfer: str  # Camden → Birmingham, requested
    camden_notification: str  # record_viewed in Camden's inbox


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    camden_child = api.register(CHILD_A, CAMDEN)
    hackney_child = api.register(CHILD_H, HACKNEY)
    api.register(CHILD_S, CAMDEN_MANAGER, shielding={"reason": "adoption"})
    search = api.search(CHILD_S, CAMDEN).json()
    assert search["outcome"] == "match"
    moving = api.register(CHILD_T, CAMDEN)
    transfer = api.call(
        CAMDEN,
        "POST",
        f"/v1/children/{moving}/transfers",
        {"to_org": "E08000025", "reason": "family_moved", "move_date": dt.date.today().isoformat()},
    )
    assert transfer.status_code == 201, transfer.text
    assert api.search(CHILD_A, HACKNEY).json()["outcome"] == "match"  # notifies Camden
    inbox = api.call(CAMDEN, "GET", "/v1/notifications").json()["items"]
    [viewed] = [n for n in inbox if n["type"] == "record_viewed" and n.get("child_id") == camden_child]
    return World(
        camden_child, hackney_child, search["search_id"], transfer.json()["transfer_id"], viewed["id"]
    )


def _org(persona_key: str) -> str:
    return EVERYONE[persona_key][0]


def _role(persona_key: str) -> str:
    return EVERYONE[persona_key][1]


def owner_only(owner: str) -> Callable[[str], int]:
    """LA roles of the owning org: 200; LA roles elsewhere: 404; any other role: 403."""

    def expect(who: str) -> int:
        if _role(who) not in LA_ROLES:
            return 403
        return 200 if _org(who) == owner else 404

    return expect


def owner_or_auditor(owner: str) -> Callable[[str], int]:
    def expect(who: str) -> int:
        return 200 if _role(who) == "auditor" else owner_only(owner)(who)

    return expect


def manager_of(owner: str) -> Callable[[str], int]:
    """la_manager of the owning org: 200; la_manager elsewhere: 404; any other role: 403."""

    def expect(who: str) -> int:
        if _role(who) != "la_manager":
            return 403
        return 200 if _org(who) == owner else 404

    return expect


def receiver_only(who: str) -> int:
    """Transfer actions: only the receiving org (Birmingham, not among EVERYONE) - others 404/403."""
    return 404 if _role(who) in LA_ROLES else 403


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    expect: Callable[[str], int]
    body: Callable[[World], Any] | None = None
    mutates: bool = False  # the allowed call changes state: run it on a fresh object


CASES = [
    Case("read camden child", "GET", lambda w: f"/v1/children/{w.camden_child}", owner_only("E09000007")),
    Case("read hackney child", "GET", lambda w: f"/v1/children/{w.hackney_child}", owner_only("E09000012")),
    Case(
        "patch camden child",
        "PATCH",
        lambda w: f"/v1/children/{w.camden_child}",
        owner_only("E09000007"),
        body=lambda w: {"review_by": review_by(150)},
    ),
    Case(
        "patch hackney child",
        "PATCH",
        lambda w: f"/v1/children/{w.hackney_child}",
        owner_only("E09000012"),
        body=lambda w: {"review_by": review_by(150)},
    ),
    Case(
        "close camden child",
        "POST",
        lambda w: f"/v1/children/{w.camden_child}/close",
        owner_only("E09000007"),
        body=lambda w: {"reason": "registered_in_error"},
        mutates=True,
    ),
    Case(
        "transfer camden child",
        "POST",
        lambda w: f"/v1/children/{w.camden_child}/transfers",
        lambda who: 201 if owner_only("E09000007")(who) == 200 else owner_only("E09000007")(who),
        body=lambda w: {"to_org": "E09000012", "reason": "other", "move_date": dt.date.today().isoformat()},
        mutates=True,
    ),
    Case(
        "access log of camden child",
        "GET",
        lambda w: f"/v1/children/{w.camden_child}/access-log",
        owner_or_auditor("E09000007"),
    ),
    Case(
        "access log of hackney child",
        "GET",
        lambda w: f"/v1/children/{w.hackney_child}/access-log",
        owner_or_auditor("E09000012"),
    ),
    Case(
        "subject access report of camden child",
        "GET",
        lambda w: f"/v1/children/{w.camden_child}/subject-access-report",
        manager_of("E09000007"),
    ),
    Case(
        "subject access report of hackney child",
        "GET",
        lambda w: f"/v1/children/{w.hackney_child}/subject-access-report",
        manager_of("E09000012"),
    ),
    Case(
        "break-glass on camden's search",
        "POST",
        lambda w: f"/v1/searches/{w.camden_search}/break-glass",
        manager_of("E09000007"),
        body=lambda w: {"justification": JUSTIFICATION},
    ),
    Case(
        "acknowledge camden→birmingham transfer",
        "POST",
        lambda w: f"/v1/transfers/{w.transfer}/acknowledge",
        receiver_only,
    ),
    Case(
        "accept camden→birmingham transfer",
        "POST",
        lambda w: f"/v1/transfers/{w.transfer}/accept",
        receiver_only,
    ),
    Case(
        "decline camden→birmingham transfer",
        "POST",
        lambda w: f"/v1/transfers/{w.transfer}/decline",
        receiver_only,
        body=lambda w: {"reason": "other"},
    ),
    Case(
        "withdraw camden→birmingham transfer",
        "POST",
        lambda w: f"/v1/transfers/{w.transfer}/withdraw",
        owner_only("E09000007"),  # the sending organisation; re-sent, the first response again
    ),
    Case(
        "mark camden's notification read",
        "POST",
        lambda w: f"/v1/notifications/{w.camden_notification}/read",
        owner_only("E09000007"),
    ),
    Case(
        "replace camden's directory entry",
        "PUT",
        lambda w: "/v1/organisations/E09000007",
        lambda who: 200 if _role(who) == "admin" else 403,
        body=lambda w: None,  # filled in from the directory itself
    ),
]


def _body(api: Api, case: Case, world: World) -> Any:
    if case.method == "PUT":
        return api.call(EVERYONE["admin"], "GET", "/v1/organisations/E09000007").json()
    return case.body(world) if case.body else None


@pytest.mark.parametrize("who", list(EVERYONE))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name.replace(" ", "_"))
def test_object_level_authorisation(api: Api, world: World, case: Case, who: str) -> None:
    expected = case.expect(who)
    target = world
    if case.mutates and expected < 300:
        # A fresh object of the same owner, so the allowed call does not change the shared world.
        fresh = api.register(fictional_identity(), EVERYONE[who])
        target = World(
            fresh, world.hackney_child, world.camden_search, world.transfer, world.camden_notification
        )
    response = api.call(EVERYONE[who], case.method, case.path(target), _body(api, case, target))
    assert response.status_code == expected, f"{case.name} as {who}: {response.status_code} {response.text}"
    if expected >= 400:
        assert response.headers["Content-Type"].startswith("application/problem+json")


def test_denied_objects_are_indistinguishable_from_missing_ones(api: Api, world: World) -> None:
    """A foreign org's 404 is byte-for-byte the 404 of an id that never existed."""
    pairs = [
        (HACKNEY, "GET", f"/v1/children/{world.camden_child}", "/v1/children/never-existed", None),
        (
            HACKNEY,
            "GET",
            f"/v1/children/{world.camden_child}/access-log",
            "/v1/children/nope/access-log",
            None,
        ),
        (
            HACKNEY_MANAGER,
            "GET",
            f"/v1/children/{world.camden_child}/subject-access-report",
            "/v1/children/nope/subject-access-report",
            None,
        ),
        (
            HACKNEY_MANAGER,
            "POST",
            f"/v1/searches/{world.camden_search}/break-glass",
            "/v1/searches/nope/break-glass",
            {"justification": JUSTIFICATION},
        ),
        (CAMDEN, "POST", f"/v1/transfers/{world.transfer}/accept", "/v1/transfers/nope/accept", None),
        (
            HACKNEY,
            "POST",
            f"/v1/notifications/{world.camden_notification}/read",
            "/v1/notifications/nope/read",
            None,
        ),
    ]
    for persona, method, real, missing, body in pairs:
        denied = api.call(persona, method, real, body)
        absent = api.call(persona, method, missing, body)
        assert denied.status_code == absent.status_code == 404, (real, denied.text)
        assert denied.json() == absent.json()


def test_lists_show_only_the_callers_own_organisation(api: Api, world: World) -> None:
    hackney_inbox = api.call(HACKNEY, "GET", "/v1/notifications").json()["items"]
    assert world.camden_notification not in {n["id"] for n in hackney_inbox}
    assert all(n.get("child_id") != world.camden_child for n in hackney_inbox)
    for direction in ("incoming", "outgoing"):
        listed = api.call(HACKNEY, "GET", f"/v1/transfers?direction={direction}").json()["items"]
        assert world.transfer not in {t["transfer_id"] for t in listed}
    incoming = api.call(BIRMINGHAM, "GET", "/v1/transfers?direction=incoming").json()["items"]
    assert world.transfer in {t["transfer_id"] for t in incoming}


def test_query_and_header_tricks_do_not_change_the_organisation(api: Api, world: World) -> None:
    spoof = {"X-Org": "E09000007", "X-Role": "la_manager", "X-Forwarded-User": "camden-mgr-1"}
    response = api.call(HACKNEY, "GET", f"/v1/children/{world.camden_child}", headers=spoof)
    assert response.status_code == 404
    inbox = api.call(HACKNEY, "GET", "/v1/notifications?org=E09000007", headers=spoof)
    assert inbox.status_code in (200, 400)
    if inbox.status_code == 200:
        assert world.camden_notification not in {n["id"] for n in inbox.json()["items"]}


def test_ids_are_opaque_and_path_tricks_are_plain_404(api: Api, world: World) -> None:
    for path in (
        f"/v1/children/{world.camden_child.upper()}",
        f"/v1/children/{world.camden_child}%00",
        "/v1/children/..%2F..%2Fv1%2Forganisations%2FE09000007",
        "/v1/children/*",
        "/v1/children/%2A",
        "/v1/children/CHILD%23" + world.camden_child,
        "/v1/children/" + world.camden_child * 5,  # longer than any id: unknown, not malformed
    ):
        response = api.call(HACKNEY, "GET", path)
        assert response.status_code == 404, (path, response.status_code)
    assert api.call(CAMDEN, "GET", "/v1/children/CHILD%23" + world.camden_child).status_code == 404
    assert api.call(CAMDEN, "GET", "/v1/children/" + world.camden_child * 5).status_code == 404
