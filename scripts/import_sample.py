"""Write docs/import-sample.csv: a small, made-up caseload with good and bad rows.

Every person is invented (names that say so; NHS numbers from the 999 test range). Review
dates are counted from --today (default: today), so the committed sample stays importable
for about ten months after SAMPLE_DATE; `make import-sample` writes it afresh.
Each row's comment says what the import should make of it (tests check this).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
from pathlib import Path

from signpost.logic.import_csv import COLUMNS

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "import-sample.csv"
SAMPLE_DATE = dt.date(2026, 12, 2)  # when the committed sample was written

# (cells, expected outcome). A review_by of "+N" is N days after --today.
ROWS: list[tuple[tuple[str, ...], str]] = [
    (
        (
            "CAM-0001",
            "Ada",
            "Testcase",
            "2014-02-11",
            "female",
            "9990000018",
            "NW1 2AB",
            "child_protection_plan",
            "+300",
        ),
        "accepted",
    ),
    (
        (
            "CAM-0002",
            "Ben",
            "Sampleton",
            "2016-07-30",
            "male",
            "9990000026",
            "nw5 1xy",
            "child_in_need",
            "+310",
        ),
        "accepted",
    ),
    (
        ("CAM-0003", "Cleo", "Fakeworth", "2012-11-02", "", "", "", "looked_after;child_in_need", "+320"),
        "accepted",
    ),
    (
        (
            "CAM-0004",
            "Dan",
            "Examplo",
            "2010-01-15",
            "male",
            "9990000034",
            "N7 8QT",
            "domestic_abuse",
            "+330",
        ),
        "accepted",
    ),
    # Hackney registers this child in the README walk-through first: then she is a duplicate.
    (
        (
            "CAM-0005",
            "Eve",
            "Demoson",
            "2015-05-05",
            "female",
            "9990000042",
            "E8 1DY",
            "child_in_need",
            "+300",
        ),
        "accepted or duplicate",
    ),
    (
        ("CAM-0006", "", "Testcase", "2013-03-03", "", "", "", "child_in_need", "+300"),
        "R001_MISSING_FIELD given_names",
    ),
    (
        ("CAM-0007", "Finn", "Mockley", "2015-13-40", "male", "", "", "child_in_need", "+300"),
        "R002_INVALID_DATE date_of_birth",
    ),
    (
        ("CAM-0008", "Gia", "Testford", "2014-04-04", "female", "9990000019", "", "looked_after", "+300"),
        "R003_INVALID_NHS_NUMBER nhs_number",
    ),
    (
        ("CAM-0009", "Hal", "Samplewood", "+400", "male", "", "", "child_in_need", "+300"),
        "R004_FUTURE_DATE_OF_BIRTH date_of_birth",
    ),
    (
        ("CAM-0010", "Ivy", "Fakeham", "1990-01-01", "female", "", "", "child_in_need", "+300"),
        "R005_TOO_OLD date_of_birth",
    ),
    (
        ("CAM-0011", "Jon", "Exampleby", "2011-06-06", "male", "", "", "child_in_need;vip", "+300"),
        "R006_UNKNOWN_CATEGORY categories",
    ),
    (
        ("CAM-0012", "Kit", "Demoford", "2012-08-08", "", "", "", "child_in_need", "2020-01-01"),
        "R007_REVIEW_DATE_IN_PAST review_by",
    ),
    (
        ("CAM-0013", "Lou", "Testerton", "2013-09-09", "", "", "", "child_in_need", "+400"),
        "R008_REVIEW_DATE_TOO_FAR review_by",
    ),
    (
        ("CAM-0014", "Max", "Sampleford", "2014-10-10", "male", "", "", "child_in_need", "+300"),
        "R009_DUPLICATE_LOCAL_ID local_id",
    ),
    (
        ("CAM-0014", "Nia", "Sampleford", "2014-10-11", "female", "", "", "child_in_need", "+300"),
        "R009_DUPLICATE_LOCAL_ID local_id",
    ),
    (
        ("CAM-0015", "Oli", "Fakewell", "2015-11-11", "", "", "", "child_in_need", "+300", "extra"),
        "R010_TOO_MANY_COLUMNS",
    ),
    (
        ("CAM-0016", "Pip", "Mockford", "2016-12-12", "", "", "NOT-A-CODE", "child_in_need", "+300"),
        "R012_INVALID_POSTCODE postcode",
    ),
    (
        ("CAM-0017", "Quin", "Testwood", "2011-01-21", "girl", "", "", "child_in_need", "+300"),
        "R013_INVALID_SEX sex",
    ),
]


def _cell(value: str, today: dt.date) -> str:
    return (today + dt.timedelta(days=int(value[1:]))).isoformat() if value.startswith("+") else value


def render(today: dt.date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for cells, _ in ROWS:
        writer.writerow([_cell(c, today) for c in cells])
    return out.getvalue()


def expected() -> list[tuple[int, str]]:
    """(row as a spreadsheet numbers it, expected outcome) for every row of the sample."""
    return [(i + 2, outcome) for i, (_, outcome) in enumerate(ROWS)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    args.output.write_text(render(args.today), encoding="utf-8")
    print(f"wrote {args.output} ({len(ROWS)} rows, review dates from {args.today})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
