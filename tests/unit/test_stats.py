"""Transparency statistics: the suppression rule, the monthly tables and the published files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from signpost.dal.scans import AuditEvent, RecordFacts, TransferFacts
from signpost.models.organisation import Organisation
from signpost.stats import render
from signpost.stats.monthly import Month, monthly_tables
from signpost.stats.tables import PRIMARY, SECONDARY, Table, hidden_cells, publish

UTC = dt.UTC
JAN = Month(2026, 1)


def _table(rows: list[list[int]], total_row: bool = False, total_column: bool = False) -> Table:
    """A table from inner counts; totals are added as the stats code adds them."""
    body = [[*r, sum(r)] if total_column else list(r) for r in rows]
    if total_row:
        body.append([sum(r[j] for r in body) for j in range(len(body[0]))])
    columns = [f"c{j}" for j in range(len(body[0]))]
    return Table(
        "t", "t", "row", columns, [(f"r{i}", r) for i, r in enumerate(body)], total_row, total_column
    )


# ---------------------------------------------------------------------- suppression


def test_counts_one_to_four_are_shown_as_less_than_five_and_zero_is_shown() -> None:
    shown = publish(_table([[0], [1], [4], [5], [120]])).shown
    assert shown == [[0], [PRIMARY], [PRIMARY], [5], [120]]


def test_a_lone_small_count_beside_a_total_gets_a_second_cell_hidden() -> None:
    # 3 + 10 + 40 = 53: with only the 3 hidden, 53 - 10 - 40 would give it away.
    published = publish(_table([[3], [10], [40]], total_row=True))
    assert [r[0] for r in published.shown] == [PRIMARY, SECONDARY, 40, 53]


def test_without_totals_there_is_nothing_to_subtract_from() -> None:
    assert [r[0] for r in publish(_table([[3], [10], [40]])).shown] == [PRIMARY, 10, 40]


def test_two_small_counts_protect_each_other() -> None:
    assert [r[0] for r in publish(_table([[3], [2], [40]], total_row=True)).shown] == [
        PRIMARY,
        PRIMARY,
        40,
        45,
    ]


def test_secondary_suppression_spreads_across_rows_and_columns() -> None:
    table = _table([[2, 30, 7], [9, 11, 25], [14, 6, 8]], total_row=True, total_column=True)
    hidden = hidden_cells(table)
    assert hidden[(0, 0)] == PRIMARY
    assert _no_line_with_a_lone_hidden_cell(table, hidden)
    assert len(hidden) >= 4  # the 2, one more in its row, one more in its column, and one to close the square


def _lines(table: Table) -> Iterator[list[tuple[int, int]]]:
    n, m = len(table.rows), len(table.columns)
    if table.total_column:
        yield from ([(i, j) for j in range(m)] for i in range(n))
    if table.total_row:
        yield from ([(i, j) for i in range(n)] for j in range(m))


def _no_line_with_a_lone_hidden_cell(table: Table, hidden: dict[tuple[int, int], str]) -> bool:
    return all(sum(cell in hidden for cell in line) != 1 for line in _lines(table))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=5), min_size=1, max_size=6).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    ),
    st.booleans(),
    st.booleans(),
)
def test_no_hidden_count_can_be_recovered_from_one_total_line(
    rows: list[list[int]], total_row: bool, total_column: bool
) -> None:
    table = _table(rows, total_row, total_column)
    published = publish(table)
    hidden = hidden_cells(table)
    assert _no_line_with_a_lone_hidden_cell(table, hidden)
    for i, (_, values) in enumerate(table.rows):
        for j, value in enumerate(values):
            shown = published.shown[i][j]
            if 0 < value < 5:
                assert shown == PRIMARY  # every small count is hidden ...
            elif (i, j) not in hidden:
                assert shown == value  # ... and what is shown is the true count
            else:
                assert shown == SECONDARY


# ---------------------------------------------------------------------- the monthly tables


def _org(code: str, kind: str, name: str) -> Organisation:
    contact = {"team": "t", "phone": "000", "email": "x@example.org"}
    area = code if kind == "local_authority" else "E09000007"
    return Organisation.model_validate(
        {
            "code": code,
            "name": name,
            "type": kind,
            "area": area,
            "contact": contact,
            "manager_contact": contact,
        }
    )


DIRECTORY = {
    o.code: o
    for o in (
        _org("E09000007", "local_authority", "Camden"),
        _org("E09000012", "local_authority", "Hackney"),
        _org("E23000001", "police", "Met"),
        _org("RAL", "health", "Royal Free"),
        _org("SIGNPOST-SMOKE", "local_authority", "Smoke test"),
    )
}


def _event(chain: str, at: dt.datetime, action: str, org: str, role: str, **kw: object) -> AuditEvent:
    return AuditEvent(chain=chain, at=at, action=action, org=org, role=role, **kw)  # type: ignore[arg-type]


def _january() -> tuple[list[AuditEvent], list[RecordFacts], list[TransferFacts]]:
    at = dt.datetime(2026, 1, 10, 12, tzinfo=UTC)
    events = [_event(f"CHILD#c{i}", at, "register", "E09000007", "la_practitioner") for i in range(12)]
    events += [_event("CHILD#c0", at, "close", "E09000007", "la_manager", reason="plan_ended")]
    events += [
        _event(f"SEARCH#s{i}", at, "search", "RAL", "health", reason="emergency_care", outcome="match")
        for i in range(7)
    ]
    events += [
        _event(
            f"SEARCH#p{i}", at, "search", "E23000001", "police", reason="police_enquiry", outcome="no_match"
        )
        for i in range(6)
    ]
    events += [_event("SEARCH#s0", at, "break_glass", "E09000012", "la_manager", review=True)]
    # a review after the month still counts for the month's use
    events += [
        _event(
            "SEARCH#s0",
            at + dt.timedelta(days=30),
            "break_glass_reviewed",
            "NATIONAL",
            "auditor",
            details={"finding": "justified"},
        )
    ]
    # outside the month, and the smoke test's synthetic organisation: never counted
    events += [
        _event(
            "CHILD#late",
            dt.datetime(2026, 2, 1, 0, 30, tzinfo=UTC),
            "register",
            "E09000007",
            "la_practitioner",
        )
    ]
    events += [_event("CHILD#smoke", at, "register", "SIGNPOST-SMOKE", "la_practitioner")]
    created = dt.datetime(2025, 12, 1, tzinfo=UTC)
    records = [RecordFacts("E09000007", "active", ("child_in_need",), created, None) for _ in range(11)]
    records += [RecordFacts("E09000007", "closed", ("looked_after",), created, at)]  # closed in January
    records += [
        RecordFacts("E09000012", "closed", ("looked_after",), created, dt.datetime(2026, 2, 3, tzinfo=UTC))
    ]
    records += [RecordFacts("SIGNPOST-SMOKE", "active", ("child_in_need",), created, None)]
    transfers = [
        # acknowledged on time, decided late
        TransferFacts("E09000007", "E09000012", "accepted", dt.date(2026, 1, 5), dt.date(2026, 1, 23),
                      dt.datetime(2026, 1, 5, 9, tzinfo=UTC), dt.datetime(2026, 1, 26, 9, tzinfo=UTC)),
        # never acknowledged, still open
        TransferFacts("E09000012", "E09000007", "requested", dt.date(2026, 1, 20), dt.date(2026, 2, 9),
                      None, None),
        # withdrawn before it was acknowledged: its clocks are not counted
        TransferFacts("E09000012", "E09000007", "withdrawn", dt.date(2026, 1, 21), dt.date(2026, 2, 10), None,
                      dt.datetime(2026, 1, 20, 15, tzinfo=UTC)),
    ]  # fmt: skip
    return events, records, transfers


def _tables() -> dict[str, Table]:
    events, records, transfers = _january()
    return {t.name: t for t in monthly_tables(JAN, events, records, transfers, directory=DIRECTORY)}


def _rows(table: Table) -> dict[str, list[int]]:
    return dict(table.rows)


def test_monthly_summary_counts_the_month_and_leaves_out_the_synthetic_organisation() -> None:
    summary = _rows(_tables()["summary"])
    assert summary["Children on the index at the end of the month"] == [
        12
    ]  # 11 active + 1 closed in February
    assert summary["Registrations"] == [12]
    assert summary["Closures"] == [1]
    assert summary["Searches"] == [13]
    assert summary["Police searches"] == [6]
    assert summary["Break-glass uses"] == [1]


def test_children_by_local_authority_has_a_total_row_and_every_authority() -> None:
    table = _tables()["children_by_local_authority"]
    rows = _rows(table)
    assert rows["Camden (E09000007)"] == [11, 12, 1]
    assert rows["Hackney (E09000012)"] == [1, 0, 0]
    assert rows["Total"] == [12, 12, 1]
    assert not any("SIGNPOST-SMOKE" in label for label in rows)


def test_searches_by_organisation_type_and_reason() -> None:
    tables = _tables()
    by_type = _rows(tables["searches_by_organisation_type"])
    assert by_type["health"] == [7, 0, 0, 7]
    assert by_type["police"] == [0, 0, 6, 6]
    assert by_type["Total"] == [7, 0, 6, 13]
    by_reason = _rows(tables["searches_by_reason"])
    assert by_reason["emergency care"] == [7, 0, 0, 7]
    assert by_reason["police enquiry"] == [0, 0, 6, 6]
    assert _rows(tables["police_searches_by_force"])["Met (E23000001)"] == [0, 0, 6, 6]


def test_transfer_clock_compliance_counts_clocks_due_in_the_month() -> None:
    clocks = _rows(_tables()["transfer_clocks"])
    assert clocks["acknowledged within 1 working day"] == [1, 0, 1, 2]  # on time; never acknowledged
    assert clocks["decided within 15 working days"] == [0, 1, 0, 1]  # decided late; Feb clocks not due


def test_break_glass_review_status_and_subject_access() -> None:
    tables = _tables()
    assert _rows(tables["break_glass"]) == {
        "reviewed: justified": [1],
        "reviewed: not justified": [0],
        "awaiting review": [0],
        "Total": [1],
    }
    assert _rows(tables["subject_access_reports"]) == {"Subject access reports": [0]}


def test_month_boundaries_are_midnight_in_england() -> None:
    july = Month.parse("2026-07")
    assert july.start == dt.datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST
    assert july.contains(dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    assert not july.contains(dt.datetime(2026, 7, 31, 23, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse("2026-13")


# ---------------------------------------------------------------------- the files


def test_published_files_carry_only_suppressed_counts() -> None:
    tables = [publish(t) for t in _tables().values()]
    by_name = {t.table.name: t for t in tables}
    rows = list(csv.reader(io.StringIO(render.table_csv(by_name["summary"]))))
    assert rows[0] == ["measure", "count"]
    assert ["Closures", "<5"] in rows
    assert ["Searches", "13"] in rows
    document = json.loads(render.document("2026-01", "2026-02-01T06:00:00Z", tables, {"environment": "test"}))
    assert document["month"] == "2026-01"
    assert {t["name"] for t in document["tables"]} == set(by_name)
    flat = json.dumps(document)
    assert '"<5"' in flat
    for published in tables:  # no count from 1 to 4 anywhere in any table
        for _, values in published.rows:
            assert not [v for v in values if isinstance(v, int) and 0 < v < 5]


def test_every_chart_is_well_formed_svg_with_a_title() -> None:
    for table in _tables().values():
        svg = render.table_svg(publish(table))
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{http://www.w3.org/2000/svg}title").text == table.title  # type: ignore[union-attr]
    charted = render.table_svg(publish(_tables()["searches_by_organisation_type"]))
    assert ">7<" in charted
    assert ">&lt;5<" not in charted.split("<desc", 1)[0]
