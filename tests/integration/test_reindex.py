"""`signpost-admin reindex`: a change of key scheme, re-indexed against moto, finds every child;
after the drop, only through the new keys."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from signpost import admin, wiring
from signpost.dal import clients
from signpost.matching import ranked_search_keys, record_blocking_keys
from signpost.matching.key_scheme import KEY_SCHEME_VERSION, SCHEMES, KeyScheme
from signpost.matching.types import MatchIdentity
from signpost.settings import reset_settings

from infrastructure.local.aws import LocalAws
from tests.support.callers import CAMDEN, ROYAL_FREE
from tests.support.dynamodb_limits import strict_dynamodb
from tests.support.lambda_events import invoke, make_event

REVIEW_BY = (dt.date.today() + dt.timedelta(days=120)).isoformat()
CHILDREN = [
    {"given_names": "Amelia", "family_name": "Hartley", "date_of_birth": "2015-03-14", "postcode": "NW1 2AB"},
    {"given_names": "Oliver", "family_name": "Brennan", "date_of_birth": "2012-07-01"},
    {
        "given_names": "Zofia",
        "family_name": "Wiśniewska-Hart",
        "date_of_birth": "2013-09-30",
        "nhs_number": "9434765870",
    },
    {"given_names": "Muhammad", "family_name": "Khan", "date_of_birth": "2019-07-04", "postcode": "E8 1DY"},
    {
        "given_names": "Isla",
        "family_name": "Marchetti",
        "date_of_birth": "2019-08-08",
        "other_names": [{"family_name": "Byrne"}, {"given_names": "Izzy", "family_name": "Walsh"}],
    },
    {"given_names": "Alfie", "family_name": "O'Connor", "date_of_birth": "2016-11-02", "sex": "male"},
    {"given_names": "Freya", "family_name": "Okafor", "date_of_birth": "2011-01-20", "postcode": "SE15 4QN"},
    {"given_names": "Leo", "family_name": "Nowak", "date_of_birth": "2020-05-05"},
]
CLOSED = {"given_names": "Evie", "family_name": "Achterberg", "date_of_birth": "2014-02-02"}
LONG_CLOSED = {"given_names": "Noah", "family_name": "Pemberton", "date_of_birth": "2013-06-06"}
DURING = {"given_names": "Ivy", "family_name": "Quentin", "date_of_birth": "2017-04-04"}


def _v2_record_keys(identity: MatchIdentity) -> set[str]:
    return {k + "#" for k in record_blocking_keys(identity)}


def _v2_search_keys(identity: MatchIdentity) -> tuple[str, ...]:
    return tuple(k + "#" for k in ranked_search_keys(identity))


# The version written today and a changed scheme after it: every key is made differently (as a new
# key family or new nickname data would make some of them), so no OLD block can serve a NEW search.
OLD, NEW = KEY_SCHEME_VERSION, KEY_SCHEME_VERSION + 1
V2 = KeyScheme(version=NEW, record_keys=_v2_record_keys, search_keys=_v2_search_keys)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    monkeypatch.setitem(SCHEMES, NEW, V2)
    with LocalAws() as local:
        wiring.reset_services()
        with strict_dynamodb(clients.dynamodb()):
            yield local
    wiring.reset_services()


def _versions(monkeypatch: pytest.MonkeyPatch, write: int, read: str) -> None:
    monkeypatch.setenv("BLIND_INDEX_WRITE_VERSION", str(write))
    monkeypatch.setenv("BLIND_INDEX_READ_VERSIONS", read)
    reset_settings()
    wiring.reset_services()


def _register(identity: dict[str, Any]) -> str:
    body = {**identity, "categories": ["child_in_need"], "review_by": REVIEW_BY}
    resp = invoke("records", make_event("POST", "/v1/children", body, caller=CAMDEN))
    assert resp.status == 201, resp.json()
    return str(resp.json()["child_id"])


def _close(child_id: str) -> None:
    resp = invoke(
        "records",
        make_event("POST", f"/v1/children/{child_id}/close", {"reason": "moved_abroad"}, caller=CAMDEN),
    )
    assert resp.status == 200, resp.json()


def _found(identity: dict[str, Any]) -> list[str]:
    body = {k: v for k, v in identity.items() if k != "other_names"}
    resp = invoke(
        "search", make_event("POST", "/v1/searches", {**body, "reason": "emergency_care"}, caller=ROYAL_FREE)
    )
    assert resp.status == 200, resp.json()
    return [s["child_id"] for s in resp.json()["signposts"] if resp.json()["outcome"] == "match"]


def _admin(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = admin.main(list(argv), out=out)
    return code, out.getvalue()


def _records(local: LocalAws) -> dict[str, dict[str, Any]]:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    items = client.scan(TableName=local.tables["RecordsTable"])["Items"]
    return {i["child_id"]["S"]: i for i in items if i["sk"]["S"] == "RECORD"}


def _block_entries(local: LocalAws) -> dict[str, set[str]]:
    client = boto3.client("dynamodb", region_name="eu-west-2")
    items = client.scan(TableName=local.tables["RecordsTable"])["Items"]
    return {
        i["pk"]["S"].removeprefix("BLOCK#"): {k for k in i if k not in {"pk", "sk", "n"}}
        for i in items
        if i["sk"]["S"] == "BLOCK"
    }


def _versions_held(record: dict[str, Any]) -> set[str]:
    return {v for v, ids in record["blocks"]["M"].items() if ids["L"]}


def test_reindex_to_a_new_key_scheme_finds_every_child_and_after_the_drop_only_through_the_new_keys(
    aws, monkeypatch
):
    ids = {i: _register(child) for i, child in enumerate(CHILDREN)}
    closed_id = _register(CLOSED)
    _close(closed_id)
    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    wiring.services().now = lambda: now - dt.timedelta(days=800)
    long_closed_id = _register(LONG_CLOSED)
    _close(long_closed_id)
    wiring.services().now = lambda: now

    # The migration starts: new blocks are written with the new version, searches read both.
    _versions(monkeypatch, write=NEW, read=f"{OLD},{NEW}")
    during_id = _register(DURING)
    assert _versions_held(_records(aws)[during_id]) == {str(NEW)}
    for i, child in enumerate(CHILDREN):
        assert _found(child) == [ids[i]]
    assert _found(DURING) == [during_id]

    # Interrupted after the first page, then resumed from its checkpoint.
    code, first = _admin("reindex", "--to", str(NEW), "--page-size", "5", "--max-records", "1")
    assert code == 0
    assert "complete" not in first
    code, rest = _admin("reindex", "--to", str(NEW), "--page-size", "5")
    assert code == 0
    assert rest.strip().splitlines()[-1].endswith("complete")
    records = _records(aws)
    for child_id in [*ids.values(), closed_id]:
        assert _versions_held(records[child_id]) == {str(OLD), str(NEW)}, child_id
    assert _versions_held(records[long_closed_id]) == {str(OLD)}  # no longer findable: no new blocks
    # Idempotent: a second run finds everything done.
    code, again = _admin("reindex", "--to", str(NEW))
    last = again.strip().splitlines()[-1]
    assert " 0 changed" in last
    assert _records(aws) == records

    # Searches read the new version only: every child is still found.
    _versions(monkeypatch, write=NEW, read=str(NEW))
    for i, child in enumerate(CHILDREN):
        assert _found(child) == [ids[i]], child["given_names"]
    assert _found(CLOSED) == [closed_id]
    assert _found(DURING) == [during_id]

    # Dropping a version still read is refused; then the old one goes.
    _versions(monkeypatch, write=NEW, read=f"{OLD},{NEW}")
    code, refused = _admin("reindex", "--drop", str(OLD))
    assert code == 2
    assert "refused" in refused
    _versions(monkeypatch, write=NEW, read=str(NEW))
    code, dropped = _admin("reindex", "--drop", str(OLD))
    assert code == 0
    assert dropped.strip().splitlines()[-1].endswith("complete")
    records = _records(aws)
    listed = {b["S"] for r in records.values() for ids_ in r["blocks"]["M"].values() for b in ids_["L"]}
    assert {v for r in records.values() for v in _versions_held(r)} == {str(NEW)}
    for block, holders in _block_entries(aws).items():
        assert not holders or block in listed, "an entry outside every record's list"
    for i, child in enumerate(CHILDREN):
        assert _found(child) == [ids[i]]

    # Found only through the new keys: reading the old version alone finds no one.
    _versions(monkeypatch, write=NEW, read=str(OLD))
    for child in [*CHILDREN, CLOSED, DURING]:
        assert _found(child) == []

    # Progress shows counts, never an identity.
    text = first + rest + again + dropped
    for child in [*CHILDREN, CLOSED, LONG_CLOSED, DURING]:
        for value in (child["given_names"], child["family_name"], child["date_of_birth"]):
            assert value not in text


def test_reindex_refuses_an_unknown_version_or_one_not_yet_written(aws, monkeypatch):
    code, out = _admin("reindex", "--to", "9")
    assert code == 2
    assert "unknown" in out
    code, out = _admin("reindex", "--to", str(NEW))  # still writing OLD
    assert code == 2
    assert f"BLIND_INDEX_WRITE_VERSION={NEW}" in out
