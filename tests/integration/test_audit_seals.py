"""The audit a writer cannot rewrite, through the real handlers against moto: writers append, the
audit sealer (on the audit table's stream, alone with the MAC key) seals, the hourly anchor locks
seals in S3 Object Lock, and `signpost-admin verify-audit` finds what a compromised writer or an
administrator did - and says which control found it."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from signpost import admin, wiring
from signpost.audit_chain import GENESIS, seal
from signpost.dal import clients
from signpost.dal.audit import audit_from_item, audit_item
from signpost.dal.audit_heads import DynamoSealStore
from signpost.dal.kms import KmsMac
from signpost.logic.audit_sealer import AuditChange, seal_changes

from infrastructure.local.aws import ANCHOR_BUCKET, AUDIT_MAC_KEY_ALIAS, LocalAws
from infrastructure.local.stream import LocalStream
from tests.support.callers import ADMIN, CAMDEN, CLINIC, HACKNEY, POLICE
from tests.support.iam import ItemRequest, RolePolicies
from tests.support.lambda_events import invoke, make_event

EVENTS = Path(__file__).resolve().parents[2] / "events"
REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {
    "given_names": "Tomasz",
    "family_name": "Adeyemi-Kowal",
    "date_of_birth": "2011-05-06",
    "sex": "male",
}


def _client(service: str = "dynamodb") -> Any:
    return boto3.client(service, region_name="eu-west-2")  # type: ignore[call-overload]


def _items(local: LocalAws, logical_id: str) -> list[dict[str, Any]]:
    """Test-only inspection of a whole table (the product never scans)."""
    return _client().scan(TableName=local.tables[logical_id])["Items"]


def _sealer(stream: LocalStream) -> list[dict[str, Any]]:
    """Feed what the audit stream captured to the sealer, as the event source mapping would."""
    results: list[dict[str, Any]] = []
    stream.flush(lambda event: results.append(invoke("audit_sealer", event)) or results[-1])
    return results


def _anchor() -> dict[str, Any]:
    event = json.loads((EVENTS / "audit-sealer-schedule.json").read_text())
    return dict(invoke("audit_sealer", event))


def _activity(stream: LocalStream) -> str:
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    child_id = resp.json()["child_id"]
    for who, reason in ((HACKNEY, "referral"), (CLINIC, "emergency_care"), (POLICE, "police_enquiry")):
        extra = {"case_reference": "CAD-77/26"} if who is POLICE else {}
        search = {**CHILD, "reason": reason, **extra}
        assert invoke("search", make_event("POST", "/v1/searches", search, caller=who)).status == 200
    assert invoke("records", make_event("GET", f"/v1/children/{child_id}", caller=CAMDEN)).status == 200
    _sealer(stream)
    return f"CHILD#{child_id}"


def _verify(*args: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = admin.main(["verify-audit", "--json", *args], out=out)
    return code, json.loads(out.getvalue())


def _found(report: dict[str, Any]) -> set[tuple[str, int, str, str]]:
    return {(p["chain"], p["seq"], p["problem"], p["detected_by"]) for p in report["problems"]}


def _chain_items(local: LocalAws, chain: str) -> list[dict[str, Any]]:
    resp = _client().query(
        TableName=local.tables["AuditTable"],
        KeyConditionExpression="pk = :c",
        ExpressionAttributeValues={":c": {"S": chain}},
    )
    return list(resp["Items"])


# ---------------------------------------------------------------------- sealing


def test_every_append_is_sealed_under_the_mac_key_outside_the_writers_tables(aws, audit_stream):
    chain = _activity(audit_stream)
    [head] = [i for i in _items(aws, "AuditHeadsTable") if i["sk"]["S"] == chain]
    last = _chain_items(aws, chain)[-1]
    assert (head["seq"]["N"], head["hash"]["S"]) == ("4", last["hash"]["S"])
    seals = DynamoSealStore(aws.tables["AuditHeadsTable"])
    sealed = list(seals.seals())
    assert sealed, "the sealer wrote seals"
    mac = KmsMac(AUDIT_MAC_KEY_ALIAS)
    assert all(mac.verify_mac(s.message(), s.mac_bytes()) for s in sealed)
    assert not mac.verify_mac(sealed[0].message() + b"x", sealed[0].mac_bytes())
    # No head of the audit lives where the writers write: they keep only an untrusted cursor
    # per child chain (a search's candidates' cursors are read with them), none per search.
    kept = {i["pk"]["S"].split("#")[0] for i in _items(aws, "RecordsTable") if "AUDIT" in i["pk"]["S"]}
    assert kept == {"AUDITCURSOR"}
    assert not [i for i in _items(aws, "RecordsTable") if i["pk"]["S"].startswith("AUDITCURSOR#SEARCH#")]


def test_a_search_leaves_nothing_in_the_records_table_that_never_expires(aws):
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    assert invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN)).status == 201
    before = {(i["pk"]["S"], i["sk"]["S"]) for i in _items(aws, "RecordsTable")}
    for _ in range(3):
        search = {**CHILD, "reason": "referral"}
        assert invoke("search", make_event("POST", "/v1/searches", search, caller=HACKNEY)).status == 200
    left = [i for i in _items(aws, "RecordsTable") if (i["pk"]["S"], i["sk"]["S"]) not in before]
    assert left, "a search writes its notification intents"
    assert all("expires_at" in i for i in left), [
        i["pk"]["S"].split("#")[0] for i in left if "expires_at" not in i
    ]


def test_verify_audit_passes_an_untouched_audit(aws, audit_stream):
    _activity(audit_stream)
    assert _anchor()["anchored_seal"] is not None
    code, report = _verify("--full-scan")
    assert (code, report["ok"], report["chains"], report["items"]) == (0, True, 4, 8), report
    assert report["anchors"] == 1
    assert report["newest_anchored_seal"] == report["seals"] - 1


# ---------------------------------------------------------------------- a compromised writer


def test_a_chain_recomputed_end_to_end_by_a_writer_is_detected(aws, audit_stream):
    chain = _activity(audit_stream)
    # A compromised writer has PutItem on the audit table (it must, to append): it rewrites every
    # entry of the child's chain - no police search ever happened - and recomputes every link.
    # Its role allows exactly that, and nothing on the seals.
    roles = RolePolicies()
    overwrite = ItemRequest("dynamodb:PutItem", "AuditTable", chain, frozenset({"pk", "sk", "org"}))
    assert roles.allows("RecordsFunction", overwrite)
    for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
        assert not roles.allows("RecordsFunction", ItemRequest(action, "AuditHeadsTable", "SEAL"))
    writer = _client()
    prev = GENESIS
    for item in _chain_items(aws, chain):
        entry = audit_from_item(item)
        if entry.org == "E23000001":
            entry = entry.model_copy(update={"org": "E09000007", "role": "la_manager", "reason": None})
        entry = seal(entry.model_copy(update={"prev_hash": prev}))
        writer.put_item(TableName=aws.tables["AuditTable"], Item=audit_item(entry))
        prev = entry.hash
    # The links all hold again; the sealed head, out of the writer's reach, does not.
    code, report = _verify()
    assert code == 1
    assert _found(report) == {(chain, 4, "head_mismatch", "sealed_head")}
    # And every overwrite reached the sealer on the stream: sealed as tampering, and counted.
    [result] = _sealer(audit_stream)
    assert result["tampering"] == 5
    code, report = _verify()
    assert _found(report) == {(chain, 4, "head_mismatch", "sealed_head")} | {
        (chain, seq, "overwritten", "sealer") for seq in range(5)
    }


def test_an_overwrite_by_put_item_is_sealed_as_tampering(aws, audit_stream):
    chain = _activity(audit_stream)
    [first, *_] = _chain_items(aws, chain)
    _client().put_item(TableName=aws.tables["AuditTable"], Item={**first, "org": {"S": "E09000012"}})
    [result] = _sealer(audit_stream)
    assert result["tampering"] == 1
    code, report = _verify()
    assert code == 1
    assert {(chain, 0, "overwritten", "sealer"), (chain, 0, "hash_mismatch", "chain")} <= _found(report)


def test_verify_audit_detects_removal_of_the_newest_item(aws, audit_stream):
    chain = _activity(audit_stream)
    last = _chain_items(aws, chain)[-1]
    _client().delete_item(TableName=aws.tables["AuditTable"], Key={"pk": last["pk"], "sk": last["sk"]})
    assert _verify() == (1, _verify()[1])
    assert _found(_verify()[1]) == {(chain, 4, "truncated", "sealed_head")}
    _sealer(audit_stream)
    assert (chain, 4, "removed", "sealer") in _found(_verify()[1])


def test_verify_audit_full_scan_finds_a_chain_the_sealer_never_saw(aws):
    """Written around the stream (e.g. restored from a backup): in the table, in no seal."""
    forged = seal(
        audit_from_item(
            {
                "pk": {"S": "CHILD#forged"}, "sk": {"S": "000000000000"}, "seq": {"N": "0"},
                "at": {"S": "2026-01-01T00:00:00Z"}, "action": {"S": "view"}, "org": {"S": "E09000007"},
                "role": {"S": "la_manager"}, "sub": {"S": "x"}, "prev_hash": {"S": GENESIS},
            }
        )
    )  # fmt: skip
    _client().put_item(TableName=aws.tables["AuditTable"], Item=audit_item(forged))
    assert _verify()[0] == 0  # the seals do not know it ...
    code, report = _verify("--full-scan")
    assert (code, _found(report)) == (1, {("CHILD#forged", 0, "missing_head", "sealed_head")})


def test_verify_audit_prints_no_audit_content(aws, audit_stream):
    chain = _activity(audit_stream)
    last = _chain_items(aws, chain)[-1]
    _client().delete_item(TableName=aws.tables["AuditTable"], Key={"pk": last["pk"], "sk": last["sk"]})
    out = io.StringIO()
    assert admin.main(["verify-audit"], out=out) == 1
    text = out.getvalue()
    assert f"PROBLEM truncated chain={chain} seq=4 detected_by=sealed_head" in text
    for value in ("Tomasz", "Adeyemi", "RAL-SH1", "CAD-77/26", "mps-officer-1"):
        assert value not in text


# ---------------------------------------------------------------------- an administrator


def test_an_anchor_older_than_the_tampering_catches_an_administrator(aws, audit_stream):
    chain = _activity(audit_stream)
    anchored = _anchor()["anchored_seal"]
    # An administrator - every table, and GenerateMac on the audit MAC key - switches the sealer
    # off, rewrites the child's chain, then rebuilds every seal and head so all of it agrees again.
    audit_stream.uninstall()
    table = aws.tables["AuditTable"]
    prev = GENESIS
    for item in _chain_items(aws, chain):
        entry = seal(audit_from_item(item).model_copy(update={"prev_hash": prev, "outcome": None}))
        _client().put_item(TableName=table, Item=audit_item(entry))
        prev = entry.hash
    heads_table = aws.tables["AuditHeadsTable"]
    for item in _items(aws, "AuditHeadsTable"):
        _client().delete_item(TableName=heads_table, Key={"pk": item["pk"], "sk": item["sk"]})
    everything = [
        AuditChange("INSERT", i["pk"]["S"], int(i["sk"]["S"]), audit_from_item(i))
        for i in _items(aws, "AuditTable")
    ]
    seal_changes(DynamoSealStore(heads_table), KmsMac(AUDIT_MAC_KEY_ALIAS), everything, wiring.services().now)
    code, report = _verify("--full-scan", "--all-macs")
    assert code == 1
    assert _found(report) == {("ANCHOR", anchored, "anchor_mismatch", "anchor")}
    # ... and the anchor cannot be taken away: S3 Object Lock, compliance mode.
    s3 = _client("s3")
    [version] = s3.list_object_versions(Bucket=ANCHOR_BUCKET, Prefix="anchors/")["Versions"]
    key, version_id = version["Key"], version["VersionId"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=ANCHOR_BUCKET, Key=key, VersionId=version_id)
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.put_object_retention(
            Bucket=ANCHOR_BUCKET, Key=key, VersionId=version_id,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": tomorrow},
        )  # fmt: skip
    with pytest.raises(ClientError, match="InvalidBucketState"):
        s3.put_bucket_versioning(Bucket=ANCHOR_BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_object(Bucket=ANCHOR_BUCKET, Key=key)  # a delete marker hides nothing from the verifier
    s3.put_object(Bucket=ANCHOR_BUCKET, Key=key, Body=b'{"seal": 0, "hash": "forged", "at": "x"}')
    assert ("ANCHOR", anchored, "anchor_mismatch", "anchor") in _found(_verify()[1])


def test_the_anchor_bucket_is_as_strict_as_s3(aws):
    """moto would let a compliance-mode retention be shortened: the local stack does not."""
    s3 = _client("s3")
    version = s3.put_object(Bucket=ANCHOR_BUCKET, Key="anchors/probe.json", Body=b"{}")["VersionId"]
    head = s3.head_object(Bucket=ANCHOR_BUCKET, Key="anchors/probe.json", VersionId=version)
    until = head["ObjectLockRetainUntilDate"]
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert until > dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)  # the template's default
    for mode, moved in (("COMPLIANCE", -dt.timedelta(days=1)), ("GOVERNANCE", dt.timedelta(days=1))):
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.put_object_retention(
                Bucket=ANCHOR_BUCKET, Key="anchors/probe.json", VersionId=version,
                Retention={"Mode": mode, "RetainUntilDate": until + moved},
            )  # fmt: skip
    s3.put_object_retention(  # lengthening is allowed, in S3 too
        Bucket=ANCHOR_BUCKET, Key="anchors/probe.json", VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until + dt.timedelta(days=1)},
    )  # fmt: skip
    with pytest.raises(ClientError):
        s3.put_object_lock_configuration(Bucket=ANCHOR_BUCKET, ObjectLockConfiguration={})
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=ANCHOR_BUCKET, Key="anchors/probe.json", Body=b"{}", IfNoneMatch="*")


# ---------------------------------------------------------------------- the directory


def _put_org(body: dict[str, Any], who: Any = ADMIN) -> Any:
    return invoke("inbox", make_event("PUT", f"/v1/organisations/{body['code']}", body, caller=who))


def test_a_directory_change_is_audited_with_who_and_old_and_new_values(aws, audit_stream):
    camden = invoke("inbox", make_event("GET", "/v1/organisations/E09000007", caller=CAMDEN)).json()
    calls: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        calls.append(len(params["TransactItems"]))

    clients.dynamodb().meta.events.register("before-parameter-build.dynamodb.TransactWriteItems", count)
    steered = {**camden, "manager_contact": {**camden["manager_contact"], "phone": "07700 900123"}}
    assert _put_org(steered).status == 200
    assert calls == [2], "the entry and its audit entry in one transaction"
    assert _put_org({**steered, "active": False, "sensitive_service": True}).status == 200
    new = {**camden, "code": "E06000001", "name": "Hartlepool Borough Council", "area": "E06000001"}
    assert _put_org(new).status == 201
    assert _put_org(steered, who=CAMDEN).status == 403
    entries = [audit_from_item(i) for i in _chain_items(aws, "DIRECTORY#E09000007")]
    assert [(e.action, e.org, e.role, e.sub) for e in entries] == [
        ("organisation_update", "NATIONAL", "admin", "admin-1")
    ] * 2
    assert entries[0].details == {
        "changes": {"manager_contact": {"old": camden["manager_contact"], "new": steered["manager_contact"]}}
    }
    assert entries[1].details == {
        "changes": {"sensitive_service": {"old": False, "new": True}, "active": {"old": True, "new": False}}
    }
    [created] = [audit_from_item(i) for i in _chain_items(aws, "DIRECTORY#E06000001")]
    assert created.action == "organisation_create"
    assert set(created.details["changes"]) >= {
        "contact",
        "manager_contact",
        "type",
        "sensitive_service",
        "active",
    }
    _sealer(audit_stream)
    assert _verify()[0] == 0


def test_a_forged_writer_cursor_hides_nothing(aws, audit_stream):
    """The cursor a search reads with its candidates is a hint: moved ahead, the next entry leaves
    a gap in the chain, which the sealer seals as tampering; moved back, the append collides and
    the search reads the chain's real end and retries."""
    chain = _activity(audit_stream)
    cursor = {"pk": {"S": f"AUDITCURSOR#{chain}"}, "sk": {"S": "CURSOR"}}
    table = aws.tables["RecordsTable"]
    _client().put_item(TableName=table, Item={**cursor, "seq": {"N": "1"}, "hash": {"S": "0" * 64}})
    search = {**CHILD, "reason": "referral"}
    assert invoke("search", make_event("POST", "/v1/searches", search, caller=HACKNEY)).status == 200
    assert [audit_from_item(i).seq for i in _chain_items(aws, chain)] == [0, 1, 2, 3, 4, 5]
    _sealer(audit_stream)
    assert _verify()[0] == 0  # behind: the append collided, and was retried at the real end
    _client().put_item(TableName=table, Item={**cursor, "seq": {"N": "9"}, "hash": {"S": "0" * 64}})
    assert invoke("search", make_event("POST", "/v1/searches", search, caller=HACKNEY)).status == 200
    [result] = _sealer(audit_stream)
    assert result["tampering"] == 1
    code, report = _verify()
    assert code == 1
    assert {(chain, 10, "gap", "sealer"), (chain, 10, "gap", "chain")} <= _found(report)
