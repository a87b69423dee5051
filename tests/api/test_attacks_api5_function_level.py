"""OWASP API5:2023 Broken Function Level Authorisation - every route x every role, against the
role table of API.md (written out here independently of signpost/authz.py): a role without
the function gets 403 before anything else happens (even before its body is validated); a
role with it gets past the check (here: 404 for an unknown object, 400 for an empty body, or
200 for a list)."""

from __future__ import annotations

import pytest

from tests.api.conftest import EVERYONE, Api

pytestmark = pytest.mark.api

LA = {"la_practitioner", "la_manager"}
SEARCHERS = LA | {"health", "education", "police"}
ALL = {"la_practitioner", "la_manager", "health", "education", "police", "auditor", "admin"}

# (method, path, body, roles allowed by API.md, status for an allowed role)
ROUTES = [
    ("POST", "/v1/children", {}, LA, 400),
    ("GET", "/v1/children/no-such-child", None, LA, 404),
    ("PATCH", "/v1/children/no-such-child", {"categories": ["child_in_need"]}, LA, 404),
    ("POST", "/v1/children/no-such-child/close", {"reason": "plan_ended"}, LA, 404),
    ("GET", "/v1/children/no-such-child/access-log", None, LA | {"auditor"}, 404),
    ("GET", "/v1/children/no-such-child/subject-access-report", None, {"la_manager"}, 404),
    (
        "POST",
        "/v1/children/no-such-child/transfers",
        {"to_org": "E09000012", "reason": "other", "move_date": "2026-01-01"},
        LA,
        None,  # 400 (move date window) or 404: past the role check either way
    ),
    ("GET", "/v1/transfers?direction=incoming", None, LA, 200),
    ("POST", "/v1/transfers/no-such-transfer/acknowledge", None, LA, 404),
    ("POST", "/v1/transfers/no-such-transfer/accept", None, LA, 404),
    ("POST", "/v1/transfers/no-such-transfer/decline", {"reason": "other"}, LA, 404),
    ("POST", "/v1/transfers/no-such-transfer/withdraw", None, LA, 404),
    ("POST", "/v1/searches", {}, SEARCHERS, 400),
    ("POST", "/v1/searches/no-such-search/break-glass", {"justification": "j" * 40}, {"la_manager"}, 404),
    ("GET", "/v1/notifications", None, LA, 200),
    ("POST", "/v1/notifications/no-such-notification/read", None, LA, 404),
    ("GET", "/v1/organisations/E09000007", None, ALL, 200),
    ("PUT", "/v1/organisations/E09000007", {}, {"admin"}, 400),
]


@pytest.mark.parametrize("who", list(EVERYONE))
@pytest.mark.parametrize(
    ("method", "path", "body", "allowed", "status"), ROUTES, ids=[f"{r[0]}-{r[1]}" for r in ROUTES]
)
def test_function_level_authorisation(api: Api, who, method, path, body, allowed, status) -> None:  # type: ignore[no-untyped-def]
    role = EVERYONE[who][1]
    response = api.call(EVERYONE[who], method, path, body)
    if role in allowed:
        assert response.status_code != 403, f"{who} refused {method} {path}: {response.text}"
        if status is not None:
            assert response.status_code == status, f"{who} {method} {path}: {response.text}"
    else:
        assert response.status_code == 403, f"{who} allowed {method} {path}: {response.status_code}"
        assert response.json()["title"] == "Forbidden"


def test_the_role_check_comes_before_body_validation(api: Api) -> None:
    """A health worker learns nothing about the register body's rules: 403, not a field list."""
    response = api.call(EVERYONE["health"], "POST", "/v1/children", {"given_names": 1})
    assert response.status_code == 403
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/v1/children/no-such-child"),
        ("PUT", "/v1/children/no-such-child"),
        ("DELETE", "/v1/organisations/E09000007"),
        ("PATCH", "/v1/organisations/E09000007"),
        ("GET", "/v1/searches"),
        ("DELETE", "/v1/notifications/x/read"),
        ("POST", "/v1/children/no-such-child/access-log"),
        ("GET", "/v1/searches/no-such-search/break-glass"),
    ],
)
def test_undeclared_methods_do_not_exist(api: Api, method: str, path: str) -> None:
    response = api.call(EVERYONE["admin"], method, path)
    assert response.status_code in (404, 405)


def test_method_override_headers_are_ignored(api: Api) -> None:
    override = {"X-HTTP-Method-Override": "PUT", "X-HTTP-Method": "PUT", "X-Method-Override": "PUT"}
    entry = api.call(EVERYONE["admin"], "GET", "/v1/organisations/E09000007").json()
    response = api.call(EVERYONE["health"], "POST", "/v1/organisations/E09000007", entry, headers=override)
    assert response.status_code in (404, 405)
    response = api.call(EVERYONE["health"], "GET", "/v1/organisations/E09000007", headers=override)
    assert response.status_code == 200
    assert response.json() == entry


@pytest.mark.parametrize(
    "path",
    [
        "/v1/admin",
        "/v1/audit",
        "/v1/children",
        "/v1/debug",
        "/v1/internal/audit",
        "/v1/searches/x",
        "/dev/audit",
    ],
)
def test_there_is_no_hidden_admin_or_audit_route(api: Api, path: str) -> None:
    for method in ("GET", "POST"):
        response = api.call(EVERYONE["admin"], method, path, {} if method == "POST" else None)
        assert response.status_code in (403, 404, 405), (method, path)
        if path == "/v1/children" and method == "POST":
            assert response.status_code == 403  # admins do not register children
