"""Bulk import, the worker: one batch of rows through the register logic of POST /v1/children.

Each row, in file order, from where the batch's item says it got to:
- a row that fails a check (logic/import_csv.py) is rejected, one reject per problem;
- a local_id linked to an active record of the organisation is `unchanged` when the row is as
  last imported, else the record is corrected (audited as an `update`, as a PATCH is);
- otherwise the child is looked up as registration does. Matched at another organisation: a
  duplicate, audited and notified like a search, never merged or moved. Matched at this
  organisation: linked to the local_id (and corrected if the row differs), unless another
  local_id already names that child (R017). Not matched: registered (record, blind indexes,
  NHS number guard, audit) and linked.
Every commit moves the batch item on from the row it read to past the rows it covers, on
condition that nobody moved it first, in the same transaction as those rows' records: a
redelivered or concurrent message never counts a row twice, and a crashed batch resumes at
its first uncommitted row. Rows that write nothing but counts (rejects, unchanged rows, blank
lines) are committed together, a few dozen at a time.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signpost.authz import Caller
from signpost.logic import import_csv
from signpost.logic.audit_trail import AuditTrail, commit_with_retries
from signpost.logic.blocks import FullBlocks
from signpost.logic.disclosure import disclose, outcome_against
from signpost.logic.identity import (
    IDENTITY_FIELDS,
    identity_dict,
    identity_guard,
    nhs_index,
    open_identity,
    write_version,
)
from signpost.logic.import_ports import ImportPorts
from signpost.logic.lookup import lookup
from signpost.logic.records import correction, registration
from signpost.logic.services import Services
from signpost.logic.signposts import signposts_for
from signpost.models.audit import AuditAction
from signpost.models.children import RegisterRequest, UpdateRequest
from signpost.models.common import Outcome
from signpost.models.domain import Changes, ChildRecord, CommitConflict
from signpost.models.imports import (
    BatchPlan,
    DuplicateRow,
    ImportJob,
    LocalIdLink,
    Reject,
    RejectCode,
    RowProgress,
)

# Rows that write only counts and rejects, committed together (a reject is one item; a
# transaction holds at most 100, and a heavy row that joins the group needs ~45 at most).
LIGHT_ROWS_PER_COMMIT = 40
# A row is not started with less time than this left: the batch stops, and the message is
# retried from the first uncommitted row.
SECONDS_PER_ROW_RESERVE = 15.0
_LINK_RETRIES = 3
DUPLICATE = AuditAction.IMPORT_DUPLICATE.value  # a row whose child is another organisation's


class BatchInterrupted(Exception):
    """The batch stopped before its end (time ran out, or another delivery of the same message
    moved it on first): the message is retried and goes on from the first uncommitted row."""

    def __init__(self) -> None:
        super().__init__("the batch stopped before its end")


@dataclass(frozen=True)
class BatchMessage:
    import_id: str
    plan: BatchPlan

    @classmethod
    def parse(cls, body: dict[str, Any]) -> BatchMessage:
        return cls(import_id=str(body["import_id"]), plan=BatchPlan.model_validate(body))


@dataclass
class _Group:
    """Rows read but not yet committed: they form the next commit's progress."""

    from_row: int
    to_row: int
    counts: Counter[str] = field(default_factory=Counter)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.to_row < self.from_row

    @property
    def full(self) -> bool:
        return (
            len(self.rejects) >= LIGHT_ROWS_PER_COMMIT
            or self.to_row - self.from_row + 1 >= 2 * LIGHT_ROWS_PER_COMMIT
        )


@dataclass(frozen=True)
class _Known:
    """What the batch read about a row's local_id: its link and linked record (`stale`: read again)."""

    key: str
    fingerprint: str
    link: LocalIdLink | None
    record: ChildRecord | None
    stale: bool = False

    def again(self) -> _Known:
        return _Known(self.key, self.fingerprint, None, None, stale=True)


@dataclass(frozen=True)
class _Decision:
    """A heavy row's outcome: its counter, what it writes, and what the report lists."""

    counter: str
    changes: Changes
    rejects: list[Reject] = field(default_factory=list)
    duplicates: list[DuplicateRow] = field(default_factory=list)
    links: list[tuple[LocalIdLink, str | None]] = field(default_factory=list)


class _BatchRun:
    def __init__(
        self,
        services: Services,
        ports: ImportPorts,
        job: ImportJob,
        plan: BatchPlan,
        time_left: Callable[[], float],
    ) -> None:
        self.services = services
        self.ports = ports
        self.job = job
        self.plan = plan
        self.time_left = time_left
        self.caller = Caller.from_context(job.caller)
        self.duplicate_rows = set(plan.duplicate_rows)

    # ---------------------------------------------------------------- the loop
    def run(self, next_row: int) -> None:
        data = self.ports.uploads.read(self.job.object_key, self.plan.start, self.plan.end)
        rows = [
            r for r in import_csv.records(data, self.plan.first_row, self.plan.start) if r.row >= next_row
        ]
        parsed = {
            r.row: import_csv.parse_row(r, self.job.columns, r.row in self.duplicate_rows)
            for r in rows
            if not r.blank
        }
        keys = {
            row: self._local_key(p.local_id)
            for row, p in parsed.items()
            if isinstance(p, import_csv.ParsedRow)
        }
        links = self.ports.imports.links(list(keys.values()))
        linked = {
            r.child_id: r
            for r in self.services.store.records.get_children(sorted({k.child_id for k in links.values()}))
        }
        group = _Group(from_row=next_row, to_row=next_row - 1)
        for record in rows:
            if self.time_left() < SECONDS_PER_ROW_RESERVE:
                self._commit_group(group)
                raise BatchInterrupted
            row = parsed.get(record.row)
            if row is None:  # a blank line: not a row of the import
                group.to_row = record.row
            elif isinstance(row, import_csv.RejectedRow):
                group.to_row = record.row
                group.counts["rejected"] += 1
                group.rejects.extend(row.rejects)
            else:
                fingerprint = self._fingerprint(row.request)
                link = links.get(keys[row.row])
                current = linked.get(link.child_id) if link else None
                if link and link.fingerprint == fingerprint and self._own_active(current):
                    group.to_row = record.row
                    group.counts["unchanged"] += 1
                else:
                    if len(group.rejects) > LIGHT_ROWS_PER_COMMIT // 2:
                        group = self._commit_group(group)
                    group = self._commit_heavy(group, row, _Known(keys[row.row], fingerprint, link, current))
                    continue
            if group.full:
                group = self._commit_group(group)
        self._commit_group(group)

    # ---------------------------------------------------------------- commits
    def _progress(self, group: _Group, to_row: int, decision: _Decision | None = None) -> RowProgress:
        counts = Counter(group.counts)
        if decision is not None:
            counts[decision.counter] += 1
        return RowProgress(
            import_id=self.job.import_id,
            batch=self.plan.batch,
            first_row=self.plan.first_row,
            from_row=group.from_row,
            to_row=to_row,
            counts=dict(counts),
            rejects=group.rejects + (decision.rejects if decision else []),
            duplicates=decision.duplicates if decision else [],
            links=decision.links if decision else [],
            expires_at=self.job.expires_at,
        )

    def _commit_group(self, group: _Group) -> _Group:
        if not group.empty:
            progress = self._progress(group, group.to_row)

            def attempt() -> None:
                self.services.store.commit(Changes(import_progress=[progress]))

            self._commit(attempt)
        return _Group(from_row=group.to_row + 1, to_row=group.to_row)

    def _commit_heavy(self, group: _Group, row: import_csv.ParsedRow, known: _Known) -> _Group:
        """The row's registration, correction or duplicate report, with the rows read before it.

        The first attempt trusts the link and record read for the whole batch; the transaction's
        conditions (the link's child, the record's version) catch anything that changed since,
        and every later attempt reads them again.
        """
        attempts = [0]
        holder: list[ChildRecord | None] = [None]
        full = FullBlocks()  # blocks found full: a retry registers the child without them

        def attempt() -> None:
            attempts[0] += 1
            decision = self._decide(row, known if attempts[0] == 1 else known.again(), holder[0], full)
            decision.changes.import_progress.append(self._progress(group, row.row, decision))
            full.commit(self.services, decision.changes)

        for tries in range(_LINK_RETRIES + 1):
            try:
                self._commit(attempt)
                return _Group(from_row=row.row + 1, to_row=row.row)
            except CommitConflict as conflict:
                if tries == _LINK_RETRIES:
                    raise
                if "nhs_guard" in conflict.reasons:
                    # Another active record holds the NHS number without matching: it is that child.
                    holder[0] = self._guard_holder(row.request)
                elif "local_id" not in conflict.reasons:
                    raise
        raise AssertionError("unreachable")

    def _commit(self, attempt: Callable[[], None]) -> None:
        try:
            commit_with_retries(attempt)
        except CommitConflict as conflict:
            if "import_row" in conflict.reasons:
                raise BatchInterrupted from None  # another delivery moved the batch on first
            raise

    # ---------------------------------------------------------------- one heavy row
    def _decide(
        self, row: import_csv.ParsedRow, known: _Known, holder: ChildRecord | None, full: FullBlocks
    ) -> _Decision:
        services, caller = self.services, self.caller
        if known.stale:
            link = self.ports.imports.links([known.key]).get(known.key)
            current = services.store.records.get_child(link.child_id) if link else None
        else:
            link, current = known.link, known.record
        key, fingerprint = known.key, known.fingerprint
        previous = link.child_id if link else None
        # A correction whose NHS number another record holds is not retried as a correction:
        # the holder is revealed below, like any row that finds an existing child.
        revealed = holder is not None and (current is None or holder.child_id != current.child_id)
        if current is not None and self._own_active(current) and not revealed:
            return self._apply(current, row, key, fingerprint, previous, full=full)
        identity = identity_dict(row.request)
        # As registration does: the blocks and the identity guard in one consistent read, so a
        # registration of this child committed meanwhile is seen, or fails our guard's condition.
        guard = identity_guard(services.indexer, identity, write_version(services.settings))
        found = lookup(services, identity, active_only=True, guard=guard)
        matched = found.records[:1] if found.outcome == Outcome.MATCH else []
        heads, outcome = found.heads, Outcome.MATCH
        if holder is not None:  # revealed by the NHS number's guard: shown as a search would show it
            matched, heads, outcome = [holder], {}, outcome_against(services, identity, holder)
        if not matched:
            record, changes = registration(
                services,
                caller,
                row.request,
                identity,
                found,
                full=full,
                details={"import_id": self.job.import_id},
            )
            return _Decision("created", changes, links=[(self._link(key, record, fingerprint), previous)])
        record = matched[0]
        if record.org == caller.org:
            other = self.ports.imports.link_of_child(record.child_id)
            stale = other is not None and other != key and not self._speaks_for(other, record)
            if other is not None and other != key and not stale:
                reject = Reject(
                    row=row.row,
                    local_id=row.local_id,
                    code=RejectCode.CHILD_UNDER_OTHER_LOCAL_ID,
                    field="local_id",
                )
                return _Decision("rejected", Changes(), rejects=[reject])
            return self._apply(
                record, row, key, fingerprint, previous, full=full, replaces_ref=other if stale else None
            )
        # Another organisation's child: shown like a search result, audited and notified as one.
        changes = Changes()
        disclose(
            services,
            caller,
            AuditTrail(services, caller, heads),
            changes,
            matched,
            outcome=outcome,
            action=DUPLICATE,
        )
        signposts = signposts_for(matched, outcome, caller, services.store.directory)
        duplicate = DuplicateRow(row=row.row, local_id=row.local_id, signposts=signposts)
        return _Decision("duplicates", changes, duplicates=[duplicate])

    def _apply(
        self,
        record: ChildRecord,
        row: import_csv.ParsedRow,
        key: str,
        fingerprint: str,
        previous: str | None,
        *,
        full: FullBlocks,
        replaces_ref: str | None = None,
    ) -> _Decision:
        """The organisation's own record, brought in line with the row (if it differs)."""
        made = self._link(key, record, fingerprint).model_copy(update={"replaces_ref": replaces_ref})
        link = [(made, previous)]
        wanted = self._differences(record, row.request)
        if wanted is None:
            return _Decision("unchanged", Changes(), links=link)
        _, changes, _ = correction(
            self.services, self.caller, record, wanted, full=full, details={"import_id": self.job.import_id}
        )
        return _Decision("updated", changes, links=link)

    def _differences(self, record: ChildRecord, request: RegisterRequest) -> UpdateRequest | None:
        current = open_identity(self.services.cipher, record.child_id, record.identity)
        wanted = identity_dict(request)
        changed: dict[str, Any] = {
            name: wanted.get(name)
            for name in IDENTITY_FIELDS
            if name != "other_names" and wanted.get(name) != current.get(name)
        }
        categories = [c.value for c in request.categories]
        if sorted(categories) != sorted(record.categories):
            changed["categories"] = categories
        if request.review_by != record.review_by:
            changed["review_by"] = request.review_by.isoformat()
        return UpdateRequest.model_validate(changed) if changed else None

    def _guard_holder(self, request: RegisterRequest) -> ChildRecord | None:
        guard = nhs_index(self.services.indexer, identity_dict(request))
        child_id = self.services.store.guard_owners.nhs_owner(guard) if guard else None
        record = self.services.store.records.get_child(child_id) if child_id else None
        return record if record is not None and record.status == "active" else None

    # ---------------------------------------------------------------- helpers
    def _speaks_for(self, local_key: str, record: ChildRecord) -> bool:
        """Whether the link `local_key` is this organisation's and still names the child (a link
        of the organisation that held the child before a transfer no longer does)."""
        link = self.ports.imports.links([local_key]).get(local_key)
        return link is not None and link.org == self.caller.org and link.child_id == record.child_id

    def _own_active(self, record: ChildRecord | None) -> bool:
        return record is not None and record.status == "active" and record.org == self.caller.org

    def _local_key(self, local_id: str) -> str:
        """The (organisation, local_id) identity, as a keyed HMAC: the local_id is not stored."""
        return self.services.indexer.index(f"import-local-id:{self.caller.org}\x1f{local_id}")

    def _fingerprint(self, request: RegisterRequest) -> str:
        """What the row says about the child, as a keyed HMAC: equal rows, equal fingerprints."""
        state = {
            **identity_dict(request),
            "categories": sorted(c.value for c in request.categories),
            "review_by": request.review_by.isoformat(),
        }
        return self.services.indexer.index(
            "import-row:" + json.dumps(state, sort_keys=True, separators=(",", ":"))
        )

    def _link(self, key: str, record: ChildRecord, fingerprint: str) -> LocalIdLink:
        return LocalIdLink(
            key=key,
            org=self.caller.org,
            child_id=record.child_id,
            fingerprint=fingerprint,
            import_id=self.job.import_id,
        )


def import_batch(
    services: Services, ports: ImportPorts, message: BatchMessage, *, time_left: Callable[[], float]
) -> bool:
    """Import one batch (or what is left of it). False if its import no longer exists."""
    job = ports.imports.get_job(message.import_id)
    if job is None:
        return False
    progress = ports.imports.get_batch(message.import_id, message.plan.batch)
    pending = progress is None or not (job.finished(progress) or progress.failed)
    if pending and not _may_go_on(services, job):
        # The worker acts as the uploader: an organisation locked out since the upload (the
        # authorizer now refuses its tokens) imports nothing more, and its batches report failed.
        ports.imports.mark_failed(job.import_id, message.plan.batch, job.expires_at)
        return True
    if pending:
        run = _BatchRun(services, ports, job, message.plan, time_left)
        run.run(progress.next_row if progress and progress.next_row else message.plan.first_row)
    complete_if_done(services, ports, job)
    return True


def _may_go_on(services: Services, job: ImportJob) -> bool:
    organisation = services.store.directory.get(job.org)
    return organisation is not None and organisation.active


def complete_if_done(services: Services, ports: ImportPorts, job: ImportJob) -> bool:
    """Once every batch is done, the file is deleted and the completion time recorded."""
    batches = ports.imports.batches(job.import_id)
    if sum(1 for b in batches if job.finished(b)) < job.batches:
        return False
    ports.uploads.delete(job.object_key)  # first: a retry after a failure here still deletes it
    ports.imports.mark_completed(job.import_id, services.now().isoformat())
    return True


def give_up(ports: ImportPorts, message: BatchMessage) -> None:
    """The message's last delivery failed: mark its batch failed, so the import reports it."""
    job = ports.imports.get_job(message.import_id)
    if job is None:
        return
    progress = ports.imports.get_batch(message.import_id, message.plan.batch)
    if progress is not None and job.finished(progress):
        return
    ports.imports.mark_failed(message.import_id, message.plan.batch, job.expires_at)


def stopwatch(seconds: float) -> Callable[[], float]:
    """A time_left for callers without a Lambda context (tests, the local stack's feeder)."""
    deadline = time.monotonic() + seconds

    def left() -> float:
        return deadline - time.monotonic()

    return left
