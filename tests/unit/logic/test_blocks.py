"""Blocks in logic: which candidates a search reads, what a correction changes, the identity guard."""

from __future__ import annotations

import datetime as dt

import pytest
from signpost.errors import BadRequest, Conflict
from signpost.logic import records
from signpost.logic.identity import SearchBlock
from signpost.logic.lookup import choose_candidates
from signpost.matching.key_scheme import KEY_SCHEME_VERSION, MAX_RECORD_KEYS
from signpost.models.children import RegisterRequest, UpdateRequest
from signpost.models.domain import BlockEntry, Changes, closed_entry

from tests.support.dynamodb_limits import LimitExceeded, check_transaction
from tests.unit.logic.conftest import CAMDEN, HACKNEY, OLIVER, register_body

TODAY = dt.date(2026, 11, 27)


def _choose(blocks, entries, limit=3, active_only=False):  # type: ignore[no-untyped-def]
    return choose_candidates(
        blocks, entries, today=TODAY, closed_findable_days=365, limit=limit, active_only=active_only
    )


def test_choose_candidates_ranks_nhs_then_keys_hit_then_active_then_specificity():
    blocks = [SearchBlock("nhs", 0, True), SearchBlock("pd", 1, False), SearchBlock("nd", 2, False)]
    recent = closed_entry(TODAY - dt.timedelta(days=10))
    entries = {
        "nhs": {"by-nhs": "a"},
        "pd": {"two-keys": "a", "closed-two-keys": recent, "one-specific": "a"},
        "nd": {"two-keys": "a", "closed-two-keys": recent, "one-general": "a"},
    }
    assert _choose(blocks, entries, limit=10) == [
        "by-nhs",
        "two-keys",
        "closed-two-keys",
        "one-specific",
        "one-general",
    ]
    assert _choose(blocks, entries, limit=2) == ["by-nhs", "two-keys"]


def test_choose_candidates_skips_what_is_no_longer_findable_or_closed_when_active_only():
    blocks = [SearchBlock("b", 0, False)]
    entries = {
        "b": {
            "old": closed_entry(TODAY - dt.timedelta(days=366)),
            "recent": closed_entry(TODAY - dt.timedelta(days=365)),
            "active": "a",
        }
    }
    assert _choose(blocks, entries) == ["active", "recent"]
    assert _choose(blocks, entries, active_only=True) == ["active"]


def test_a_child_found_under_both_versions_of_a_key_counts_that_key_once():
    blocks = [SearchBlock("v1-nd", 0, False), SearchBlock("v2-nd", 0, False), SearchBlock("v2-pd", 1, False)]
    entries = {"v1-nd": {"x": "a"}, "v2-nd": {"x": "a", "y": "a"}, "v2-pd": {"y": "a"}}
    assert _choose(blocks, entries) == ["y", "x"]


def _register(services, identity):  # type: ignore[no-untyped-def]
    body = register_body(identity)
    return records.register(services, CAMDEN, RegisterRequest.model_validate(body), None).body["child_id"]


def test_a_correction_removes_an_older_versions_blocks_while_the_transaction_has_room(env):
    services, store, _, _ = env
    child_id = _register(services, OLIVER)
    record = store.records.children[child_id]
    old_v0 = [f"{i:064x}" for i in range(5)]
    # A record re-indexed from a version 0 still holds that version's blocks.
    changes = Changes(add_block_entries=[BlockEntry(b, child_id) for b in old_v0])
    changes.update_blocks.append(
        (record.model_copy(update={"blocks": {**record.blocks, "0": old_v0}, "version": 2}), 1)
    )
    store.commit(changes)
    records.update_child(services, CAMDEN, child_id, UpdateRequest.model_validate({"family_name": "Byrne"}))
    corrected = store.records.children[child_id]
    assert set(corrected.blocks) == {str(KEY_SCHEME_VERSION)}
    assert store.records.blocks_of(child_id) == set(corrected.blocks[str(KEY_SCHEME_VERSION)])
    assert max(store.transaction_sizes) <= 2 * MAX_RECORD_KEYS + 8


def test_a_registration_that_lost_the_race_to_the_same_identity_is_a_duplicate(env):
    """Both read their blocks before either commits; the identity guard fails the later commit,
    whose retry finds the first registration."""
    services, store, _, _ = env
    theirs: list[str] = []
    store.before_next_commit = lambda: theirs.append(
        records.register(services, HACKNEY, RegisterRequest.model_validate(register_body(OLIVER)), None).body[
            "child_id"
        ]
    )
    with pytest.raises(Conflict) as refused:
        _register(services, OLIVER)
    assert refused.value.extra["signposts"][0]["child_id"] == theirs[0]
    assert list(store.records.children) == theirs


def test_twins_registering_at_the_same_moment_both_succeed(env):
    services, store, _, _ = env
    twin = {**OLIVER, "given_names": "Noah"}
    store.before_next_commit = lambda: _register(services, twin)
    _register(services, OLIVER)
    assert len(store.records.children) == 2


def test_the_fake_store_refuses_what_dynamodb_refuses(env):
    _, store, _, _ = env
    with pytest.raises(BadRequest):
        store.commit(Changes(add_block_entries=[BlockEntry(f"{i:064x}", "child-x") for i in range(101)]))
    assert store.commits == 0
    big = {"pk": {"S": "P"}, "sk": {"S": "0"}, "blob": {"B": b"x" * (400 * 1024)}}
    with pytest.raises(LimitExceeded, match="bytes"):
        check_transaction([{"Put": {"TableName": "t", "Item": big}}])
    items = [{"pk": {"S": f"P{i}"}, "sk": {"S": "0"}, "b": {"B": b"x" * 300_000}} for i in range(15)]
    near = [{"Put": {"TableName": "t", "Item": item}} for item in items]
    with pytest.raises(LimitExceeded, match="in one transaction"):
        check_transaction(near)
    twice = [{"Update": {"TableName": "t", "Key": {"pk": {"S": "P"}, "sk": {"S": "0"}}}}] * 2
    with pytest.raises(LimitExceeded, match="two operations"):
        check_transaction(twice)
