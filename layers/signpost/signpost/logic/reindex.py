"""Re-indexing: every child's blocks under another key scheme version, then the old ones dropped.

`reindex_to(version)` gives each findable child the blocks of `version` beside those it
holds (decrypting its identity: run by an operator, whose credentials may); a child
that already has them is left alone, so a second run, or a run resumed from its
checkpoint after an interruption, does nothing twice. `drop_version(version)` then
removes every child's blocks of an old version. Each child's change is one
transaction of its record and its block entries (at most MAX_RECORD_KEYS + 1 items),
on the condition that the record is as read: a concurrent correction or closure
makes it read the record again.

Progress lines name counts only: nothing of any identity is ever printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from signpost.logic.blocks import FullBlocks, change_blocks, drop_blocks, reindex_blocks
from signpost.logic.identity import open_identity, read_versions, write_version
from signpost.logic.lookup import findable
from signpost.logic.services import Services
from signpost.matching.key_scheme import key_scheme
from signpost.models.domain import Changes, ChildRecord

DEFAULT_PAGE = 100


class ReindexSource(Protocol):
    def page(
        self, cursor: dict[str, Any] | None, limit: int
    ) -> tuple[list[ChildRecord], dict[str, Any] | None]: ...
    def checkpoint(self, job: str) -> dict[str, Any] | None: ...
    def save_checkpoint(self, job: str, state: dict[str, Any]) -> None: ...
    def delete_legacy_indexes(self, child_id: str) -> int: ...


class ReindexRefused(ValueError):
    """The command would make children unfindable (or name an unknown version)."""


@dataclass
class ReindexReport:
    job: str
    records: int = 0  # child records read
    changed: int = 0  # given the new blocks (to) or relieved of the old ones (drop)
    already: int = 0  # nothing to do: done before (by this job or a registration)
    skipped: int = 0  # closed and no longer findable: no blocks to give
    legacy_removed: int = 0  # per-key index items of the layout before blocks, removed
    complete: bool = False

    def line(self) -> str:
        return (
            f"{self.job}: {self.records} records read, {self.changed} changed, {self.already} already done, "
            f"{self.skipped} not findable, {self.legacy_removed} old index items removed"
            + (" - complete" if self.complete else "")
        )


Progress = Callable[[ReindexReport], None]


def reindex_to(
    services: Services,
    source: ReindexSource,
    version: int,
    *,
    progress: Progress = lambda _: None,
    restart: bool = False,
    max_records: int | None = None,
    page_size: int = DEFAULT_PAGE,
) -> ReindexReport:
    try:
        key_scheme(version)
    except ValueError as exc:
        raise ReindexRefused(str(exc)) from None
    settings = services.settings
    if version != write_version(settings) or version not in read_versions(settings):
        # Otherwise children registered meanwhile would lack the new blocks, or nobody would read them.
        raise ReindexRefused(
            f"set BLIND_INDEX_WRITE_VERSION={version} and BLIND_INDEX_READ_VERSIONS=<old>,{version} "
            "(functions and this command) first"
        )

    def one(record: ChildRecord, report: ReindexReport) -> None:
        if str(version) in record.blocks:
            report.already += 1
            return
        today = services.today()
        if not findable(record, today, services.settings.closed_findable_days):
            report.skipped += 1
            return
        legacy = not record.blocks

        def add(latest: ChildRecord, changes: Changes, full: FullBlocks) -> None:
            identity = open_identity(services.cipher, latest.child_id, latest.identity)
            reindex_blocks(services, changes, latest, identity, version=version, full=full)

        if not change_blocks(services, record, lambda r: str(version) not in r.blocks, add):
            report.already += 1
            return
        report.changed += 1
        if legacy:
            report.legacy_removed += source.delete_legacy_indexes(record.child_id)

    return _walk(
        source, f"to-v{version}", one, progress, restart=restart, max_records=max_records, page_size=page_size
    )


def drop_version(
    services: Services,
    source: ReindexSource,
    version: int,
    *,
    progress: Progress = lambda _: None,
    restart: bool = False,
    max_records: int | None = None,
    page_size: int = DEFAULT_PAGE,
) -> ReindexReport:
    settings = services.settings
    if version == write_version(settings) or version in read_versions(settings):
        raise ReindexRefused(
            f"version {version} is still written or read: set BLIND_INDEX_WRITE_VERSION and "
            "BLIND_INDEX_READ_VERSIONS to the new version first"
        )

    def one(record: ChildRecord, report: ReindexReport) -> None:
        if str(version) not in record.blocks:
            report.already += 1
            return

        def drop(latest: ChildRecord, changes: Changes, _: FullBlocks) -> None:
            drop_blocks(changes, latest, version)

        if not change_blocks(services, record, lambda r: str(version) in r.blocks, drop):
            report.already += 1
            return
        report.changed += 1

    return _walk(
        source,
        f"drop-v{version}",
        one,
        progress,
        restart=restart,
        max_records=max_records,
        page_size=page_size,
    )


def _walk(
    source: ReindexSource,
    job: str,
    one: Callable[[ChildRecord, ReindexReport], None],
    progress: Progress,
    *,
    restart: bool,
    max_records: int | None,
    page_size: int,
) -> ReindexReport:
    """Every child record, page by page from the checkpoint; the checkpoint moves after each page."""
    saved = None if restart else source.checkpoint(job)
    if saved and saved.get("complete"):
        saved = None  # a finished job runs again from the start (finding everything done)
    report = ReindexReport(job=job, **(saved or {}).get("counts", {}))
    cursor: dict[str, Any] | None = (saved or {}).get("cursor")
    done_here = 0
    while True:
        records, cursor = source.page(cursor, page_size)
        for record in records:
            one(record, report)
            report.records += 1
        done_here += len(records)
        report.complete = cursor is None
        counts = {k: v for k, v in asdict(report).items() if k not in {"job", "complete"}}
        source.save_checkpoint(job, {"cursor": cursor, "counts": counts, "complete": report.complete})
        progress(report)
        if report.complete or (max_records is not None and done_here >= max_records):
            return report
