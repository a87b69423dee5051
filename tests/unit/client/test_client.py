"""The client library's behaviour, against a scripted transport: retries that honour Retry-After,
Idempotency-Keys on writes, problem+json as ProblemError; and its types kept equal to openapi.json."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from importlib import resources
from typing import Any

import httpx
import pytest
from signpost_client import ProblemError, SignpostClient
from signpost_client import models as client_models

CHILD = {
    "given_names": "Amelia",
    "family_name": "Example",
    "date_of_birth": "2015-03-14",
    "categories": ["child_protection_plan"],
    "review_by": "2027-01-31",
}
CREATED = {"child_id": "c1", "status": "active"}


def problem(status: int, title: str, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": "why", **extra}
    return httpx.Response(
        status, json=body, headers={"Content-Type": "application/problem+json", **(headers or {})}
    )


class Script:
    """A transport answering from a list, recording every request it got."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, **options: Any) -> tuple[SignpostClient, list[float]]:
    slept: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(script))
    return SignpostClient("http://signpost.test", "tok", http=http, sleep=slept.append, **options), slept


def test_writes_carry_an_idempotency_key_and_reads_do_not() -> None:
    script = Script(httpx.Response(201, json=CREATED), httpx.Response(200, json={"status": "ok"}))
    api, _ = client(script)
    api.register_child(CHILD)  # type: ignore[arg-type]
    api.health()
    write, read = script.requests
    assert len(write.headers["Idempotency-Key"]) == 36
    assert "Idempotency-Key" not in read.headers
    assert write.headers["Authorization"] == "Bearer tok"
    assert json.loads(write.content) == CHILD


def test_a_given_idempotency_key_is_sent_as_given() -> None:
    script = Script(httpx.Response(201, json=CREATED))
    api, _ = client(script)
    api.register_child(CHILD, idempotency_key="camden-2026-0001")  # type: ignore[arg-type]
    assert script.requests[0].headers["Idempotency-Key"] == "camden-2026-0001"


def test_429_is_retried_after_retry_after_with_the_same_key() -> None:
    script = Script(
        problem(429, "Too Many Requests", {"Retry-After": "2"}),
        problem(503, "Service Unavailable", {"Retry-After": "1"}),
        httpx.Response(201, json=CREATED),
    )
    api, slept = client(script)
    assert api.register_child(CHILD)["child_id"] == "c1"  # type: ignore[arg-type]
    assert slept == [2.0, 1.0]
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert len(script.requests) == 3
    assert len(keys) == 1


def test_a_wait_longer_than_max_wait_is_not_slept_through() -> None:
    script = Script(problem(429, "Too Many Requests", {"Retry-After": "3600"}))
    api, slept = client(script, max_wait=30)
    with pytest.raises(ProblemError) as refused:
        api.search(
            {"given_names": "A", "family_name": "B", "date_of_birth": "2015-01-01", "reason": "referral"}
        )
    assert refused.value.status == 429
    assert refused.value.retry_after == 3600
    assert slept == []


def test_retries_stop_after_max_retries() -> None:
    script = Script(*[problem(503, "Service Unavailable", {"Retry-After": "1"}) for _ in range(3)])
    api, slept = client(script, max_retries=2)
    with pytest.raises(ProblemError) as refused:
        api.get_child("c1")
    assert refused.value.status == 503
    assert slept == [1.0, 1.0]


def test_a_failed_connection_is_retried_for_reads_and_keyed_writes() -> None:
    script = Script(httpx.ConnectError("down"), httpx.Response(200, json={"status": "ok"}))
    api, slept = client(script)
    assert api.health() == {"status": "ok"}
    assert len(slept) == 1
    script = Script(httpx.ConnectError("down"), httpx.Response(201, json=CREATED))
    api, _ = client(script)
    api.register_child(CHILD)  # type: ignore[arg-type]
    first, second = script.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_an_error_is_a_problem_error_with_its_fields_and_signposts() -> None:
    signpost = {"status": "active", "organisation": {"code": "E09000007", "name": "Camden"}}
    script = Script(
        problem(
            400,
            "Bad Request",
            errors=[{"field": "date_of_birth", "message": "must be a date: use YYYY-MM-DD"}],
        ),
        problem(409, "Conflict", signposts=[signpost]),
    )
    api, _ = client(script)
    with pytest.raises(ProblemError) as invalid:
        api.register_child(CHILD)  # type: ignore[arg-type]
    assert invalid.value.errors == [{"field": "date_of_birth", "message": "must be a date: use YYYY-MM-DD"}]
    assert "date_of_birth: must be a date: use YYYY-MM-DD" in str(invalid.value)
    with pytest.raises(ProblemError) as duplicate:
        api.register_child(CHILD)  # type: ignore[arg-type]
    assert duplicate.value.signposts == [signpost]
    assert duplicate.value.title == "Conflict"


def test_ids_stay_one_path_segment_and_tokens_are_fresh_per_request() -> None:
    tokens = iter(["t1", "t2"])
    script = Script(httpx.Response(200, json={}), httpx.Response(200, json={}))
    http = httpx.Client(transport=httpx.MockTransport(script))
    api = SignpostClient("http://signpost.test/", lambda: next(tokens), http=http)
    api.get_child("../transfers")
    api.get_child("a b")
    assert script.requests[0].url.raw_path == b"/v1/children/..%2Ftransfers"
    assert script.requests[1].url.raw_path == b"/v1/children/a%20b"
    assert [r.headers["Authorization"] for r in script.requests] == ["Bearer t1", "Bearer t2"]


def test_lists_follow_next() -> None:
    first = {"items": [{"id": "n2"}], "next": "/v1/notifications?limit=1&after=x"}
    script = Script(httpx.Response(200, json=first), httpx.Response(200, json={"items": [{"id": "n1"}]}))
    api, _ = client(script)
    assert [n["id"] for n in api.iter_notifications()] == ["n2", "n1"]
    assert script.requests[1].url.params["after"] == "x"


# ------------------------------------------------------------------ the types follow openapi.json


def _document() -> dict[str, Any]:
    return json.loads(resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8"))


TYPED = [
    name
    for name, value in vars(client_models).items()
    if isinstance(value, type) and typing.is_typeddict(value)  # type: ignore[attr-defined]
]


@pytest.mark.parametrize("name", TYPED)
def test_each_typed_dict_has_its_schemas_fields(name: str) -> None:
    schema = _document()["components"]["schemas"][name]
    typed: Callable[..., Any] = getattr(client_models, name)
    assert set(typed.__annotations__) == set(schema["properties"]), name  # type: ignore[attr-defined]
    optional = set(typed.__optional_keys__)  # type: ignore[attr-defined]
    assert optional == set(schema["properties"]) - set(schema.get("required", [])), name


@pytest.mark.parametrize(
    ("alias", "schema"),
    [
        ("Category", "Category"),
        ("Sex", "Sex"),
        ("RecordStatus", "RecordStatus"),
        ("Outcome", "Outcome"),
        ("SearchReason", "SearchReason"),
        ("CloseReason", "CloseReason"),
        ("ShieldingReason", "ShieldingReason"),
        ("TransferReason", "TransferReason"),
        ("DeclineReason", "DeclineReason"),
        ("TransferStatus", "TransferStatus"),
        ("Direction", "Direction"),
        ("OrgType", "OrgType"),
        ("Role", "Role"),
        ("NotificationType", "NotificationType"),
    ],
)
def test_each_vocabulary_has_its_enums_values(alias: str, schema: str) -> None:
    assert (
        list(typing.get_args(getattr(client_models, alias)))
        == _document()["components"]["schemas"][schema]["enum"]
    )


def test_every_operation_has_a_client_method() -> None:
    methods = {name.replace("_", "") for name in dir(SignpostClient) if not name.startswith("_")}
    aliases = {
        "searchchildren": "search",
        "getaccesslog": "accesslog",
        "getsubjectaccessreport": "subjectaccessreport",
        "gethealth": "health",
        "getopenapidocument": "openapidocument",
        "listnotifications": "notifications",
    }
    missing = []
    for methods_of_path in _document()["paths"].values():
        for operation in methods_of_path.values():
            wanted = operation["operationId"].lower()
            if aliases.get(wanted, wanted) not in methods:
                missing.append(operation["operationId"])
    assert missing == []
