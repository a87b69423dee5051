"""The audit you can trust: every action appends to a hash chain and moves the chain's head in
the same commit; verification detects a changed, removed, reordered or truncated item."""

from __future__ import annotations

import pytest
from signpost.audit_chain import entry_hash, seal
from signpost.logic.audit_verify import verify_audit
from signpost.models.domain import AuditEntry
from signpost.models.security import AuditHeadRecord

from tests.unit.logic.conftest import CAMDEN, HACKNEY, ROYAL_FREE
from tests.unit.logic.fakes import FakeStore
from tests.unit.security.conftest import do_search, register


class FakeAuditSource:
    """The verifier's view of the fake store: items keyed as in DynamoDB, heads as the registry."""

    def __init__(self, store: FakeStore) -> None:
        self.items_by_chain: dict[str, dict[str, AuditEntry]] = {
            chain: {str(e.seq).zfill(12): e for e in entries} for chain, entries in store.audit.chains.items()
        }
        self.head_items = {
            chain: AuditHeadRecord(chain, h.seq, h.hash) for chain, h in store.audit_heads.items()
        }

    def heads(self):
        return sorted(self.head_items.values(), key=lambda h: h.chain)

    def head(self, chain):
        return self.head_items.get(chain)

    def items(self, chain):
        for sk in sorted(self.items_by_chain.get(chain, {})):
            yield chain, sk, self.items_by_chain[chain][sk]

    def chains(self):
        return sorted(c for c, items in self.items_by_chain.items() if items)


@pytest.fixture
def audited(env):
    services, store, _, _ = env
    child_id = register(services)
    for who in (HACKNEY, ROYAL_FREE, HACKNEY, CAMDEN):
        do_search(services, who)
    source = FakeAuditSource(store)
    assert len(source.items_by_chain[f"CHILD#{child_id}"]) == 5
    return source, f"CHILD#{child_id}"


def _problems(source, **kwargs):
    return {(p.chain.split("#")[0], p.seq, p.problem) for p in verify_audit(source, **kwargs).problems}


def test_an_untouched_audit_verifies(audited):
    source, _ = audited
    report = verify_audit(source, full_scan=True)
    assert report.ok
    assert report.chains == 5  # the child's chain and four search chains
    assert report.items == 9


def test_every_append_moves_the_chain_head_in_the_same_commit(env):
    services, store, _, _ = env
    child_id = register(services)
    do_search(services, HACKNEY)
    chain = store.audit.chains[f"CHILD#{child_id}"]
    assert store.audit_heads[f"CHILD#{child_id}"].seq == chain[-1].seq == 1
    assert store.audit_heads[f"CHILD#{child_id}"].hash == chain[-1].hash


def test_a_changed_item_is_detected(audited):
    source, chain = audited
    items = source.items_by_chain[chain]
    sk = sorted(items)[2]
    items[sk] = items[sk].model_copy(update={"org": "E08000025"})  # hash left as it was
    assert ("CHILD", 2, "hash_mismatch") in _problems(source)


def test_a_changed_item_with_a_recomputed_hash_breaks_the_next_link(audited):
    source, chain = audited
    items = source.items_by_chain[chain]
    sk = sorted(items)[2]
    items[sk] = seal(items[sk].model_copy(update={"outcome": "no_match"}))
    assert _problems(source) == {("CHILD", 3, "broken_link")}


def test_a_removed_item_is_detected(audited):
    source, chain = audited
    del source.items_by_chain[chain][str(2).zfill(12)]
    assert {"gap", "broken_link"} <= {p for _, _, p in _problems(source)}


def test_reordered_items_are_detected(audited):
    source, chain = audited
    items = source.items_by_chain[chain]
    one, two = str(1).zfill(12), str(2).zfill(12)
    items[one], items[two] = items[two], items[one]
    assert {"key_mismatch", "gap", "broken_link"} <= {p for _, _, p in _problems(source)}


def test_removing_the_newest_item_is_detected_by_the_head(audited):
    source, chain = audited
    del source.items_by_chain[chain][str(4).zfill(12)]
    assert _problems(source) == {("CHILD", 4, "truncated")}


def test_replacing_the_newest_item_is_detected_by_the_head(audited):
    source, chain = audited
    items = source.items_by_chain[chain]
    last = items[str(4).zfill(12)]
    items[str(4).zfill(12)] = seal(last.model_copy(update={"org": "E08000025"}))
    assert _problems(source) == {("CHILD", 4, "head_mismatch")}


def test_a_deleted_chain_is_detected(audited):
    source, chain = audited
    source.items_by_chain[chain] = {}
    assert _problems(source) == {("CHILD", 4, "missing_chain")}


def test_a_deleted_head_is_found_by_the_full_scan(audited):
    source, chain = audited
    del source.head_items[chain]
    assert _problems(source) == set()  # the registry no longer lists it ...
    assert _problems(source, full_scan=True) == {("CHILD", 4, "missing_head")}  # ... the scan does


def test_an_injected_chain_is_found_by_the_full_scan(audited):
    source, _ = audited
    forged = AuditEntry(
        chain="CHILD#forged", seq=0, at="2026-11-27T10:00:00Z", action="view", org="E09000007",
        role="la_manager", sub="x", prev_hash="0" * 64,
    )  # fmt: skip
    source.items_by_chain["CHILD#forged"] = {str(0).zfill(12): seal(forged)}
    assert _problems(source, full_scan=True) == {("CHILD", 0, "missing_head")}


def test_verifying_named_chains_only(audited):
    source, chain = audited
    del source.items_by_chain[chain][str(4).zfill(12)]
    assert verify_audit(source, chains=[chain]).chains == 1
    assert not verify_audit(source, chains=["SEARCH#none"]).problems


def test_the_hash_covers_every_field():
    entry = seal(
        AuditEntry(
            chain="CHILD#c", seq=0, at="2026-11-27T10:00:00Z", action="search", org="RAL", role="health",
            sub="s", prev_hash="0" * 64, review=False,
        )
    )  # fmt: skip
    for field, value in {
        "org": "RAL-SH1", "sensitive_service": True, "review": True, "reason": "referral", "sub": "t",
        "details": {"children": []}, "case_reference": "X", "seq": 1, "chain": "CHILD#d",
    }.items():  # fmt: skip
        assert entry_hash(entry.model_copy(update={field: value})) != entry.hash, field
