"""Branch keys on moto: the key store the local stack starts with, rotation by the clock
function, records sealed by one instance opened by another without KMS, old versions."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from signpost import admin, wiring
from signpost.crypto.envelope import FORMAT_BRANCH_KEY, DecryptionFailed
from signpost.dal import clients
from signpost.dal.branch_keys import DynamoBranchKeyRotation, DynamoBranchKeys
from signpost.logic.identity import open_identity
from signpost.logic.key_rotation import rotate_if_due
from signpost.settings import get_settings

from functions.clock.app import lambda_handler as clock_handler
from infrastructure.local.aws import REGION, LocalAws
from tests.support.callers import CAMDEN, ROYAL_FREE
from tests.support.lambda_events import invoke, lambda_context, make_event
from tests.support.legacy_envelope import LegacyKmsDataKeys, LegacySealer

EVENTS = Path(__file__).resolve().parents[2] / "events"
REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILD = {"given_names": "Tomasz", "family_name": "Okonkwo-Reid", "date_of_birth": "2012-06-17"}
UTC = dt.UTC


class KmsCalls:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        clients.kms().meta.events.register("before-call.kms.*", self)

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def total(self) -> int:
        return sum(self.calls.values())


def _key_store_items(local: LocalAws) -> dict[str, dict[str, Any]]:
    """Test-only inspection of the whole key store (the product never scans)."""
    client = boto3.client("dynamodb", region_name=REGION)
    items = client.scan(TableName=local.tables["KeyStoreTable"])["Items"]
    return {i["sk"]["S"]: i for i in items}


def _rotation() -> DynamoBranchKeyRotation:
    s = get_settings()
    return DynamoBranchKeyRotation(s.key_store_table, s.data_key_id)


def _register() -> str:
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def _search() -> dict[str, Any]:
    body = {**CHILD, "reason": "emergency_care"}
    resp = invoke("search", make_event("POST", "/v1/searches", body, caller=ROYAL_FREE))
    assert resp.status == 200
    return dict(resp.json())


def test_the_stack_starts_with_one_wrapped_branch_key(aws: LocalAws) -> None:
    items = _key_store_items(aws)
    [version_sk] = [sk for sk in items if sk.startswith("VERSION#")]
    active = items["ACTIVE"]
    assert version_sk == f"VERSION#{active['version']['S']}"
    assert items[version_sk]["wrapped"] == active["wrapped"]
    assert len(active["wrapped"]["B"]) > 32  # KMS ciphertext, never the key itself


def test_a_record_names_its_branch_key_version_and_holds_no_kms_ciphertext(aws: LocalAws) -> None:
    child_id = _register()
    record = wiring.services().store.records.get_child(child_id)
    assert record is not None
    assert record.identity[0] == FORMAT_BRANCH_KEY
    assert record.identity[1:17].hex() == _key_store_items(aws)["ACTIVE"]["version"]["S"]
    plaintext = json.dumps(
        open_identity(wiring.services().cipher, child_id, record.identity),
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    # format, version, salt, nonce, tag: format 1 carried a ~180-byte wrapped data key instead
    assert len(record.identity) - len(plaintext) == 1 + 16 + 32 + 12 + 16


def test_other_instances_open_records_with_one_kms_call_each_not_one_per_record(aws: LocalAws) -> None:
    settings = get_settings()
    writer, reader = wiring.make_services(settings), wiring.make_services(settings)
    ids = [f"{n:032x}" for n in range(20)]
    blobs = [writer.cipher.encrypt(b'{"x":1}', cid.encode()) for cid in ids]
    kms = KmsCalls()
    for cid, blob in zip(ids, blobs, strict=True):
        assert reader.cipher.decrypt(blob, cid.encode()) == b'{"x":1}'
    assert kms.calls == {"Decrypt": 1}


def test_rotation_is_due_by_age_once_and_old_versions_still_open(aws: LocalAws) -> None:
    rotation = _rotation()
    first, created = rotation.active() or ("", dt.datetime.min)
    child_id = _register()
    assert rotate_if_due(rotation, created + dt.timedelta(days=89), dt.timedelta(days=90)) is None
    second = rotate_if_due(rotation, created + dt.timedelta(days=90), dt.timedelta(days=90))
    assert second not in (None, first)
    assert rotate_if_due(rotation, created + dt.timedelta(days=90), dt.timedelta(days=90)) is None
    # A rotator that read the old active version loses to the one that already rotated.
    assert rotation.rotate(dt.datetime.now(tz=UTC), replacing=first) is None
    assert (rotation.active() or ("",))[0] == second
    assert set(_key_store_items(aws)) == {"ACTIVE", f"VERSION#{first}", f"VERSION#{second}"}
    # New instances seal under the new version and still open the old one.
    wiring.reset_services()
    later = _register_other()
    assert wiring.services().store.records.get_child(later).identity[1:17].hex() == second  # type: ignore[union-attr]
    assert _search()["outcome"] == "match"
    assert child_id in {s.get("child_id") for s in _search()["signposts"]}


def _register_other() -> str:
    body = {**CHILD, "given_names": "Amara", "categories": ["child_in_need"], "review_by": REVIEW_BY}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def test_a_wrapped_key_moved_to_another_version_does_not_unwrap(aws: LocalAws) -> None:
    rotation = _rotation()
    first = (rotation.active() or ("",))[0]
    second = rotation.rotate(dt.datetime.now(tz=UTC), replacing=first)
    assert second is not None
    s = get_settings()
    keys = DynamoBranchKeys(s.key_store_table, s.data_key_id)
    keys.unwrap_branch_key(first, keys.wrapped_branch_key(first))
    with pytest.raises(Exception, match="InvalidCiphertext"):
        keys.unwrap_branch_key(second, keys.wrapped_branch_key(first))


def test_an_update_reseals_format_one_records_as_format_two(aws: LocalAws) -> None:
    child_id = _register()
    svc = wiring.services()
    record = svc.store.records.get_child(child_id)
    assert record is not None
    identity = open_identity(svc.cipher, child_id, record.identity)
    old_blob = LegacySealer(LegacyKmsDataKeys(get_settings().data_key_id)).encrypt(
        json.dumps(identity, sort_keys=True, separators=(",", ":")).encode(), child_id.encode()
    )
    clients.dynamodb().update_item(
        TableName=aws.tables["RecordsTable"],
        Key={"pk": {"S": f"CHILD#{child_id}"}, "sk": {"S": "RECORD"}},
        UpdateExpression="SET #i = :b",
        ExpressionAttributeNames={"#i": "identity"},
        ExpressionAttributeValues={":b": {"B": old_blob}},
    )
    assert _search()["outcome"] == "match"  # format 1 still opens
    resp = invoke(
        "records",
        make_event("PATCH", f"/v1/children/{child_id}", {"postcode": "N1 9GU"}, caller=CAMDEN),
    )
    assert resp.status == 200, resp.json()
    updated = svc.store.records.get_child(child_id)
    assert updated is not None
    assert updated.identity[0] == FORMAT_BRANCH_KEY
    assert open_identity(svc.cipher, child_id, updated.identity)["postcode"] == "N1 9GU"


def test_an_unknown_version_is_a_clean_decryption_failure(aws: LocalAws) -> None:
    svc = wiring.services()
    blob = bytearray(svc.cipher.encrypt(b"{}", b"a" * 32))
    blob[1:17] = bytes(16)
    with pytest.raises(DecryptionFailed):
        svc.cipher.decrypt(bytes(blob), b"a" * 32)


def test_the_clock_function_rotates_when_due(aws: LocalAws) -> None:

    rotation = _rotation()
    first, created = rotation.active() or ("", dt.datetime.min)
    event = json.loads((EVENTS / "clock-schedule.json").read_text())
    wiring.services().now = lambda: created + dt.timedelta(days=1)
    assert clock_handler(event, lambda_context("clock"))["branch_key_rotated"] is False
    wiring.services().now = lambda: created + dt.timedelta(days=get_settings().branch_key_rotation_days)
    assert clock_handler(event, lambda_context("clock"))["branch_key_rotated"] is True
    assert (rotation.active() or ("",))[0] != first
    assert clock_handler(event, lambda_context("clock"))["branch_key_rotated"] is False


def test_records_cannot_be_sealed_before_the_first_branch_key(aws: LocalAws) -> None:
    clients.dynamodb().delete_item(
        TableName=aws.tables["KeyStoreTable"], Key={"pk": {"S": "signpost-identity"}, "sk": {"S": "ACTIVE"}}
    )
    wiring.reset_services()
    body = {**CHILD, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 503
    assert resp.json()["status"] == 503
    assert resp.header("Content-Type") == "application/problem+json"


def test_the_operator_command_rotates_only_when_due_or_forced(aws: LocalAws) -> None:
    before = _key_store_items(aws)["ACTIVE"]["version"]["S"]
    out = io.StringIO()
    assert admin.main(["rotate-branch-key"], out=out) == 0
    assert out.getvalue() == "the active branch key is not due\n"
    out = io.StringIO()
    assert admin.main(["rotate-branch-key", "--force"], out=out) == 0
    after = _key_store_items(aws)["ACTIVE"]["version"]["S"]
    assert after != before
    assert out.getvalue() == f"new active branch-key version {after}\n"
