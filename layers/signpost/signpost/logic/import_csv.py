"""Reading an import file: records and their byte ranges, the header, batches, and rows.

The file is split on raw bytes, so the same splitter serves the upload (which plans the
batches) and the worker (which reads one batch's byte range back): a record ends at a
line break outside double quotes (RFC 4180), and `"` is one byte in UTF-8 whatever the
rest of the row holds. Rows are numbered as a spreadsheet numbers them: the header is
row 1. Every check is done with the API's own RegisterRequest model, so a row is
accepted exactly when POST /v1/children would accept the same values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from signpost.errors import BadRequest
from signpost.models.children import RegisterRequest
from signpost.models.identity import today_in_england
from signpost.models.imports import BatchPlan, Reject, RejectCode

COLUMNS = (
    "local_id",
    "given_names",
    "family_name",
    "date_of_birth",
    "sex",
    "nhs_number",
    "postcode",
    "categories",
    "review_by",
)
REQUIRED = ("local_id", "given_names", "family_name", "date_of_birth", "categories", "review_by")
MAX_LOCAL_ID = 64
CATEGORY_SEPARATOR = ";"
BOM = b"\xef\xbb\xbf"
_DATE_ERRORS = frozenset(
    {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact", "date_type"}
)


@dataclass(frozen=True)
class RawRecord:
    row: int
    start: int  # byte offsets in the file: [start, end), line break excluded
    end: int
    data: bytes

    @property
    def blank(self) -> bool:
        return not self.data.strip()


@dataclass(frozen=True)
class Plan:
    columns: list[str]
    rows_total: int
    batches: list[BatchPlan]


@dataclass(frozen=True)
class ParsedRow:
    """A row that passed every check: its local_id and the register request it stands for."""

    row: int
    local_id: str
    request: RegisterRequest


@dataclass(frozen=True)
class RejectedRow:
    row: int
    local_id: str | None
    rejects: list[Reject]


# ---------------------------------------------------------------- records


def records(data: bytes, first_row: int = 1, offset: int = 0) -> Iterator[RawRecord]:
    """The CSV records of `data` (a whole file, or one batch's byte range starting at a record).

    `offset` is where `data` starts in the file, so the ranges are the file's.
    """
    position = 0
    row = first_row
    pending_start: int | None = None
    quotes = 0
    for line in data.splitlines(keepends=True):
        if pending_start is None:
            pending_start = position
        position += len(line)
        quotes += line.count(b'"')
        if quotes % 2:
            continue  # a line break inside a quoted field: the record goes on
        body = data[pending_start:position].rstrip(b"\r\n")
        yield RawRecord(row, offset + pending_start, offset + pending_start + len(body), body)
        row += 1
        pending_start, quotes = None, 0
    if pending_start is not None:  # an unclosed quote runs to the end of the data
        body = data[pending_start:position]
        yield RawRecord(row, offset + pending_start, offset + position, body)


def _cells(text: str) -> list[str]:
    """One record's cells; csv.Error when its quoting is broken."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    cells = next(reader, [])
    if next(reader, None) is not None:
        raise csv.Error("more than one record")
    return cells


# ---------------------------------------------------------------- the upload: header and batches


def _bad_file(message: str, field: str = "body") -> BadRequest:
    return BadRequest("the file cannot be imported", errors=[{"field": field, "message": message}])


def read_header(record: RawRecord) -> list[str]:
    """The header's columns (lower case); 400 naming what is wrong (never echoing a cell)."""
    try:
        text = record.data.removeprefix(BOM).decode("utf-8")
        columns = [c.strip().lower() for c in _cells(text)]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _bad_file("the header row is not a readable UTF-8 CSV row", "header") from exc
    errors = [
        {"field": "header", "message": f"unknown column at position {i + 1}"}
        for i, name in enumerate(columns)
        if name not in COLUMNS
    ]
    errors += [
        {"field": "header", "message": f"column {name} appears more than once"}
        for name, n in Counter(c for c in columns if c in COLUMNS).items()
        if n > 1
    ]
    errors += [
        {"field": "header", "message": f"missing column {name}"} for name in REQUIRED if name not in columns
    ]
    if errors:
        raise BadRequest("the header row is not the import format", errors=errors)
    return columns


def plan(data: bytes, rows_per_batch: int) -> Plan:
    """Check the header and cut the rows into batches of at most `rows_per_batch` rows.

    Also finds local_ids that repeat in the file: the worker rejects every such row.
    """
    found = records(data)
    header = next(found, None)
    if header is None or header.blank:
        raise _bad_file("the file is empty: it needs a header row and at least one row")
    columns = read_header(header)
    rows = [r for r in found if not r.blank]
    if not rows:
        raise _bad_file("the file has a header but no rows")
    repeated = _repeated_local_ids(rows, columns.index("local_id"))
    batches = []
    for number, start in enumerate(range(0, len(rows), rows_per_batch), start=1):
        chunk = rows[start : start + rows_per_batch]
        batches.append(
            BatchPlan(
                batch=number,
                first_row=chunk[0].row,
                last_row=chunk[-1].row,
                start=chunk[0].start,
                end=chunk[-1].end,
                rows=len(chunk),
                duplicate_rows=[r.row for r in chunk if r.row in repeated],
            )
        )
    return Plan(columns=columns, rows_total=len(rows), batches=batches)


def _repeated_local_ids(rows: list[RawRecord], position: int) -> set[int]:
    by_local_id: dict[str, list[int]] = {}
    for record in rows:
        try:
            cells = _cells(record.data.decode("utf-8"))
        except (UnicodeDecodeError, csv.Error):
            continue  # the worker rejects the row for its encoding or quoting
        if position < len(cells) and cells[position].strip():
            by_local_id.setdefault(cells[position].strip(), []).append(record.row)
    return {row for rows_of in by_local_id.values() if len(rows_of) > 1 for row in rows_of}


# ---------------------------------------------------------------- the worker: one row


def parse_row(record: RawRecord, columns: list[str], duplicate: bool) -> ParsedRow | RejectedRow:
    """Check one row the way POST /v1/children checks a body; every problem is one reject."""

    def rejected(local_id: str | None, *problems: tuple[RejectCode, str | None]) -> RejectedRow:
        return RejectedRow(
            record.row,
            local_id,
            [Reject(row=record.row, local_id=local_id, code=code, field=field) for code, field in problems],
        )

    try:
        text = record.data.decode("utf-8")
    except UnicodeDecodeError:
        return rejected(None, (RejectCode.BAD_ENCODING, None))
    if "\ufffd" in text:  # a replacement character: the row was mis-encoded before it reached us
        return rejected(None, (RejectCode.BAD_ENCODING, None))
    try:
        cells = [c.strip() for c in _cells(text)]
    except csv.Error:
        return rejected(None, (RejectCode.MALFORMED_ROW, None))
    values = dict(zip(columns, cells, strict=False))
    local_id = values.get("local_id") or None
    if local_id is not None and (len(local_id) > MAX_LOCAL_ID or not local_id.isprintable()):
        return rejected(None, (RejectCode.INVALID_LOCAL_ID, "local_id"))
    if any(cells[len(columns) :]):
        return rejected(local_id, (RejectCode.TOO_MANY_COLUMNS, None))
    if duplicate:
        return rejected(local_id, (RejectCode.DUPLICATE_LOCAL_ID, "local_id"))
    problems: list[tuple[RejectCode, str | None]] = [
        (RejectCode.MISSING_FIELD, name) for name in REQUIRED if not values.get(name)
    ]
    body = _register_body(values)
    if "categories" in body and not body["categories"]:  # e.g. ";;"
        problems.append((RejectCode.MISSING_FIELD, "categories"))
        del body["categories"]
    try:
        request = RegisterRequest.model_validate(body)
    except ValidationError as invalid:
        problems += [_problem(error, values) for error in invalid.errors(include_input=False)]
    else:
        if not problems:
            assert local_id is not None
            return ParsedRow(record.row, local_id, request)
    unique = list(dict.fromkeys(problems))
    # a field missing from the body is reported once, as missing, not also as invalid
    missing = {f for c, f in unique if c == RejectCode.MISSING_FIELD}
    unique = [p for p in unique if p[0] == RejectCode.MISSING_FIELD or p[1] not in missing]
    ordered = sorted(unique, key=lambda p: COLUMNS.index(p[1]) if p[1] in COLUMNS else len(COLUMNS))
    return rejected(local_id, *ordered)


def _register_body(values: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        name: values[name]
        for name in ("given_names", "family_name", "date_of_birth", "nhs_number", "postcode", "review_by")
        if values.get(name)
    }
    if values.get("sex"):
        body["sex"] = values["sex"].lower()
    if values.get("categories"):
        parts = (c.strip().lower() for c in values["categories"].split(CATEGORY_SEPARATOR))
        body["categories"] = list(dict.fromkeys(p for p in parts if p))
    return body


def _problem(error: Any, values: dict[str, str]) -> tuple[RejectCode, str | None]:
    loc = error.get("loc") or ()
    field = str(loc[0]) if loc else None
    kind = str(error.get("type", ""))
    if kind == "missing":
        return RejectCode.MISSING_FIELD, field
    if field in ("given_names", "family_name"):
        return RejectCode.INVALID_NAME, field
    if field == "nhs_number":
        return RejectCode.INVALID_NHS_NUMBER, field
    if field == "postcode":
        return RejectCode.INVALID_POSTCODE, field
    if field == "sex":
        return RejectCode.INVALID_SEX, field
    if field == "categories":
        return RejectCode.UNKNOWN_CATEGORY, field
    if field in ("date_of_birth", "review_by"):
        if kind in _DATE_ERRORS:
            return RejectCode.INVALID_DATE, field
        return _date_rule(field, values[field]), field
    return RejectCode.INVALID_VALUE, field


def _date_rule(field: str, value: str) -> RejectCode:
    """Which rule a well-formed date broke (the model's own check said it broke one)."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return RejectCode.INVALID_DATE
    today = today_in_england()
    if field == "date_of_birth":
        return RejectCode.FUTURE_DATE_OF_BIRTH if day > today else RejectCode.TOO_OLD
    return RejectCode.REVIEW_DATE_IN_PAST if day <= today else RejectCode.REVIEW_DATE_TOO_FAR
