"""Bulk import over HTTP on the local stack: the sample file of docs/, the progress a client
sees while the queue feeds the worker in the background, and `signpost-admin import`."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import pytest
from signpost import import_client

from scripts import import_sample
from tests.api.conftest import CAMDEN, HACKNEY, LEDGER, ROYAL_FREE, Api, csv_rows
from tests.support.stack import LocalStack

CSV = {"Content-Type": "text/csv"}
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import-sample.csv"


def sample_today() -> bytes:
    """docs/import-sample.csv as `make import-sample` would write it today."""
    return import_sample.render(dt.date.today()).encode()


def wait_for(api: Api, import_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = api.call(CAMDEN, "GET", f"/v1/imports/{import_id}", params={"limit": "1000"}).json()
        if view["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return dict(view)
        time.sleep(0.1)


def outcome(reject_rows: dict[int, list[str]], duplicates: set[int], row: int) -> str:
    if row in duplicates:
        return "duplicate"
    if row in reject_rows:
        return " ".join(reject_rows[row])
    return "accepted"


@pytest.fixture(scope="module")
def eve_at_hackney(api: Api) -> str:
    """The sample's CAM-0005, already on the index at Hackney (as the README walk-through does)."""
    eve = {
        "given_names": "Eve",
        "family_name": "Demoson",
        "date_of_birth": "2015-05-05",
        "nhs_number": "9990000042",
    }
    return api.register(eve, persona=HACKNEY)


def test_the_committed_sample_is_what_the_generator_writes() -> None:
    assert SAMPLE.read_text(encoding="utf-8") == import_sample.render(import_sample.SAMPLE_DATE)


def test_the_sample_imports_with_the_rejects_and_duplicate_its_comments_promise(
    api: Api, eve_at_hackney: str
):
    response = api.call(CAMDEN, "POST", "/v1/imports", headers=CSV, data=sample_today())
    assert response.status_code == 202, response.text
    view = wait_for(api, response.json()["import_id"])
    assert view["status"] == "completed"
    rejects: dict[int, list[str]] = {}
    for reject in view["rejects"]:
        rejects.setdefault(reject["row"], []).append(
            " ".join(filter(None, (reject["code"], reject["field"])))
        )
    duplicates = {d["row"] for d in view["duplicates_detail"]}
    for row, promised in import_sample.expected():
        found = outcome(rejects, duplicates, row)
        assert found in promised.split(" or "), (row, found, promised)
    (duplicate,) = view["duplicates_detail"]
    assert duplicate["local_id"] == "CAM-0005"
    assert duplicate["signposts"][0]["organisation"]["code"] == "E09000012"
    assert duplicate["signposts"][0]["child_id"] == eve_at_hackney
    # Hackney was told, as after a search that found her
    inbox = api.call(HACKNEY, "GET", "/v1/notifications").json()["items"]
    assert any(n["type"] == "record_viewed" and n.get("child_id") == eve_at_hackney for n in inbox)


def test_progress_is_visible_while_the_queue_feeds_the_worker(api: Api, local_stack: LocalStack):
    rows = ["local_id,given_names,family_name,date_of_birth,categories,review_by"]
    review = (dt.date.today() + dt.timedelta(days=100)).isoformat()
    rows += [
        f"P-{i},Kalo{chr(97 + i % 26)},Testprog{i:03d},2014-02-{1 + i % 28:02d},child_in_need,{review}"
        for i in range(260)
    ]
    response = api.call(CAMDEN, "POST", "/v1/imports", headers=CSV, data="\n".join(rows).encode())
    assert response.status_code == 202
    import_id = response.json()["import_id"]
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        view = api.call(CAMDEN, "GET", f"/v1/imports/{import_id}", params={"limit": "1"}).json()
        seen.append((view["status"], view["rows_done"]))
        if view["status"] in ("completed", "failed"):
            break
        time.sleep(0.05)
    assert seen[-1] == ("completed", 260)
    assert any(status == "running" and 0 < done < 260 for status, done in seen), seen


def test_refusals_over_http(api: Api, local_stack: LocalStack):
    data = sample_today()
    assert (
        api.call(
            CAMDEN, "POST", "/v1/imports", headers={"Content-Type": "application/json"}, data=data
        ).status_code
        == 415
    )
    assert api.call(CAMDEN, "POST", "/v1/imports", data=data).status_code == 415  # no Content-Type
    assert api.call(ROYAL_FREE, "POST", "/v1/imports", headers=CSV, data=data).status_code == 403
    assert api.call(None, "POST", "/v1/imports", headers=CSV, data=data).status_code == 401
    too_big = api.call(CAMDEN, "POST", "/v1/imports", headers=CSV, data=data + b"x" * (4 * 1024 * 1024))
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"] == "application/problem+json"
    import_id = api.call(CAMDEN, "POST", "/v1/imports", headers=CSV, data=data).json()["import_id"]
    assert api.call(HACKNEY, "GET", f"/v1/imports/{import_id}").status_code == 404
    listed = api.call(CAMDEN, "GET", "/v1/imports").json()["items"]
    assert listed[0]["import_id"] == import_id


def test_signpost_admin_import_uploads_follows_and_writes_the_reports(
    api: Api, local_stack: LocalStack, eve_at_hackney: str, tmp_path: Path, request: pytest.FixtureRequest
):
    path = tmp_path / "caseload.csv"
    path.write_bytes(sample_today())
    LEDGER.add_identity_values(request.node.nodeid, csv_rows(path.read_bytes()))
    args = argparse.Namespace(
        file=path,
        org="E09000007",
        api=local_stack.url,
        token=None,
        role="la_practitioner",
        sub="cli-1",
        poll=0.2,
        timeout=120.0,
    )
    out, err = io.StringIO(), io.StringIO()
    assert import_client.run(args, out, err) == 0, out.getvalue()
    with (tmp_path / "caseload.csv.rejects.csv").open(encoding="utf-8") as f:
        rejects = list(csv.DictReader(f))
    promised = [(row, o) for row, o in import_sample.expected() if o.startswith("R")]
    assert [(int(r["row"]), f"{r['code']} {r['field']}".strip()) for r in rejects] == promised
    with (tmp_path / "caseload.csv.duplicates.csv").open(encoding="utf-8") as f:
        (duplicate,) = list(csv.DictReader(f))
    assert (duplicate["local_id"], duplicate["organisation"], duplicate["child_id"]) == (
        "CAM-0005",
        "E09000012",
        eve_at_hackney,
    )
    assert "rows" in err.getvalue()  # the progress line
    assert "rejects: 13 ->" in out.getvalue()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_signpost_admin_import_in_a_terminal_shows_the_final_line_once(
    local_stack: LocalStack, tmp_path: Path, request: pytest.FixtureRequest
):
    path = tmp_path / "caseload.csv"
    path.write_bytes(sample_today())
    LEDGER.add_identity_values(request.node.nodeid, csv_rows(path.read_bytes()))
    args = argparse.Namespace(
        file=path, org="E09000007", api=local_stack.url, token=None,
        role="la_practitioner", sub="cli-2", poll=0.2, timeout=120.0,
    )  # fmt: skip
    out, err = _Terminal(), _Terminal()
    assert import_client.run(args, out, err) == 0, out.getvalue()
    shown = (err.getvalue() + out.getvalue()).replace("\r", "\n")
    final = [line for line in shown.splitlines() if line.endswith("  completed")]
    assert len(final) == 1, shown
    assert "rejects: 13 ->" in out.getvalue()


def test_signpost_admin_import_refuses_a_token_of_another_organisation(
    local_stack: LocalStack, tmp_path: Path
):
    path = tmp_path / "caseload.csv"
    path.write_bytes(b"local_id\n")
    token = local_stack.token(*HACKNEY)
    args = argparse.Namespace(
        file=path,
        org="E09000007",
        api=local_stack.url,
        token=token,
        role="la_practitioner",
        sub="x",
        poll=0.1,
        timeout=5.0,
    )
    out = io.StringIO()
    assert import_client.run(args, out, io.StringIO()) == 2
    assert "another organisation" in out.getvalue()
