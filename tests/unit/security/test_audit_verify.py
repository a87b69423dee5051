"""The audit you can trust: writers append hash-chained entries; the sealer (alone holding the MAC
key) seals each chain's head and any tampering it sees; anchors fix sealed history. Verification
finds a changed, removed, reordered or truncated item - and a chain a writer recomputed end to end,
and a seal log an administrator rewrote with the key - and says which control found it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from signpost.audit_chain import entry_hash, seal
from signpost.audit_seal import GENESIS, Seal, Tampering
from signpost.logic.audit_sealer import AuditChange, anchor, seal_changes
from signpost.logic.audit_verify import UNSEALED_GRACE, verify_audit
from signpost.models.domain import AuditEntry

from tests.unit.logic.conftest import CAMDEN, HACKNEY, ROYAL_FREE
from tests.unit.security.audit_fakes import FakeAnchors, FakeAuditSource, FakeMacKey, FakeSealStore, inserts
from tests.unit.security.conftest import do_search, register

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


@dataclasses.dataclass
class Audit:
    store: object
    seals: FakeSealStore
    anchors: FakeAnchors
    key: FakeMacKey
    chain: str  # the child's chain

    def source(self) -> FakeAuditSource:
        return FakeAuditSource(self.store, self.seals, self.anchors)  # type: ignore[arg-type]


@pytest.fixture
def audited(env) -> Audit:
    services, store, _, _ = env
    child_id = register(services)
    for who in (HACKNEY, ROYAL_FREE, HACKNEY, CAMDEN):
        do_search(services, who)
    seals, key = FakeSealStore(), FakeMacKey()
    seal_changes(seals, key, inserts(store), lambda: NOW)
    assert len(store.audit.chains[f"CHILD#{child_id}"]) == 5
    return Audit(store, seals, FakeAnchors(), key, f"CHILD#{child_id}")


def problems(audit: Audit, **kwargs) -> set[tuple[str, int, str, str]]:
    report = verify_audit(audit.source(), audit.key, now=kwargs.pop("now", NOW), **kwargs)
    return {(p.chain.split("#")[0], p.seq, p.problem, p.detected_by) for p in report.problems}


def rewrite_from(items: dict[str, AuditEntry], start: int, **change: object) -> None:
    """What a writer with PutItem can do: change an entry and recompute every link after it."""
    prev = items[str(start - 1).zfill(12)].hash if start else GENESIS
    for sk in sorted(items):
        entry = items[sk]
        if entry.seq < start:
            continue
        update = {"prev_hash": prev, **(change if entry.seq == start else {})}
        items[sk] = seal(entry.model_copy(update=update))
        prev = items[sk].hash


# ------------------------------------------------------------------ the sealer


def test_an_untouched_audit_verifies(audited):
    report = verify_audit(audited.source(), audited.key, full_scan=True, now=NOW)
    assert report.ok, report.problems
    assert (report.chains, report.items) == (5, 9)  # the child's chain and four search chains
    assert (report.seals, report.macs_verified) == (1, 1)  # one batch, one MAC


def test_one_mac_per_batch_not_per_chain(env):
    services, store, _, _ = env
    register(services)
    for who in (HACKNEY, ROYAL_FREE, HACKNEY, CAMDEN, ROYAL_FREE):
        do_search(services, who)
    seals, key = FakeSealStore(), FakeMacKey()
    run = seal_changes(seals, key, inserts(store), lambda: NOW)
    assert (run.seals, run.heads, key.generated) == (1, 6, 1)


def test_a_redelivered_batch_seals_nothing_twice(audited):
    run = seal_changes(audited.seals, audited.key, inserts(audited.store), lambda: NOW)
    assert (run.seals, run.passed_over) == (0, 9)
    assert len(audited.seals.seal_items) == 1


def test_a_sealer_that_loses_a_race_reads_again_and_retries(env):
    services, store, _, _ = env
    register(services)
    seals, key = FakeSealStore(), FakeMacKey()
    seals.race_next = 2
    assert seal_changes(seals, key, inserts(store), lambda: NOW).seals == 1
    assert key.generated == 3


def test_new_appends_extend_the_sealed_chain(env):
    services, store, _, _ = env
    register(services)
    seals, key, seen = FakeSealStore(), FakeMacKey(), set()
    seal_changes(seals, key, inserts(store, seen), lambda: NOW)
    do_search(services, HACKNEY)
    run = seal_changes(seals, key, inserts(store, seen), lambda: NOW)
    assert (run.seals, run.heads, run.tampering) == (1, 2, [])
    assert verify_audit(FakeAuditSource(store, seals, FakeAnchors()), key, now=NOW).ok


def test_an_overwrite_or_removal_on_the_stream_is_sealed_as_tampering(audited):
    changes = [
        AuditChange("MODIFY", audited.chain, 2, audited.store.audit.chains[audited.chain][2]),
        AuditChange("REMOVE", audited.chain, 3),
    ]
    run = seal_changes(audited.seals, audited.key, changes, lambda: NOW)
    assert [(t.seq, t.kind) for t in run.tampering] == [(2, "overwritten"), (3, "removed")]
    assert problems(audited) >= {("CHILD", 2, "overwritten", "sealer"), ("CHILD", 3, "removed", "sealer")}


def test_an_append_that_does_not_extend_its_chain_is_sealed_as_tampering(audited):
    last = audited.store.audit.chains[audited.chain][-1]
    forged = seal(last.model_copy(update={"seq": 7, "prev_hash": last.hash}))
    unlinked = seal(last.model_copy(update={"seq": 5, "prev_hash": "f" * 64}))
    badly_hashed = last.model_copy(update={"seq": 5, "prev_hash": last.hash, "hash": "0" * 64})
    for entry, kind in ((forged, "gap"), (unlinked, "broken_link"), (badly_hashed, "hash_mismatch")):
        seals = FakeSealStore()
        seals.head_items = dict(audited.seals.head_items)
        run = seal_changes(
            seals, audited.key, [AuditChange("INSERT", audited.chain, entry.seq, entry)], lambda: NOW
        )
        assert [t.kind for t in run.tampering] == [kind]


# ------------------------------------------------------------------ what each control finds


def test_a_changed_item_is_found_by_its_chain(audited):
    source = audited.source()
    items = source.items_by_chain[audited.chain]
    sk = sorted(items)[2]
    items[sk] = items[sk].model_copy(update={"org": "E08000025"})  # hash left as it was
    report = verify_audit(source, audited.key, now=NOW)
    assert ("CHILD#", 2, "hash_mismatch", "chain") in {
        (p.chain[:6], p.seq, p.problem, p.detected_by) for p in report.problems
    }


def test_a_chain_recomputed_end_to_end_by_a_writer_is_found_by_its_sealed_head(audited):
    source = audited.source()
    items = source.items_by_chain[audited.chain]
    rewrite_from(items, 1, outcome="no_match", org="E08000025")
    report = verify_audit(source, audited.key, now=NOW)
    found = {(p.chain, p.seq, p.problem, p.detected_by) for p in report.problems}
    assert found == {(audited.chain, 4, "head_mismatch", "sealed_head")}  # the links all hold


def test_removing_the_newest_items_is_found_by_the_sealed_head(audited):
    source = audited.source()
    del source.items_by_chain[audited.chain][str(4).zfill(12)]
    report = verify_audit(source, audited.key, now=NOW)
    assert [(p.seq, p.problem) for p in report.problems] == [(4, "truncated")]


def test_a_removed_or_reordered_item_is_found_by_its_chain(audited):
    source = audited.source()
    items = source.items_by_chain[audited.chain]
    one, two = str(1).zfill(12), str(2).zfill(12)
    items[one], items[two] = items[two], items[one]
    kinds = {p.problem for p in verify_audit(source, audited.key, now=NOW).problems}
    assert {"key_mismatch", "gap", "broken_link"} <= kinds
    del items[one]
    assert {"gap", "broken_link"} <= {p.problem for p in verify_audit(source, audited.key, now=NOW).problems}


def test_a_deleted_chain_is_found_by_its_sealed_head(audited):
    source = audited.source()
    source.items_by_chain[audited.chain] = {}
    assert [(p.seq, p.problem) for p in verify_audit(source, audited.key, now=NOW).problems] == [
        (4, "missing_chain")
    ]


def test_an_unsealed_append_is_a_problem_only_after_the_grace_period(audited):
    last = audited.store.audit.chains[audited.chain][-1]
    late = seal(last.model_copy(update={"seq": 5, "prev_hash": last.hash, "at": NOW}))
    audited.store.audit.chains[audited.chain].append(late)
    assert problems(audited) == set()
    assert verify_audit(audited.source(), audited.key, now=NOW).unsealed_recent == 1
    later = NOW + UNSEALED_GRACE + dt.timedelta(minutes=1)
    assert problems(audited, now=later) == {("CHILD", 5, "unsealed", "sealed_head")}


def test_a_chain_never_sealed_is_found_by_the_full_scan(audited):
    forged = AuditEntry(
        chain="CHILD#forged", seq=0, at="2026-11-27T08:00:00Z", action="view", org="E09000007",
        role="la_manager", sub="x", prev_hash="0" * 64,
    )  # fmt: skip
    audited.store.audit.chains["CHILD#forged"] = [seal(forged)]
    assert problems(audited) == set()  # the seals do not know it ...
    assert problems(audited, full_scan=True) == {("CHILD", 0, "missing_head", "sealed_head")}


def test_a_head_item_moved_by_hand_disagrees_with_the_seals(audited):
    head, number = audited.seals.head_items[audited.chain]
    audited.seals.head_items[audited.chain] = (dataclasses.replace(head, seq=3), number)
    assert ("CHILD", 3, "head_registry_mismatch", "sealed_head") in problems(audited)


def test_a_seal_forged_without_the_key_is_found_by_its_mac(audited):
    last = audited.store.audit.chains[audited.chain][-1]
    forged_entry = seal(last.model_copy(update={"seq": 5, "prev_hash": last.hash}))
    audited.store.audit.chains[audited.chain].append(forged_entry)
    previous = audited.seals.last_seal()
    assert previous is not None
    head = dataclasses.replace(audited.seals.head_items[audited.chain][0], seq=5, hash=forged_entry.hash)
    draft = Seal(seq=previous.seq + 1, at=NOW.isoformat(), prev_hash=previous.hash, heads=(head,))
    audited.seals.commit(draft.sealed_with(FakeMacKey(b"a guess").generate_mac(draft.message())))
    assert problems(audited) == {("SEAL", 1, "seal_mac_invalid", "seal_log")}


def test_a_changed_or_removed_seal_breaks_the_seal_log(audited):
    seal_changes(audited.seals, audited.key, [AuditChange("REMOVE", audited.chain, 4)], lambda: NOW)
    first = audited.seals.seal_items[0]
    audited.seals.seal_items[0] = dataclasses.replace(first, heads=first.heads[1:])
    found = problems(audited)
    assert ("SEAL", 0, "seal_hash_mismatch", "seal_log") in found
    del audited.seals.seal_items[0]
    found = problems(audited)
    assert {("SEAL", 1, "seal_gap", "seal_log"), ("SEAL", 1, "seal_broken_link", "seal_log")} <= found


def test_an_administrator_who_rewrites_everything_with_the_key_is_caught_by_an_older_anchor(audited):
    anchor(audited.seals, audited.anchors, lambda: NOW)
    # Later, someone who can write every table and use the MAC key rewrites the child's chain,
    # then re-seals it from scratch, so links, heads, seal hashes and MACs all agree again.
    source = audited.source()
    rewrite_from(source.items_by_chain[audited.chain], 1, outcome="no_match")
    for chain, items in source.items_by_chain.items():
        audited.store.audit.chains[chain] = [items[sk] for sk in sorted(items)]
    rebuilt = FakeSealStore()
    seal_changes(rebuilt, audited.key, inserts(audited.store), lambda: NOW)
    audited.seals.seal_items, audited.seals.head_items = rebuilt.seal_items, rebuilt.head_items
    assert problems(audited) == {("ANCHOR", 0, "anchor_mismatch", "anchor")}
    audited.anchors.objects.clear()  # without an anchor older than the tampering, nothing can tell
    assert problems(audited) == set()


def test_seals_older_than_an_anchor_need_no_mac_check(audited):
    anchor(audited.seals, audited.anchors, lambda: NOW)
    report = verify_audit(audited.source(), audited.key, now=NOW)
    assert (report.newest_anchored_seal, report.macs_verified) == (0, 0)
    assert verify_audit(audited.source(), audited.key, now=NOW, all_macs=True).macs_verified == 1


def test_an_anchor_naming_a_seal_that_is_gone_is_reported(audited):
    anchor(audited.seals, audited.anchors, lambda: NOW)
    audited.seals.seal_items.clear()
    found = problems(audited)
    assert ("ANCHOR", 0, "anchor_missing_seal", "anchor") in found


def test_verifying_named_chains_only(audited):
    source = audited.source()
    del source.items_by_chain[audited.chain][str(4).zfill(12)]
    assert verify_audit(source, audited.key, chains=[audited.chain], now=NOW).chains == 1
    assert not verify_audit(source, audited.key, chains=["SEARCH#none"], now=NOW).problems


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


def test_the_seal_mac_covers_every_field(audited):
    sealed = audited.seals.seal_items[0]
    for change in (
        {"seq": 1}, {"at": "2026-11-27T11:00:00+00:00"}, {"prev_hash": "1" * 64}, {"heads": sealed.heads[1:]},
        {"tampering": (Tampering("CHILD#x", 0, "removed"),)},
    ):  # fmt: skip
        assert dataclasses.replace(sealed, **change).message() != sealed.message(), change
