"""A record's blocks: what registering, correcting, closing, delisting and re-indexing change.

A child record lists the blocks it is written in, per key scheme version
(`ChildRecord.blocks`); each change below moves the record's list and the block
entries together, in the record's own transaction. The number of block entries
one transaction touches is bounded by the key cap (matching/key_scheme.py):
registration and closure at most MAX_RECORD_KEYS per version held, a correction
at most twice that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from signpost.logic.audit_trail import commit_with_retries
from signpost.logic.identity import identity_guard, record_blocks, write_version
from signpost.logic.services import Services
from signpost.matching.key_scheme import MAX_RECORD_KEYS
from signpost.models.domain import (
    ACTIVE_ENTRY,
    BlockEntry,
    Changes,
    ChildRecord,
    CommitConflict,
    IdentityGuard,
    entry_status,
)

# An identity guard outlives any registration in flight by far; TTL then removes it.
GUARD_TTL = dt.timedelta(days=1)


class FullBlocks:
    """Blocks found full while committing: the next attempt leaves them out of the record."""

    def __init__(self) -> None:
        self.blocks: set[str] = set()

    def commit(self, services: Services, changes: Changes) -> None:
        try:
            services.store.commit(changes)
        except CommitConflict as conflict:
            self.blocks |= conflict.full_blocks
            raise


def change_blocks(
    services: Services,
    record: ChildRecord,
    needs: Callable[[ChildRecord], bool],
    change: Callable[[ChildRecord, Changes, FullBlocks], None],
) -> bool:
    """Apply `change` to the record's blocks while the record, as it is now, `needs` it: a lost race
    reads the record again. True if a change was committed."""
    full = FullBlocks()
    current = [record]
    done = [False]

    def attempt() -> None:
        latest = current.pop() if current else services.store.records.get_child(record.child_id)
        if latest is None or not needs(latest):
            return
        changes = Changes()
        change(latest, changes, full)
        full.commit(services, changes)
        done[0] = True

    commit_with_retries(attempt)
    return done[0]


def entries(child_id: str, blocks: dict[str, list[str]], status: str = ACTIVE_ENTRY) -> list[BlockEntry]:
    return [BlockEntry(b, child_id, status) for ids in blocks.values() for b in ids]


def register_blocks(
    services: Services, changes: Changes, child_id: str, identity: dict[str, Any], full: FullBlocks
) -> dict[str, list[str]]:
    """A new child's blocks (written with the current version) and their entries."""
    version = _write(services)
    blocks = {str(version): record_blocks(services.indexer, identity, version, full.blocks)}
    changes.add_block_entries.extend(entries(child_id, blocks))
    return blocks


def _write(services: Services) -> int:
    return write_version(services.settings)


def guard_identity(services: Services, changes: Changes, identity: dict[str, Any], seen: int | None) -> None:
    """Bump the identity's guard: on the condition that it is still `seen` (a registration), or
    unconditionally (None: a correction to this identity)."""
    guard = identity_guard(services.indexer, identity, _write(services))
    expires = int((services.now() + GUARD_TTL).timestamp())
    changes.identity_guards.append(IdentityGuard(guard, seen, expires))


def correct_blocks(
    services: Services, changes: Changes, record: ChildRecord, identity: dict[str, Any], full: FullBlocks
) -> dict[str, list[str]]:
    """The blocks of a corrected identity: the current version's replaced by the difference; an
    older version's (left by a re-index in progress) removed while the transaction has room for
    them, else left listed for `signpost-admin reindex --drop`."""
    version = str(_write(services))
    old = record.blocks.get(version, [])
    new = record_blocks(services.indexer, identity, int(version), full.blocks)
    added, removed = [b for b in new if b not in old], [b for b in old if b not in new]
    changes.add_block_entries.extend(BlockEntry(b, record.child_id) for b in added)
    changes.remove_block_entries.extend(BlockEntry(b, record.child_id) for b in removed)
    room = 2 * MAX_RECORD_KEYS - len(added) - len(removed)
    blocks = {version: new}
    for other, ids in sorted(record.blocks.items()):
        if other == version:
            continue
        dropped, kept = ids[: max(room, 0)], ids[max(room, 0) :]
        room -= len(dropped)
        changes.remove_block_entries.extend(BlockEntry(b, record.child_id) for b in dropped)
        if kept:
            blocks[other] = kept
    return blocks


def close_blocks(changes: Changes, closed: ChildRecord) -> None:
    """A closed child stays in its blocks, marked closed on its date: findable for a while, and
    never taking a candidate's place that an active child needs."""
    changes.set_block_entries.extend(entries(closed.child_id, closed.blocks, entry_status(closed)))


def delist_blocks(changes: Changes, record: ChildRecord) -> None:
    """The child leaves every block (no longer findable); the record keeps no block list."""
    changes.remove_block_entries.extend(entries(record.child_id, record.blocks))
    _set_blocks(changes, record, {})


def _set_blocks(changes: Changes, record: ChildRecord, blocks: dict[str, list[str]]) -> None:
    changes.update_blocks.append(
        (record.model_copy(update={"blocks": blocks, "version": record.version + 1}), record.version)
    )


def reindex_blocks(
    services: Services,
    changes: Changes,
    record: ChildRecord,
    identity: dict[str, Any],
    *,
    version: int,
    full: FullBlocks,
) -> None:
    """Add the blocks of another key scheme version beside the record's present ones."""
    new = record_blocks(services.indexer, identity, version, full.blocks)
    changes.add_block_entries.extend(BlockEntry(b, record.child_id, entry_status(record)) for b in new)
    _set_blocks(changes, record, {**record.blocks, str(version): new})


def drop_blocks(changes: Changes, record: ChildRecord, version: int) -> None:
    """Remove the blocks of one key scheme version."""
    ids = record.blocks.get(str(version), [])
    changes.remove_block_entries.extend(BlockEntry(b, record.child_id) for b in ids)
    _set_blocks(changes, record, {v: b for v, b in record.blocks.items() if v != str(version)})
