"""Transparency statistics for one calendar month (in England), from the audit and identity-free facts.

Counts of what happened in the month come from the audit (who searched, why, with what
outcome; registrations, closures, transfers, break-glass, subject access). The
children on the index at the end of the month come from the records' organisation,
status, categories and dates, and transfer clock compliance from the transfers' clock
dates: none of it needs, or reads, any child's identity.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from signpost.authz import ROLE_ORG_TYPE
from signpost.dal.scans import AuditEvent, RecordFacts, TransferFacts
from signpost.logic.services import LONDON
from signpost.models.common import Category, CloseReason, OrgType, Outcome, Role, SearchReason
from signpost.models.organisation import Organisation
from signpost.stats.tables import Table

# The smoke test's synthetic organisation (infrastructure/directory/*.json): never counted.
SYNTHETIC_ORGS = frozenset({"SIGNPOST-SMOKE"})
BREAK_GLASS_REVIEWED = "break_glass_reviewed"
FINDINGS = ("justified", "not_justified")

_OUTCOMES = [o.value for o in Outcome]
_OUTCOME_COLUMNS = ["match", "possible match", "no match", "all searches"]
_SEARCHING_TYPES = [OrgType.LOCAL_AUTHORITY, OrgType.HEALTH, OrgType.EDUCATION, OrgType.POLICE]
_TRANSFER_STEPS = ["requested", "acknowledged", "accepted", "declined", "withdrawn"]


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            first = dt.date.fromisoformat(f"{text}-01")
        except ValueError:
            raise ValueError("a month is YYYY-MM") from None
        return cls(first.year, first.month)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> dt.datetime:
        """Midnight in England on the 1st, as an aware instant."""
        return dt.datetime(self.year, self.month, 1, tzinfo=LONDON)

    @property
    def end(self) -> dt.datetime:
        """Midnight in England on the 1st of the next month (exclusive)."""
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return dt.datetime(year, month, 1, tzinfo=LONDON)

    def contains(self, at: dt.datetime) -> bool:
        return self.start <= at < self.end

    def contains_day(self, day: dt.date) -> bool:
        return self.start.date() <= day < self.end.date()


def _org_type(role: str) -> OrgType | None:
    try:
        return ROLE_ORG_TYPE[Role(role)]
    except ValueError:
        return None


def _label(code: str, directory: Mapping[str, Organisation]) -> str:
    org = directory.get(code)
    return f"{org.name} ({code})" if org else code


def _with_total(counts: list[int]) -> list[int]:
    return [*counts, sum(counts)]


def _total_row(rows: list[tuple[str, list[int]]], label: str = "Total") -> list[tuple[str, list[int]]]:
    columns = len(rows[0][1]) if rows else 0
    return [*rows, (label, [sum(r[1][j] for r in rows) for j in range(columns)])]


def _day(at: dt.datetime | None) -> dt.date | None:
    return at.astimezone(LONDON).date() if at else None


def monthly_tables(
    month: Month,
    events: Iterable[AuditEvent],
    records: Iterable[RecordFacts],
    transfers: Iterable[TransferFacts],
    *,
    directory: Mapping[str, Organisation],
    excluded_orgs: frozenset[str] = SYNTHETIC_ORGS,
) -> list[Table]:
    """Every published table for `month`; `events` may include entries after the month (reviews)."""
    in_month: list[AuditEvent] = []
    reviews: dict[str, str] = {}  # search chain -> latest finding
    for event in sorted(events, key=lambda e: e.at):
        if event.org in excluded_orgs:
            continue
        if event.action == BREAK_GLASS_REVIEWED and event.at >= month.start:
            reviews[event.chain] = str((event.details or {}).get("finding", ""))
        elif month.contains(event.at):
            in_month.append(event)

    children = [
        r
        for r in records
        if r.org not in excluded_orgs
        and r.created_at < month.end
        and (
            r.closed_at is None
            if r.status == "active"
            else (r.closed_at is not None and r.closed_at >= month.end)
        )
    ]
    child_events = [e for e in in_month if e.chain.startswith("CHILD#")]
    searches = [e for e in in_month if e.chain.startswith("SEARCH#") and e.action == "search"]
    break_glass = [e for e in in_month if e.chain.startswith("SEARCH#") and e.action == "break_glass"]
    registrations = Counter(e.org for e in child_events if e.action == "register")
    closures = Counter(e.org for e in child_events if e.action == "close")
    close_reasons = Counter(e.reason for e in child_events if e.action == "close")
    transfer_steps = Counter(
        e.action.removeprefix("transfer_") for e in child_events if e.action.startswith("transfer_")
    )
    sars = sum(1 for e in child_events if e.action == "subject_access_report")

    authorities = sorted(
        {c for c, o in directory.items() if o.type == OrgType.LOCAL_AUTHORITY and c not in excluded_orgs}
        | {r.org for r in children}
        | set(registrations)
        | set(closures),
        key=lambda c: _label(c, directory),
    )
    on_index = Counter(r.org for r in children)
    by_category = Counter(c for r in children for c in r.categories)
    police = [e for e in searches if _org_type(e.role) == OrgType.POLICE]

    return [
        Table(
            "summary",
            f"Signpost in {month.label}: summary",
            "measure",
            ["count"],
            [
                ("Children on the index at the end of the month", [len(children)]),
                ("Registrations", [sum(registrations.values())]),
                ("Closures", [sum(closures.values())]),
                ("Transfers requested", [transfer_steps["requested"]]),
                ("Searches", [len(searches)]),
                ("Police searches", [len(police)]),
                ("Break-glass uses", [len(break_glass)]),
                ("Subject access reports", [sars]),
            ],
            notes=["Each line is a separate count; the lines do not add up to anything."],
        ),
        Table(
            "children_by_category",
            "Children on the index at the end of the month, by category",
            "category",
            ["children"],
            [(c.value.replace("_", " "), [by_category[c.value]]) for c in Category],
            notes=[
                "A child can be in more than one category, so the categories do not add up to the children."
            ],
        ),
        Table(
            "children_by_local_authority",
            "Children on the index at the end of the month, registrations and closures, by local authority",
            "local authority",
            ["children on the index", "registrations", "closures"],
            _total_row(
                [(_label(c, directory), [on_index[c], registrations[c], closures[c]]) for c in authorities]
            ),
            total_row=True,
            notes=[
                "Children are counted under the authority responsible for them when the statistics were made."
            ],
        ),
        Table(
            "closures_by_reason",
            "Records closed in the month, by reason",
            "reason",
            ["closures"],
            _total_row([(r.value.replace("_", " "), [close_reasons[r.value]]) for r in CloseReason]),
            total_row=True,
        ),
        Table(
            "transfers",
            "Transfer steps taken in the month",
            "step",
            ["transfers"],
            [(step, [transfer_steps[step]]) for step in _TRANSFER_STEPS],
            notes=[
                "Each line counts a different step; a transfer requested in one month may be decided"
                " in the next."
            ],
        ),
        _clock_table(month, transfers, excluded_orgs),
        Table(
            "searches_by_organisation_type",
            "Searches in the month, by type of organisation and outcome",
            "organisation type",
            _OUTCOME_COLUMNS,
            _total_row(
                [
                    (t.value.replace("_", " "), _outcomes([e for e in searches if _org_type(e.role) == t]))
                    for t in _SEARCHING_TYPES
                ]
            ),
            total_row=True,
            total_column=True,
        ),
        Table(
            "searches_by_reason",
            "Searches in the month, by reason given and outcome",
            "reason",
            _OUTCOME_COLUMNS,
            _total_row(
                [
                    (r.value.replace("_", " "), _outcomes([e for e in searches if e.reason == r.value]))
                    for r in SearchReason
                ]
            ),
            total_row=True,
            total_column=True,
        ),
        Table(
            "police_searches_by_force",
            "Police searches in the month, by force and outcome",
            "police force",
            _OUTCOME_COLUMNS,
            _total_row(
                [
                    (_label(force, directory), _outcomes([e for e in police if e.org == force]))
                    for force in sorted(
                        {e.org for e in police}
                        | {
                            c
                            for c, o in directory.items()
                            if o.type == OrgType.POLICE and c not in excluded_orgs
                        },
                        key=lambda c: _label(c, directory),
                    )
                ]
            ),
            total_row=True,
            total_column=True,
            notes=["Refused searches (over the hourly limit) are not searches and are not counted here."],
        ),
        _break_glass_table(break_glass, reviews),
        Table(
            "subject_access_reports",
            "Subject access reports produced in the month",
            "measure",
            ["reports"],
            [("Subject access reports", [sars])],
        ),
    ]


def _outcomes(searches: list[AuditEvent]) -> list[int]:
    counts = Counter(e.outcome for e in searches)
    return _with_total([counts[o] for o in _OUTCOMES])


def _clock_table(month: Month, transfers: Iterable[TransferFacts], excluded: frozenset[str]) -> Table:
    """Clocks that fell due in the month: met on time, met late, or still not met."""
    ack, decide = [0, 0, 0], [0, 0, 0]
    for t in transfers:
        if t.from_org in excluded or t.to_org in excluded:
            continue
        withdrawn = t.status == "withdrawn"
        # Accepting or declining without a separate acknowledgement is a response all the same.
        responded = _day(t.acknowledged_at or (None if withdrawn else t.decided_at))
        decided = None if withdrawn else _day(t.decided_at)
        for clock, due, done in ((ack, t.acknowledge_by, responded), (decide, t.decide_by, decided)):
            if not month.contains_day(due) or (withdrawn and done is None):
                continue  # not due this month, or withdrawn before it was met: the clock stopped
            clock[0 if done is not None and done <= due else 1 if done is not None else 2] += 1
    return Table(
        "transfer_clocks",
        "Transfer clocks that fell due in the month: acknowledged within 1 working day, decided within 15",
        "clock",
        ["met", "met late", "not yet met", "total"],
        [
            ("acknowledged within 1 working day", _with_total(ack)),
            ("decided within 15 working days", _with_total(decide)),
        ],
        total_column=True,
        notes=["A clock not met before its transfer was withdrawn is not counted."],
    )


def _break_glass_table(uses: list[AuditEvent], reviews: Mapping[str, str]) -> Table:
    findings = Counter(reviews.get(e.chain, "") for e in uses)
    return Table(
        "break_glass",
        "Break-glass uses in the month, by review status",
        "review status",
        ["uses"],
        _total_row(
            [
                ("reviewed: justified", [findings["justified"]]),
                ("reviewed: not justified", [findings["not_justified"]]),
                ("awaiting review", [findings[""]]),
            ]
        ),
        total_row=True,
    )
