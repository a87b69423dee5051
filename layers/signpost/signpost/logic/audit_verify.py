"""Verifying the audit: every chain intact, and ending where its registered head says.

Inside a chain the hash links show a changed item (`hash_mismatch`), a removed
or reordered one (`gap`, `broken_link`), or an item moved under another key
(`key_mismatch`). The head kept with the records shows what links cannot: that
the newest items were removed (`truncated`), replaced (`head_mismatch`), or the
whole chain deleted (`missing_chain`). A full scan also finds chains present in
the audit table without any head (`missing_head`): a deleted head, or an
injected chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from signpost.audit_chain import ChainProblem, verify_chain
from signpost.models.domain import AuditEntry
from signpost.models.security import AuditHeadRecord


class AuditSource(Protocol):
    def heads(self) -> Iterable[AuditHeadRecord]: ...
    def head(self, chain: str) -> AuditHeadRecord | None: ...
    def items(self, chain: str) -> Iterable[tuple[str, str, AuditEntry]]: ...
    def chains(self) -> Iterable[str]: ...


@dataclass
class VerifyReport:
    chains: int = 0
    items: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_one(
    source: AuditSource, chain: str, head: AuditHeadRecord | None
) -> tuple[int, list[ChainProblem]]:
    """Check one chain against its head; returns the number of items read and the problems."""
    entries: list[AuditEntry] = []
    problems: list[ChainProblem] = []
    for pk, sk, entry in source.items(chain):
        if pk != chain or not sk.isdigit() or int(sk) != entry.seq:
            problems.append(ChainProblem(chain, entry.seq, "key_mismatch"))
        entries.append(entry)
    problems.extend(verify_chain(entries))
    last = entries[-1] if entries else None
    if head is None:
        if last is not None:
            problems.append(ChainProblem(chain, last.seq, "missing_head"))
    elif last is None:
        problems.append(ChainProblem(chain, head.seq, "missing_chain"))
    elif last.seq < head.seq:
        problems.append(ChainProblem(chain, head.seq, "truncated"))
    elif last.seq != head.seq or last.hash != head.hash:
        problems.append(ChainProblem(chain, last.seq, "head_mismatch"))
    return len(entries), problems


def verify_audit(
    source: AuditSource, *, chains: Iterable[str] | None = None, full_scan: bool = False
) -> VerifyReport:
    """Verify the named chains, or every registered one (and with `full_scan`, every one present)."""
    report = VerifyReport()
    for chain, head in _targets(source, chains):
        count, problems = verify_one(source, chain, head)
        report.chains += 1
        report.items += count
        report.problems.extend(problems)
    if full_scan and chains is None:
        for chain in source.chains():
            if source.head(chain) is None:
                count, problems = verify_one(source, chain, None)
                report.chains += 1
                report.items += count
                report.problems.extend(problems)
    return report


def _targets(
    source: AuditSource, chains: Iterable[str] | None
) -> Iterator[tuple[str, AuditHeadRecord | None]]:
    if chains is None:
        for head in source.heads():
            yield head.chain, head
    else:
        for chain in chains:
            yield chain, source.head(chain)
