"""Bulk import end to end on moto: the imports handler, S3, the SQS queue fed to the worker
handler, and the records, audit and outbox it writes through the register logic."""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from typing import Any

import boto3
import pytest
from signpost import wiring
from signpost.dal.store import DynamoStore
from signpost.logic import import_worker
from signpost.logic.identity import open_identity

from infrastructure.local.aws import IMPORTS_BUCKET, LocalAws
from tests.support.imports import CAMDEN, Importer, fake_rows, review_by, to_csv
from tests.support.lambda_events import caller, invoke, make_event
from tests.support.logcapture import LogCapture
from tests.support.tables import scan

HACKNEY = caller("E09000012", "la_practitioner", "hackney-sw-1")
HACKNEY_MANAGER = caller("E09000012", "la_manager", "hackney-mgr-1")
CAMDEN_COLLEAGUE = caller("E09000007", "la_manager", "camden-mgr-1")
ROYAL_FREE = caller("RAL", "health", "rf-nurse-1")


@pytest.fixture
def importer(aws: LocalAws) -> Importer:
    return Importer(aws)


# ---------------------------------------------------------------- inspection (tests only)


def children(aws: LocalAws, org: str | None = None) -> dict[str, Any]:
    """child_id -> the record (identity opened), for the records of `org` (all if None)."""
    store = DynamoStore(
        *(aws.tables[t] for t in ("RecordsTable", "AuditTable", "IdempotencyTable", "DirectoryTable"))
    )
    found = {}
    for item in scan(aws):
        if item["sk"]["S"] != "RECORD":
            continue
        record = store.records.get_child(item["pk"]["S"].removeprefix("CHILD#"))
        assert record is not None
        if org is None or record.org == org:
            found[record.child_id] = (
                record,
                open_identity(wiring.services().cipher, record.child_id, record.identity),
            )
    return found


def audit_actions(aws: LocalAws) -> Counter[str]:
    return Counter(i["action"]["S"] for i in scan(aws, "AuditTable"))


def intents(aws: LocalAws) -> list[dict[str, Any]]:
    return [i for i in scan(aws) if i["sk"]["S"] == "INTENT"]


def register(identity: dict[str, Any], who=HACKNEY, **extra: Any) -> str:
    body = {**identity, "categories": ["child_protection_plan"], "review_by": review_by(), **extra}
    response = invoke("records", make_event("POST", "/v1/children", body, caller=who))
    assert response.status == 201, response.json()
    return str(response.json()["child_id"])


def identity_of(row: dict[str, str]) -> dict[str, Any]:
    keys = ("given_names", "family_name", "date_of_birth", "sex", "nhs_number", "postcode")
    return {k: row[k] for k in keys if row.get(k)}


# ---------------------------------------------------------------- the upload


def test_an_upload_is_queued_then_imported_batch_by_batch(aws, importer):
    rows = fake_rows(5)
    accepted = importer.upload(to_csv(rows))
    assert accepted.status == 202
    body = accepted.json()
    assert body["status"] == "queued"
    assert accepted.header("Location") == f"/v1/imports/{body['import_id']}"
    before = importer.view(body["import_id"]).json()
    assert (before["status"], before["rows_total"], before["rows_done"]) == ("queued", 5, 0)
    importer.run()
    report = importer.report(body["import_id"])
    assert report["status"] == "completed"
    assert (report["rows_done"], report["accepted"], report["rejected"], report["duplicates"]) == (5, 5, 0, 0)
    assert report["completed_at"]
    stored = children(aws, "E09000007")
    assert sorted(identity["given_names"] for _, identity in stored.values()) == sorted(
        r["given_names"] for r in rows
    )
    assert audit_actions(aws)["register"] == 5
    assert audit_actions(aws)["import"] == 1  # the upload itself, on the import's own chain


def test_the_file_is_stored_encrypted_with_the_platform_key_and_deleted_when_done(aws, importer):
    s3 = boto3.client("s3", region_name="eu-west-2")
    import_id = importer.upload(to_csv(fake_rows(2))).json()["import_id"]
    (stored,) = s3.list_objects_v2(Bucket=IMPORTS_BUCKET)["Contents"]
    assert stored["Key"] == f"E09000007/{import_id}.csv"
    head = s3.head_object(Bucket=IMPORTS_BUCKET, Key=stored["Key"])
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith("signpost-local-platform")
    importer.run()
    assert "Contents" not in s3.list_objects_v2(Bucket=IMPORTS_BUCKET)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json", 415),
        ("text/plain", 415),
        ("text/csv; charset=latin-1", 415),
        ("text/csv; charset=UTF-8", 202),
        ("TEXT/CSV", 202),
    ],
)
def test_only_csv_is_accepted(importer, content_type, status):
    assert importer.upload(to_csv(fake_rows(1)), content_type=content_type).status == status


def test_a_file_over_4_mb_is_413_and_nothing_is_stored(aws, importer):
    rows = fake_rows(1)
    data = to_csv(rows) + b"x" * (4 * 1024 * 1024)
    response = importer.upload(data)
    assert response.status == 413
    assert response.json()["title"]
    assert not [i for i in scan(aws) if i["pk"]["S"].startswith("IMPORT")]


def test_a_file_that_is_not_the_format_is_400_and_nothing_is_stored(aws, importer):
    response = importer.upload(b"name,dob\nKalo,2015-01-01\n")
    assert response.status == 400
    assert {"field": "header", "message": "missing column local_id"} in response.json()["errors"]
    assert not [i for i in scan(aws) if i["pk"]["S"].startswith("IMPORT")]
    assert importer.run() == 0


@pytest.mark.parametrize(
    "who", [ROYAL_FREE, caller("E23000001", "police", "p1"), caller("NATIONAL", "auditor", "a1")]
)
def test_only_local_authorities_import(importer, who):
    assert importer.upload(to_csv(fake_rows(1)), who=who).status == 403
    assert invoke("imports", make_event("GET", "/v1/imports", None, who)).status == 403


# ---------------------------------------------------------------- idempotent and resumable


def test_uploading_the_same_file_again_changes_nothing(aws, importer):
    data = to_csv(fake_rows(6))
    importer.import_file(data)
    records_before = {c: (r.version, r.updated_at) for c, (r, _) in children(aws).items()}
    actions_before = audit_actions(aws)
    again = importer.import_file(data)
    assert (again["accepted"], again["unchanged"], again["rejected"]) == (0, 6, 0)
    assert {c: (r.version, r.updated_at) for c, (r, _) in children(aws).items()} == records_before
    after = audit_actions(aws)
    assert after - actions_before == Counter({"import": 1})  # the second upload; no row changed anything


def test_a_corrected_file_fills_in_only_what_was_rejected(aws, importer):
    rows = fake_rows(4)
    broken = [dict(r) for r in rows]
    broken[1]["nhs_number"] = "9990000019"  # bad check digit
    broken[3]["review_by"] = "2020-01-01"
    first = importer.import_file(to_csv(broken))
    assert (first["accepted"], first["rejected"]) == (2, 2)
    assert [(r["row"], r["code"]) for r in first["rejects"]] == [
        (3, "R003_INVALID_NHS_NUMBER"),
        (5, "R007_REVIEW_DATE_IN_PAST"),
    ]
    second = importer.import_file(to_csv(rows))
    assert (second["accepted"], second["unchanged"], second["rejected"]) == (2, 2, 0)
    assert len(children(aws)) == 4


def test_a_row_changed_since_the_last_import_updates_its_record_audited_as_an_update(aws, importer):
    rows = fake_rows(3)
    importer.import_file(to_csv(rows))
    changed = [dict(r) for r in rows]
    changed[0]["family_name"] = "Testrenamed"
    changed[0]["postcode"] = ""
    changed[2]["categories"] = "looked_after"
    report = importer.import_file(to_csv(changed))
    assert (report["accepted"], report["updated"], report["unchanged"]) == (2, 2, 1)
    by_local = {identity["family_name"]: (record, identity) for record, identity in children(aws).values()}
    record, identity = by_local["Testrenamed"]
    assert identity["postcode"] is None
    assert record.version == 2
    assert len(children(aws)) == 3
    updates = [i for i in scan(aws, "AuditTable") if i["action"]["S"] == "update"]
    assert len(updates) == 2
    details = [
        json.loads(json.dumps(boto3.dynamodb.types.TypeDeserializer().deserialize(u["details"]), default=str))
        for u in updates
    ]
    assert {tuple(d["fields"]) for d in details} == {("family_name", "postcode"), ("categories",)}
    assert all(d["import_id"] == report["import_id"] for d in details)


def test_a_record_closed_since_is_registered_afresh(aws, importer):
    rows = fake_rows(1)
    importer.import_file(to_csv(rows))
    (child_id,) = children(aws)
    closed = invoke(
        "records", make_event("POST", f"/v1/children/{child_id}/close", {"reason": "plan_ended"}, CAMDEN)
    )
    assert closed.status == 200
    report = importer.import_file(to_csv(rows))
    assert report["accepted"] == 1
    statuses = sorted(r.status for r, _ in children(aws).values())
    assert statuses == ["active", "closed"]


# ---------------------------------------------------------------- the organisation's own records


def test_a_child_already_registered_by_the_organisation_is_linked_not_duplicated(aws, importer):
    rows = fake_rows(2)
    child_id = register(identity_of(rows[0]), who=CAMDEN)
    report = importer.import_file(to_csv(rows))
    assert (report["accepted"], report["updated"], report["unchanged"], report["duplicates"]) == (2, 1, 0, 0)
    assert len(children(aws)) == 2
    record, _ = children(aws)[child_id]
    assert list(record.categories) == rows[0]["categories"].split(";")  # the row's state now
    again = importer.import_file(to_csv(rows))
    assert again["unchanged"] == 2


def test_one_child_under_two_local_ids_is_rejected_the_second_time(aws, importer):
    rows = fake_rows(2)
    rows[1] = {**rows[0], "local_id": "OTHER-1"}
    report = importer.import_file(to_csv(rows))
    assert (report["accepted"], report["rejected"]) == (1, 1)
    assert report["rejects"] == [
        {"row": 3, "local_id": "OTHER-1", "code": "R017_CHILD_UNDER_OTHER_LOCAL_ID", "field": "local_id"}
    ]


# ---------------------------------------------------------------- another authority's children


def test_a_child_active_at_another_authority_is_a_duplicate_never_merged(aws, importer):
    rows = fake_rows(3)
    theirs = register(identity_of(rows[1]), who=HACKNEY)
    before = children(aws)[theirs][0]
    report = importer.import_file(to_csv(rows))
    assert (report["accepted"], report["duplicates"]) == (2, 1)
    (duplicate,) = report["duplicates_detail"]
    assert (duplicate["row"], duplicate["local_id"]) == (3, rows[1]["local_id"])
    (signpost,) = duplicate["signposts"]
    assert signpost["organisation"]["code"] == "E09000012"
    assert signpost["child_id"] == theirs
    assert signpost["categories"] == ["child_protection_plan"]
    after = children(aws)[theirs][0]
    assert (after.org, after.version, after.categories) == (before.org, before.version, before.categories)
    # audited on the child's chain and notified to Hackney, as a search would be
    chain = [i for i in scan(aws, "AuditTable") if i["pk"]["S"] == f"CHILD#{theirs}"]
    assert [i["action"]["S"] for i in sorted(chain, key=lambda i: i["sk"]["S"])] == [
        "register",
        "import_duplicate",
    ]
    told = Counter(
        (i["to_org"]["S"], i["type"]["S"]) for i in intents(aws) if i.get("child_id", {}).get("S") == theirs
    )
    assert told == Counter({("E09000012", "record_viewed"): 1, ("E09000012", "seen_in_other_area"): 1})


def test_a_shielded_child_elsewhere_is_shown_without_id_or_categories(aws, importer):
    rows = fake_rows(1)
    register(identity_of(rows[0]), who=HACKNEY_MANAGER, shielding={"reason": "refuge"})
    report = importer.import_file(to_csv(rows))
    (signpost,) = report["duplicates_detail"][0]["signposts"]
    assert "child_id" not in signpost
    assert "categories" not in signpost
    hackney = invoke("inbox", make_event("GET", "/v1/organisations/E09000012", None, CAMDEN)).json()
    assert signpost["contact"] == hackney["manager_contact"]


# ---------------------------------------------------------------- who may read what


def test_another_authority_cannot_read_or_list_an_import(aws, importer):
    import_id = importer.upload(to_csv(fake_rows(1))).json()["import_id"]
    assert importer.view(import_id, HACKNEY).status == 404
    assert importer.view("no-such-import", CAMDEN).status == 404
    assert importer.view(import_id, CAMDEN_COLLEAGUE).status == 200  # the organisation's, not the person's
    hackney_list = invoke("imports", make_event("GET", "/v1/imports", None, HACKNEY)).json()
    assert hackney_list["items"] == []


def test_imports_are_listed_newest_first_page_by_page(importer):
    ids = [importer.upload(to_csv(fake_rows(1, seed=i))).json()["import_id"] for i in range(3)]
    first = invoke("imports", make_event("GET", "/v1/imports", None, CAMDEN, query={"limit": "2"})).json()
    assert [i["import_id"] for i in first["items"]] == ids[::-1][:2]
    rest = invoke(
        "imports",
        make_event("GET", "/v1/imports", None, CAMDEN, query={"limit": "2", "cursor": first["cursor"]}),
    ).json()
    assert [i["import_id"] for i in rest["items"]] == ids[:1]
    assert "cursor" not in rest


def test_rejects_and_duplicates_page_with_one_cursor(aws, importer):
    rows = fake_rows(7)
    for r in rows[:5]:
        r["sex"] = "unknown"
    for r in rows[5:]:
        register(identity_of(r), who=HACKNEY)
    import_id = importer.upload(to_csv(rows)).json()["import_id"]
    importer.run()
    seen_rejects, seen_duplicates, cursor, pages = [], [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = importer.view(import_id, **query).json()
        pages += 1
        seen_rejects += [r["row"] for r in page["rejects"]]
        seen_duplicates += [d["row"] for d in page["duplicates_detail"]]
        cursor = page.get("cursor")
        if not cursor:
            break
    assert (seen_rejects, seen_duplicates, pages) == ([2, 3, 4, 5, 6], [7, 8], 3)
    bad = importer.view(import_id, cursor="not-a-cursor")
    assert bad.status == 400


# ---------------------------------------------------------------- failures, retries and resumption


class Crash(Exception):
    """Stands for the worker dying mid-batch (Lambda timeout, out of memory, a lost instance)."""


def _crash_on_commit(monkeypatch: pytest.MonkeyPatch, at: int, after_writing: bool) -> list[int]:
    """The `at`-th import commit crashes: before it is written, or after (the answer is lost)."""
    original = DynamoStore.commit
    seen = [0]

    def commit(self: DynamoStore, changes: Any) -> None:
        if changes.import_progress:
            seen[0] += 1
            if seen[0] == at:
                if after_writing:
                    original(self, changes)
                raise Crash
        original(self, changes)

    monkeypatch.setattr(DynamoStore, "commit", commit)
    return seen


def final_state(aws: LocalAws, report: dict[str, Any]) -> dict[str, Any]:
    """Everything an import leaves, without the ids that differ from run to run."""
    records = sorted(
        json.dumps(
            {**identity, "org": r.org, "status": r.status, "categories": r.categories, "version": r.version},
            sort_keys=True,
        )
        for r, identity in children(aws).values()
    )
    counts = {
        k: report[k]
        for k in (
            "rows_total",
            "rows_done",
            "accepted",
            "updated",
            "unchanged",
            "duplicates",
            "rejected",
            "status",
        )
    }
    kinds = Counter(
        i["pk"]["S"].split("#")[0] + "/" + re.sub(r"[^A-Z].*", "", i["sk"]["S"]) for i in scan(aws)
    )
    return {
        "records": records,
        "counts": counts,
        "rejects": report["rejects"],
        "duplicates": [
            (d["row"], d["local_id"], d["signposts"][0]["organisation"]) for d in report["duplicates_detail"]
        ],
        "audit": audit_actions(aws),
        "intents": sorted((i["to_org"]["S"], i["type"]["S"]) for i in intents(aws)),
        "items": kinds,
    }


def _mixed_file() -> tuple[bytes, list[dict[str, str]]]:
    rows = fake_rows(60, seed=3)
    for i in range(0, 60, 7):
        rows[i]["date_of_birth"] = "2099-01-01"
    return to_csv(rows), rows[8:10] + rows[40:41]  # three children Hackney already has


@cache
def _uninterrupted() -> dict[str, Any]:
    return _run(None)


def _run(monkeypatch: pytest.MonkeyPatch | None, at: int = 0, after_writing: bool = False) -> dict[str, Any]:
    """The mixed file imported in batches of 20 rows (3 batches; the queue hands over 2 a time)."""
    data, theirs = _mixed_file()
    with LocalAws(extra_env={"IMPORT_BATCH_ROWS": "20"}) as aws:
        wiring.reset_services()
        for row in theirs:
            register(identity_of(row), who=HACKNEY)
        importer = Importer(aws)
        import_id = importer.upload(data).json()["import_id"]
        crashes = _crash_on_commit(monkeypatch, at, after_writing) if monkeypatch else [0]
        importer.run()
        if monkeypatch:
            monkeypatch.undo()
        assert crashes[0] >= at
        report = importer.report(import_id)
        assert importer.queue.stats.retried == (1 if monkeypatch else 0)
        state = final_state(aws, report)
    wiring.reset_services()
    return state


@pytest.mark.parametrize("after_writing", [False, True], ids=["crash-before-commit", "commit-then-crash"])
def test_a_batch_that_crashes_is_retried_alone_and_the_end_state_is_the_same(monkeypatch, after_writing):
    uninterrupted = _uninterrupted()
    # the 6th import commit falls in the middle of the first batch (rows 2-21)
    interrupted = _run(monkeypatch, at=6, after_writing=after_writing)
    assert interrupted == uninterrupted
    assert uninterrupted["counts"]["accepted"] == 48
    assert uninterrupted["counts"]["duplicates"] == 3
    assert uninterrupted["counts"]["rejected"] == 9


def test_a_batch_that_keeps_failing_goes_to_the_dead_letter_queue_and_the_import_fails(
    aws, importer, monkeypatch
):
    data = to_csv(fake_rows(150))
    import_id = importer.upload(data).json()["import_id"]

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise Crash

    monkeypatch.setattr("signpost.logic.import_worker._BatchRun._commit_heavy", broken)
    importer.run()
    report = importer.report(import_id)
    assert report["status"] == "failed"
    assert report["rows_done"] == 0
    assert importer.queue.dead_letters() == 2  # both batches, after maxReceiveCount deliveries each
    # every failed delivery went back to the queue, which moved each message on after its 5th
    assert importer.queue.stats.retried == 2 * aws.import_max_receives
    monkeypatch.undo()
    again = importer.import_file(data)  # uploading again imports it
    assert (again["status"], again["accepted"]) == ("completed", 150)


def test_a_message_for_an_import_that_does_not_exist_is_dropped(aws, importer):
    message = {
        "import_id": "gone",
        "batch": 1,
        "first_row": 2,
        "last_row": 3,
        "start": 0,
        "end": 10,
        "rows": 2,
    }
    boto3.client("sqs", region_name="eu-west-2").send_message(
        QueueUrl=aws.import_queue_url, MessageBody=json.dumps(message)
    )
    importer.run()
    assert (importer.queue.stats.delivered, importer.queue.stats.retried) == (1, 0)


def test_progress_is_visible_while_batches_run():
    with LocalAws(extra_env={"IMPORT_BATCH_ROWS": "10"}) as aws:
        wiring.reset_services()
        importer = Importer(aws)
        import_id = importer.upload(to_csv(fake_rows(25))).json()["import_id"]
        importer.queue.deliver_once(lambda event: invoke("import_worker", event))  # 2 of 3 batches
        middle = importer.view(import_id).json()
        assert (middle["status"], middle["rows_done"], middle["rows_total"]) == ("running", 20, 25)
        importer.run()
        assert importer.view(import_id).json()["status"] == "completed"
    wiring.reset_services()


# ---------------------------------------------------------------- no identity in any output


def test_no_identity_value_reaches_a_log_a_reject_or_an_error(aws, importer, monkeypatch):
    rows = fake_rows(4)
    rows[1]["nhs_number"] = "12345"
    rows[2]["postcode"] = "NOT A POSTCODE"
    register(identity_of(rows[3]), who=HACKNEY)
    values = {
        v
        for r in rows
        for k, v in r.items()
        if k in ("given_names", "family_name", "date_of_birth", "nhs_number", "postcode")
    }
    real_registration = import_worker.registration
    failures = [0]

    def fails_once_quoting_the_row(
        services: Any, caller: Any, request: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if not failures[0]:
            failures[0] += 1
            raise ValueError(
                f"cannot register {request.given_names} {request.family_name} {request.nhs_number}"
            )
        return real_registration(services, caller, request, *args, **kwargs)

    monkeypatch.setattr(import_worker, "registration", fails_once_quoting_the_row)
    capture = LogCapture().start()
    try:
        report = importer.import_file(to_csv(rows))
        refused = importer.upload(
            f"local_id,{rows[0]['given_names']},{rows[0]['nhs_number']}\nx,y,z\n".encode()
        )
    finally:
        capture.stop()
    assert failures[0] == 1
    assert importer.queue.stats.retried == 1  # the batch failed once (quoting the row), then went through
    assert (report["accepted"], report["rejected"], report["duplicates"]) == (1, 2, 1)
    assert refused.status == 400
    text = json.dumps(report["rejects"]) + json.dumps(refused.json()) + capture.text
    assert "import batch not finished" in capture.text
    assert sorted(v for v in values if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)) == []
