"""Reading import files: records and byte ranges, the header, batches, and every reject code."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
from signpost.errors import BadRequest
from signpost.logic import import_csv
from signpost.logic.import_csv import COLUMNS, ParsedRow, RawRecord, RejectedRow, parse_row, plan, records
from signpost.models.identity import today_in_england
from signpost.models.imports import RejectCode

HEADER = ",".join(COLUMNS)
TODAY = today_in_england()
REVIEW = (TODAY + dt.timedelta(days=90)).isoformat()
GOOD = f"L-1,Kalo,Testchild,2015-03-14,female,9990000018,nw1 2ab,child_in_need,{REVIEW}"


def row(
    line: str | bytes, columns: tuple[str, ...] = COLUMNS, duplicate: bool = False
) -> ParsedRow | RejectedRow:
    data = line.encode() if isinstance(line, str) else line
    return parse_row(RawRecord(2, 0, len(data), data), list(columns), duplicate)


def codes(result: ParsedRow | RejectedRow) -> list[tuple[str, str | None]]:
    assert isinstance(result, RejectedRow), "the row was accepted"
    return [(r.code.value, r.field) for r in result.rejects]


def with_cell(column: str, value: str) -> str:
    cells = GOOD.split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells)


# ---------------------------------------------------------------- records and byte ranges


def test_records_split_on_line_breaks_outside_quotes_and_keep_file_offsets() -> None:
    data = b'a,b\r\n"x\ny",2\n\n"q""uote",3\rlast,4'
    found = list(records(data))
    assert [r.row for r in found] == [1, 2, 3, 4, 5]
    assert [r.data for r in found] == [b"a,b", b'"x\ny",2', b"", b'"q""uote",3', b"last,4"]
    for record in found:
        assert data[record.start : record.end] == record.data
    assert found[2].blank


def test_a_slice_read_back_gives_the_same_rows() -> None:
    lines = [HEADER] + [with_cell("local_id", f"L-{i}") for i in range(25)]
    data = ("\n".join(lines[:10]) + '\n\n"quoted\nname"' + "\n".join(lines[10:]) + "\n").encode()
    whole = list(records(data))
    middle = whole[5:20]
    start, end = middle[0].start, middle[-1].end
    again = list(records(data[start:end], middle[0].row, start))
    assert again == middle


def test_an_unclosed_quote_runs_to_the_end_and_the_row_is_malformed() -> None:
    found = list(records(b'h\n"open,1\nnext,2\n'))
    assert len(found) == 2
    assert codes(row(found[1].data)) == [("R016_MALFORMED_ROW", None)]


# ---------------------------------------------------------------- the header and the plan


def test_plan_cuts_rows_into_batches_and_numbers_rows_as_a_spreadsheet() -> None:
    lines = [HEADER] + [with_cell("local_id", f"L-{i}") for i in range(7)]
    lines.insert(3, "")  # a blank line keeps its row number but is not a row
    result = plan(("\ufeff" + "\r\n".join(lines) + "\r\n\r\n").encode(), rows_per_batch=3)
    assert result.columns == list(COLUMNS)
    assert result.rows_total == 7
    assert [(b.first_row, b.last_row, b.rows) for b in result.batches] == [(2, 5, 3), (6, 8, 3), (9, 9, 1)]
    assert [b.batch for b in result.batches] == [1, 2, 3]


def test_plan_marks_every_row_of_a_repeated_local_id() -> None:
    lines = [HEADER, with_cell("local_id", "A"), with_cell("local_id", "B"), with_cell("local_id", " A ")]
    result = plan("\n".join(lines).encode(), rows_per_batch=2)
    assert [b.duplicate_rows for b in result.batches] == [[2], [4]]


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    columns = ("review_by", "categories", "date_of_birth", "family_name", "given_names", "local_id")
    result = plan(f"{','.join(c.upper() for c in columns)}\nx\n".encode(), 10)
    assert result.columns == list(columns)
    parsed = row(f"{REVIEW},child_in_need,2015-03-14,Testchild,Kalo,L-1", columns)
    assert isinstance(parsed, ParsedRow)
    assert parsed.request.nhs_number is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty: it needs a header row and at least one row"),
        (HEADER.encode() + b"\n", "the file has a header but no rows"),
        (b"local_id,given_names\nx,y\n", "missing column family_name"),
        (HEADER.encode() + b",notes\nx\n", "unknown column at position 10"),
        (HEADER.encode() + b",postcode\nx\n", "column postcode appears more than once"),
        (b"local_id,given\xffnames\nx\n", "the header row is not a readable UTF-8 CSV row"),
    ],
)
def test_a_file_that_is_not_the_format_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as refused:
        plan(data, 100)
    assert message in [e["message"] for e in refused.value.errors]


def test_the_header_error_never_echoes_a_cell() -> None:
    with pytest.raises(BadRequest) as refused:
        plan(f"{HEADER},Kalo Testchild 2015-03-14\nx\n".encode(), 100)
    assert "Kalo" not in str(refused.value.errors)


# ---------------------------------------------------------------- rows


def test_a_good_row_is_the_request_post_children_would_get() -> None:
    parsed = row(GOOD)
    assert isinstance(parsed, ParsedRow)
    assert parsed.local_id == "L-1"
    assert parsed.request.postcode == "NW1 2AB"
    assert [c.value for c in parsed.request.categories] == ["child_in_need"]


def test_cells_are_trimmed_and_categories_split_lower_cased_and_deduplicated() -> None:
    parsed = row(with_cell("categories", " Looked_After ; child_in_need;;looked_after "))
    assert isinstance(parsed, ParsedRow)
    assert [c.value for c in parsed.request.categories] == ["looked_after", "child_in_need"]


# One case per reject code that a row's own cells can cause (R017 depends on the index: see
# tests/integration/test_imports.py; R018 is the catch-all, below).
REJECTS = [
    (with_cell("given_names", ""), [("R001_MISSING_FIELD", "given_names")]),
    (with_cell("local_id", ""), [("R001_MISSING_FIELD", "local_id")]),
    (with_cell("categories", ";"), [("R001_MISSING_FIELD", "categories")]),
    (with_cell("date_of_birth", "14/03/2015"), [("R002_INVALID_DATE", "date_of_birth")]),
    (with_cell("review_by", "2027-02-30"), [("R002_INVALID_DATE", "review_by")]),
    (with_cell("nhs_number", "9990000019"), [("R003_INVALID_NHS_NUMBER", "nhs_number")]),
    (
        with_cell("date_of_birth", (TODAY + dt.timedelta(days=1)).isoformat()),
        [("R004_FUTURE_DATE_OF_BIRTH", "date_of_birth")],
    ),
    (with_cell("date_of_birth", "1990-01-01"), [("R005_TOO_OLD", "date_of_birth")]),
    (with_cell("categories", "child_in_need;vip"), [("R006_UNKNOWN_CATEGORY", "categories")]),
    (with_cell("review_by", TODAY.isoformat()), [("R007_REVIEW_DATE_IN_PAST", "review_by")]),
    (
        with_cell("review_by", (TODAY + dt.timedelta(days=367)).isoformat()),
        [("R008_REVIEW_DATE_TOO_FAR", "review_by")],
    ),
    (GOOD + ",extra", [("R010_TOO_MANY_COLUMNS", None)]),
    (GOOD.encode().replace(b"Kalo", b"K\xe9lo"), [("R011_BAD_ENCODING", None)]),
    (GOOD.replace("Kalo", "K\ufffdlo"), [("R011_BAD_ENCODING", None)]),
    (with_cell("postcode", "NW1 2A"), [("R012_INVALID_POSTCODE", "postcode")]),
    (with_cell("sex", "girl"), [("R013_INVALID_SEX", "sex")]),
    (with_cell("family_name", "x" * 101), [("R014_INVALID_NAME", "family_name")]),
    (with_cell("given_names", "123"), [("R014_INVALID_NAME", "given_names")]),
    (with_cell("local_id", "L" * 65), [("R015_INVALID_LOCAL_ID", "local_id")]),
    (with_cell("local_id", "L\x07"), [("R015_INVALID_LOCAL_ID", "local_id")]),
    ('L-1,"Kalo,Testchild', [("R016_MALFORMED_ROW", None)]),
]


@pytest.mark.parametrize(("line", "expected"), REJECTS)
def test_each_reject_code(line: str | bytes, expected: list[tuple[str, str | None]]) -> None:
    assert codes(row(line)) == expected


def test_every_code_is_covered_here_or_named_elsewhere() -> None:
    covered = {code for _, found in REJECTS for code, _ in found} | {"R009_DUPLICATE_LOCAL_ID"}
    elsewhere = {"R017_CHILD_UNDER_OTHER_LOCAL_ID", "R018_INVALID_VALUE"}
    assert covered | elsewhere == {c.value for c in RejectCode}


def test_a_repeated_local_id_is_rejected_for_that_alone() -> None:
    assert codes(row(GOOD, duplicate=True)) == [("R009_DUPLICATE_LOCAL_ID", "local_id")]


def test_a_rule_the_import_does_not_know_is_still_a_reject() -> None:
    error = {"loc": ("shoe_size",), "type": "value_error", "msg": "too big"}
    assert import_csv._problem(error, {}) == (RejectCode.INVALID_VALUE, "shoe_size")


def test_every_problem_of_a_row_is_listed_in_column_order_once() -> None:
    line = "L-9,,Testchild,2099-01-01,girl,123,ZZ,vip,2020-01-01"
    assert codes(row(line)) == [
        ("R001_MISSING_FIELD", "given_names"),
        ("R004_FUTURE_DATE_OF_BIRTH", "date_of_birth"),
        ("R013_INVALID_SEX", "sex"),
        ("R003_INVALID_NHS_NUMBER", "nhs_number"),
        ("R012_INVALID_POSTCODE", "postcode"),
        ("R006_UNKNOWN_CATEGORY", "categories"),
        ("R007_REVIEW_DATE_IN_PAST", "review_by"),
    ]
    assert all(r.local_id == "L-9" for r in row(line).rejects)  # type: ignore[union-attr]


def test_missing_trailing_cells_are_empty_and_extra_empty_cells_are_ignored() -> None:
    assert isinstance(row(GOOD + ",,"), ParsedRow)
    short = "L-1,Kalo,Testchild,2015-03-14"
    assert codes(row(short)) == [("R001_MISSING_FIELD", "categories"), ("R001_MISSING_FIELD", "review_by")]


def test_a_reject_never_carries_the_value() -> None:
    for line, _ in REJECTS:
        result = row(line)
        assert isinstance(result, RejectedRow)
        text = " ".join(r.model_dump_json() for r in result.rejects)
        for value in ("Kalo", "Testchild", "2015-03-14", "9990000018", "NW1", "girl", "vip", "123"):
            assert value not in text


def test_the_openapi_document_lists_every_reject_code_with_its_meaning() -> None:
    document = json.loads(resources.files("signpost").joinpath("openapi.json").read_text(encoding="utf-8"))
    schema = document["components"]["schemas"]["RejectCode"]
    assert schema["enum"] == [c.value for c in RejectCode]
    for code in RejectCode:
        assert f"`{code.value}`" in schema["description"]
    post = document["paths"]["/v1/imports"]["post"]
    assert list(post["requestBody"]["content"]) == ["text/csv"]
    assert {"202", "400", "413", "415"} <= set(post["responses"])
