"""Verifying the audit against what no writer can rewrite: the keyed seals and the anchors.

Run offline with an operator's credentials (`signpost-admin verify-audit`). Each problem
says which control found it (`detected_by`):

- `chain` - the hash links inside a chain: a changed item (`hash_mismatch`), a removed or
  reordered one (`gap`, `broken_link`), an item under another key (`key_mismatch`). A
  writer who recomputes the chain from the change onwards passes this check ...
- `sealed_head` - ... but not this one: each chain must end where its last seal says
  (`head_mismatch`: the sealed item was replaced; `truncated`: the newest items removed;
  `missing_chain`: the whole chain deleted), items appended since must be sealed within
  the grace period (`unsealed`), and with `--full-scan` every chain in the audit table
  must have been sealed at all (`missing_head`). The heads table's head items must agree
  with the seals (`head_registry_mismatch`).
- `seal_log` - the seals themselves: numbered without gaps (`seal_gap`), each naming its
  predecessor's hash (`seal_broken_link`), its own hash right (`seal_hash_mismatch`), and
  its MAC valid under the audit MAC key (`seal_mac_invalid`), which only the sealer can use.
- `anchor` - each anchor in the Object Lock bucket must name a seal that exists
  (`anchor_missing_seal`) with the very hash anchored (`anchor_mismatch`). Seals up to the
  newest matching anchor are fixed by it (their MACs need no KMS call); an administrator
  who can use the MAC key, rewrite the tables and recompute every MAC after an anchor is
  still caught here.
- `sealer` - tampering the sealer saw and sealed at the time: an `overwritten` or `removed`
  entry, an append that did not extend its chain (`gap`, `broken_link`, `hash_mismatch`,
  `key_mismatch`), or an `unreadable` item. It stays reported: the seal cannot be undone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from signpost.audit_chain import verify_chain
from signpost.audit_seal import GENESIS, Anchor, Seal, SealedHead, seal_hash
from signpost.models.domain import AuditEntry

UNSEALED_GRACE = dt.timedelta(hours=1)  # the sealer runs within seconds; an hour means it did not


class AuditSource(Protocol):
    def seals(self) -> Iterable[Seal]: ...
    def registry(self) -> Iterable[SealedHead]: ...
    def items(self, chain: str) -> Iterable[tuple[str, str, AuditEntry]]: ...
    def chains(self) -> Iterable[str]: ...
    def anchors(self) -> Iterable[Anchor]: ...


class MacVerifier(Protocol):
    def verify_mac(self, message: bytes, mac: bytes) -> bool: ...


@dataclass(frozen=True)
class Problem:
    chain: str  # the chain, "SEAL" for the seal log, "ANCHOR" for an anchor
    seq: int  # the item's, or the seal's, sequence number
    problem: str
    detected_by: str  # chain | sealed_head | seal_log | anchor | sealer


@dataclass
class VerifyReport:
    chains: int = 0
    items: int = 0
    seals: int = 0
    anchors: int = 0
    macs_verified: int = 0
    unsealed_recent: int = 0  # appended within the grace period, not sealed yet: not a problem
    newest_anchored_seal: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, chain: str, seq: int, problem: str, detected_by: str) -> None:
        self.problems.append(Problem(chain, seq, problem, detected_by))


def verify_audit(
    source: AuditSource,
    macs: MacVerifier,
    *,
    chains: Iterable[str] | None = None,
    full_scan: bool = False,
    all_macs: bool = False,
    now: dt.datetime | None = None,
) -> VerifyReport:
    """Verify the seal log, the anchors, the head registry and the chains (all, or those named)."""
    report = VerifyReport()
    seals = _check_seal_log(source.seals(), report)
    _check_anchors(source.anchors(), {s.seq: s.hash for s in seals}, report)
    _check_macs(seals, macs, report, all_macs=all_macs)
    sealed = _sealed_heads(seals, report)
    targets = list(chains) if chains is not None else sorted(sealed)
    if chains is None:
        for head in source.registry():
            if sealed.get(head.chain) != head:
                report.add(head.chain, head.seq, "head_registry_mismatch", "sealed_head")
    cutoff = (now or dt.datetime.now(dt.UTC)) - UNSEALED_GRACE
    for chain in targets:
        _check_chain(source, chain, sealed.get(chain), cutoff, report)
    if full_scan and chains is None:
        for chain in source.chains():
            if chain not in sealed:
                _check_chain(source, chain, None, cutoff, report)
    return report


def _check_seal_log(found: Iterable[Seal], report: VerifyReport) -> list[Seal]:
    seals: list[Seal] = []
    previous_hash = GENESIS
    for seal in found:
        expected = seals[-1].seq + 1 if seals else 0
        if seal.seq != expected:
            report.add("SEAL", seal.seq, "seal_gap", "seal_log")
        if seal.prev_hash != previous_hash:
            report.add("SEAL", seal.seq, "seal_broken_link", "seal_log")
        if seal_hash(seal.message(), seal.mac) != seal.hash:
            report.add("SEAL", seal.seq, "seal_hash_mismatch", "seal_log")
        previous_hash = seal.hash
        seals.append(seal)
    report.seals = len(seals)
    return seals


def _check_anchors(anchors: Iterable[Anchor], hashes: dict[int, str], report: VerifyReport) -> None:
    for anchor in anchors:
        report.anchors += 1
        if anchor.seal not in hashes:
            report.add("ANCHOR", anchor.seal, "anchor_missing_seal", "anchor")
        elif hashes[anchor.seal] != anchor.hash:
            report.add("ANCHOR", anchor.seal, "anchor_mismatch", "anchor")
        elif report.newest_anchored_seal is None or anchor.seal > report.newest_anchored_seal:
            report.newest_anchored_seal = anchor.seal


def _check_macs(seals: list[Seal], macs: MacVerifier, report: VerifyReport, *, all_macs: bool) -> None:
    """Seals up to the newest matching anchor are fixed by it (a hash chain); the rest need their MAC."""
    anchored = -1 if all_macs or report.newest_anchored_seal is None else report.newest_anchored_seal
    for seal in seals:
        if seal.seq <= anchored:
            continue
        report.macs_verified += 1
        if not seal.mac or not macs.verify_mac(seal.message(), seal.mac_bytes()):
            report.add("SEAL", seal.seq, "seal_mac_invalid", "seal_log")


def _sealed_heads(seals: list[Seal], report: VerifyReport) -> dict[str, SealedHead]:
    """Each chain's last sealed head (replaying the seal log), and the tampering sealed on the way."""
    heads: dict[str, SealedHead] = {}
    for seal in seals:
        for head in seal.heads:
            heads[head.chain] = head
        for tampering in seal.tampering:
            report.add(tampering.chain, tampering.seq, tampering.kind, "sealer")
    return heads


def _check_chain(
    source: AuditSource, chain: str, head: SealedHead | None, cutoff: dt.datetime, report: VerifyReport
) -> None:
    entries: list[AuditEntry] = []
    for pk, sk, entry in source.items(chain):
        if pk != chain or not sk.isdigit() or int(sk) != entry.seq:
            report.add(chain, entry.seq, "key_mismatch", "chain")
        entries.append(entry)
    report.chains += 1
    report.items += len(entries)
    for problem in verify_chain(entries):
        report.add(problem.chain, problem.seq, problem.problem, "chain")
    if head is None:
        if entries:
            _unsealed(chain, entries, cutoff, report, "missing_head")
        return
    at_head = next((e for e in entries if e.seq == head.seq), None)
    if not entries:
        report.add(chain, head.seq, "missing_chain", "sealed_head")
    elif entries[-1].seq < head.seq:
        report.add(chain, head.seq, "truncated", "sealed_head")
    elif at_head is None or at_head.hash != head.hash:
        report.add(chain, head.seq, "head_mismatch", "sealed_head")
    _unsealed(chain, [e for e in entries if e.seq > head.seq], cutoff, report, "unsealed")


def _unsealed(
    chain: str, entries: list[AuditEntry], cutoff: dt.datetime, report: VerifyReport, problem: str
) -> None:
    late = [e for e in entries if e.at <= cutoff]
    report.unsealed_recent += len(entries) - len(late)
    if late:
        report.add(chain, late[0].seq, problem, "sealed_head")
