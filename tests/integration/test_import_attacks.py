"""Bulk import, read as an attacker inside the system would: a practitioner of one authority
probing for children of another, or another organisation reaching for an import.

Every answer that says a child is on the index is audited on the child's chain and told to
the responsible organisation, exactly as a search is; anything else says nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from signpost import wiring
from signpost.dal import clients
from signpost.dal.cursors import encode_cursor

from infrastructure.local.aws import LocalAws
from tests.support.iam import ItemRequest, RolePolicies
from tests.support.imports import CAMDEN, Importer, fake_rows, review_by, to_csv
from tests.support.lambda_events import caller, invoke, make_event
from tests.support.tables import scan

HACKNEY = caller("E09000012", "la_practitioner", "hackney-sw-1")


@pytest.fixture
def importer(aws: LocalAws) -> Importer:
    return Importer(aws)


def register(row: dict[str, str], who=HACKNEY) -> str:
    keys = ("given_names", "family_name", "date_of_birth", "sex", "nhs_number", "postcode")
    body = {k: row[k] for k in keys if row.get(k)}
    body.update(categories=["child_protection_plan"], review_by=review_by())
    response = invoke("records", make_event("POST", "/v1/children", body, caller=who))
    assert response.status == 201, response.json()
    return str(response.json()["child_id"])


def chain_actions(aws: LocalAws, child_id: str) -> list[str]:
    chain = [i for i in scan(aws, "AuditTable") if i["pk"]["S"] == f"CHILD#{child_id}"]
    return [i["action"]["S"] for i in sorted(chain, key=lambda i: i["sk"]["S"])]


def told(aws: LocalAws, child_id: str) -> Counter[tuple[str, str]]:
    return Counter(
        (i["to_org"]["S"], i["type"]["S"])
        for i in scan(aws)
        if i["sk"]["S"] == "INTENT" and i.get("child_id", {}).get("S") == child_id
    )


def test_an_nhs_number_probed_through_a_linked_row_is_a_duplicate_audited_and_notified(aws, importer):
    """Camden imports its own child, then re-imports the same local_id carrying another
    authority's child's NHS number. The NHS number's guard names that child: the row is that
    child's duplicate, shown, audited and notified like a search - not a batch that fails
    (whose failure alone would say "this NHS number is on the index", unaudited)."""
    ours, theirs = fake_rows(2)
    hackney_child = register(theirs)
    first = importer.import_file(to_csv([ours]))
    assert first["accepted"] == 1
    probe = {**ours, "nhs_number": theirs["nhs_number"]}
    report = importer.import_file(to_csv([probe]))
    assert report["status"] == "completed"
    assert (report["accepted"], report["duplicates"], report["rejected"]) == (0, 1, 0)
    (duplicate,) = report["duplicates_detail"]
    (signpost,) = duplicate["signposts"]
    assert signpost["organisation"]["code"] == "E09000012"
    assert chain_actions(aws, hackney_child) == ["register", "import_duplicate"]
    assert told(aws, hackney_child)[("E09000012", "record_viewed")] == 1
    # Camden's own record kept its NHS number (the guard's holder is another child)
    records = [i for i in scan(aws) if i["sk"]["S"] == "RECORD" and i["org"]["S"] == "E09000007"]
    (record,) = records
    assert int(record["version"]["N"]) == 1


def test_an_nhs_number_of_another_own_child_is_a_reject_not_a_failed_batch(aws, importer):
    """The same correction within the organisation: the NHS number's holder is the authority's
    own child under another local_id, so the row is rejected (R017) and the batch goes on."""
    rows = fake_rows(3)
    importer.import_file(to_csv(rows))
    clash = {**rows[0], "nhs_number": rows[1]["nhs_number"]}
    report = importer.import_file(to_csv([clash, rows[1], rows[2]]))
    assert report["status"] == "completed"
    assert (report["rejected"], report["unchanged"], report["duplicates"]) == (1, 2, 0)
    assert [(r["row"], r["code"]) for r in report["rejects"]] == [(2, "R017_CHILD_UNDER_OTHER_LOCAL_ID")]


# ---------------------------------------------------------------- a compromised imports function


def _partition(key: dict[str, Any]) -> str:
    value = key.get("pk") or key.get("id") or key.get("code") or next(iter(key.values()))
    return str(value["S"])


class Reads:
    """Every read the product's DynamoDB client sends while `active` (table, partition key)."""

    def __init__(self, tables: dict[str, str]) -> None:
        self.logical = {name: logical for logical, name in tables.items()}
        self.active = False
        self.seen: list[ItemRequest] = []

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if not self.active:
            return
        action = f"dynamodb:{model.name}"
        if model.name == "GetItem":
            self._add(action, params["TableName"], _partition(params["Key"]))
        elif model.name == "Query":
            # every key condition here is "<partition key> = :value [AND ...]"
            name = params["KeyConditionExpression"].split("=")[1].split()[0]
            self._add(action, params["TableName"], params["ExpressionAttributeValues"][name]["S"])
        elif model.name == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    self._add(action, table, _partition(key))

    def _add(self, action: str, table: str, pk: str) -> None:
        self.seen.append(ItemRequest(action=action, table=self.logical[table], leading_key=pk))


def test_the_imports_function_reads_and_writes_only_its_own_items(aws, importer):
    """The imports role may read only the uploads and the authorities' lists, and append only to
    an upload's own chain: a compromised imports function cannot read a child's record (its
    organisation, categories and shielding are plain attributes) nor write on a child's chain.
    The worker appends to children's chains only. What each function really reads in an upload,
    its batches, a report and a listing is all its role allows."""
    rows = fake_rows(3)
    register(rows[1])
    reads = Reads(aws.tables)
    events = clients.dynamodb().meta.events
    events.register("before-parameter-build.dynamodb", reads)
    try:
        reads.active = True
        import_id = importer.upload(to_csv(rows)).json()["import_id"]
        reads.active = False
        worker = Reads(aws.tables)
        events.register("before-parameter-build.dynamodb", worker)
        worker.active = True
        importer.run()
        worker.active = False
        reads.active = True
        assert importer.view(import_id).json()["duplicates"] == 1
        listed = invoke("imports", make_event("GET", "/v1/imports", None, CAMDEN)).json()
        assert [i["import_id"] for i in listed["items"]] == [import_id]
    finally:
        events.unregister("before-parameter-build.dynamodb", reads)
        events.unregister("before-parameter-build.dynamodb", worker)
    policies = RolePolicies()
    # the worker reads children's chains only, as its role now allows (and no other chain)
    assert {r.leading_key.split("#")[0] for r in worker.seen if r.table == "AuditTable"} <= {"CHILD"}
    assert [r for r in worker.seen if not policies.allows("ImportWorkerFunction", r)] == []
    for chain in (f"IMPORT#{import_id}", "SEARCH#x", "DIRECTORY#E09000007"):
        assert not policies.allows(
            "ImportWorkerFunction", ItemRequest("dynamodb:PutItem", "AuditTable", chain)
        )
    assert {r.leading_key.split("#")[0] for r in reads.seen} == {"IMPORT", "IMPORTS"}
    assert [r for r in reads.seen if not policies.allows("ImportsFunction", r)] == []
    for pk in ("CHILD#0d4c8b2a6e1f4a3b9c7d5e8f0a2b4c6d", "LOCALID#ab12", "NHSIDX#ab12", "TRANSFER#x"):
        for action in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"):
            assert not policies.allows("ImportsFunction", ItemRequest(action, "RecordsTable", pk))
    chain = "CHILD#0d4c8b2a6e1f4a3b9c7d5e8f0a2b4c6d"
    for action in ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"):
        assert not policies.allows("ImportsFunction", ItemRequest(action, "AuditTable", chain))
    upload_chain = ItemRequest("dynamodb:PutItem", "AuditTable", f"IMPORT#{import_id}")
    assert policies.allows("ImportsFunction", upload_chain)


# ---------------------------------------------------------------- another organisation, ids, cursors


@pytest.mark.parametrize(
    "position",
    ["DUP#0000002|~", "~|REJECT#0000002#00", "BATCH#00001|~", "IMPORT#1|~", "~|LOCALID#1"],
)
def test_a_cursor_holds_only_the_family_it_pages(aws, importer, position):
    """The report's cursor positions the rejects among the rejects and the duplicates among the
    duplicates; one naming any other item (a batch, the upload, the other list) is a 400, not a
    query DynamoDB refuses (a starting key outside the key condition is a ValidationException)."""
    import_id = importer.import_file(to_csv(fake_rows(1)))["import_id"]
    assert importer.view(import_id, cursor=encode_cursor(position)).status == 400


def test_an_import_id_past_any_issued_length_is_404_like_any_other(aws, importer):
    import_id = importer.upload(to_csv(fake_rows(1))).json()["import_id"]
    unknown = importer.view("f" * 32)
    assert unknown.status == 404
    for too_long in (import_id + "0" * 200, "a" * 2100):
        answer = importer.view(too_long)
        assert (answer.status, answer.json()) == (404, unknown.json())
    assert importer.view(import_id, HACKNEY).json() == unknown.json()


def test_an_organisation_locked_out_after_uploading_imports_nothing_more(aws, importer):
    """Deactivating an organisation locks its tokens out within a minute; the worker, which acts
    as the uploader, must stop too - not go on registering rows and revealing duplicates for an
    organisation that may no longer act (its batches report failed)."""
    rows = fake_rows(3)
    register(rows[1])
    import_id = importer.upload(to_csv(rows)).json()["import_id"]
    admin = caller("NATIONAL", "admin", "admin-1")
    camden = invoke("inbox", make_event("GET", "/v1/organisations/E09000007", caller=admin)).json()
    off = invoke(
        "inbox", make_event("PUT", "/v1/organisations/E09000007", {**camden, "active": False}, admin)
    )
    assert off.status == 200
    wiring.reset_services()  # a worker instance whose directory cache is past its minute
    importer.run()
    assert [i for i in scan(aws) if i["sk"]["S"] == "RECORD" and i["org"]["S"] == "E09000007"] == []
    assert [i for i in scan(aws, "AuditTable") if i["action"]["S"] == "import_duplicate"] == []
    batches = [
        i for i in scan(aws) if i["pk"]["S"] == f"IMPORT#{import_id}" and i["sk"]["S"].startswith("BATCH#")
    ]
    assert [i["failed"]["BOOL"] for i in batches] == [True]
    assert importer.queue.stats.retried == 0


# ---------------------------------------------------------------- local_ids across organisations


def test_a_child_transferred_since_its_import_is_imported_by_its_new_organisation(aws, importer):
    """Camden imported the child under its local_id, then transferred it to Hackney. Hackney's
    import of the child under Hackney's own local_id links it (Camden's old link no longer
    speaks for the child); Camden's old local_id now finds Hackney's child: a duplicate."""
    (row,) = fake_rows(1)
    importer.import_file(to_csv([row]))
    (child_id,) = {i["pk"]["S"].removeprefix("CHILD#") for i in scan(aws) if i["sk"]["S"] == "RECORD"}
    body = {"to_org": "E09000012", "reason": "family_moved", "move_date": review_by(0)}
    event = make_event("POST", f"/v1/children/{child_id}/transfers", body, caller=CAMDEN)
    transfer_id = invoke("transfers", event).json()["transfer_id"]
    for step in ("acknowledge", "accept"):
        done = invoke("transfers", make_event("POST", f"/v1/transfers/{transfer_id}/{step}", caller=HACKNEY))
        assert done.status == 200, done.json()
    hackneys = {**row, "local_id": "H-1"}
    report = importer.import_file(to_csv([hackneys]), who=HACKNEY)
    assert (report["rejected"], report["unchanged"], report["accepted"]) == (0, 1, 0), report["rejects"]
    again = importer.import_file(to_csv([hackneys]), who=HACKNEY)
    assert again["unchanged"] == 1
    camden_again = importer.import_file(to_csv([row]))
    assert camden_again["duplicates"] == 1
    assert len([i for i in scan(aws) if i["sk"]["S"] == "RECORD"]) == 1
