"""Bulk import helpers for tests and benchmarks: synthetic import files, and an in-process
importer that uploads through the imports handler and feeds the queue to the worker handler.

Every person here is made up: names are built from syllables (never a real name list), NHS
numbers are in the 999 test range with a valid check digit.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from signpost.authz import Caller
from signpost.logic.import_csv import COLUMNS
from signpost.models.identity import nhs_number_is_valid

from infrastructure.local.aws import LocalAws
from infrastructure.local.queue import LocalQueue
from tests.support.lambda_events import LambdaResponse, caller, invoke, make_event

CAMDEN = caller("E09000007", "la_practitioner", "camden-sw-1")
_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "vo", "ri", "ze", "po", "du", "fe", "gi", "ho", "ju", "wy")


def nhs_test_numbers() -> Iterator[str]:
    """Valid NHS numbers from the 999 test range, in order."""
    for n in range(1_000_000):
        base = f"999{n:06d}"
        for check in range(10):
            if nhs_number_is_valid(base + str(check)):
                yield base + str(check)
                break


def review_by(days: int = 120) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def fake_rows(count: int, seed: int = 7, prefix: str = "L") -> list[dict[str, str]]:
    """`count` distinct made-up children, as import rows (every column filled)."""
    rng = random.Random(seed)
    numbers = nhs_test_numbers()
    rows = []
    for i in range(count):
        given = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
        family = "Test" + "".join(rng.choice(_SYLLABLES) for _ in range(3)) + _SYLLABLES[i % 16]
        born = dt.date(2009, 1, 1) + dt.timedelta(days=rng.randrange(0, 15 * 365))
        rows.append(
            {
                "local_id": f"{prefix}-{i:06d}",
                "given_names": given,
                "family_name": family,
                "date_of_birth": born.isoformat(),
                "sex": rng.choice(("female", "male", "not_known")),
                "nhs_number": next(numbers),
                "postcode": f"ZZ{rng.randrange(1, 99)} {rng.randrange(1, 9)}ZZ",
                "categories": rng.choice(
                    ("child_in_need", "looked_after;child_protection_plan", "domestic_abuse")
                ),
                "review_by": review_by(rng.randrange(30, 300)),
            }
        )
    return rows


def to_csv(rows: Iterable[dict[str, str]], columns: Iterable[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


@dataclass
class Importer:
    """Upload through the imports handler; run the queue through the worker handler (in process)."""

    aws: LocalAws

    def __post_init__(self) -> None:
        self.queue = LocalQueue(self.aws)

    def upload(self, data: bytes, who: Caller = CAMDEN, content_type: str = "text/csv") -> LambdaResponse:
        event = make_event("POST", "/v1/imports", data, who, headers={"Content-Type": content_type})
        response: LambdaResponse = invoke("imports", event)
        return response

    def run(self, max_invocations: int = 100_000) -> int:
        return self.queue.drain(lambda event: invoke("import_worker", event), max_invocations)

    def view(self, import_id: str, who: Caller = CAMDEN, **query: str) -> LambdaResponse:
        response: LambdaResponse = invoke(
            "imports", make_event("GET", f"/v1/imports/{import_id}", None, who, query=query or None)
        )
        return response

    def report(self, import_id: str, who: Caller = CAMDEN, limit: int = 1000) -> dict[str, Any]:
        """The import's view with every page of rejects and duplicates."""
        first = self.view(import_id, who, limit=str(limit))
        assert first.status == 200, first.json()
        report: dict[str, Any] = first.json()
        cursor = report.pop("cursor", None)
        while cursor:
            page = self.view(import_id, who, limit=str(limit), cursor=cursor).json()
            report["rejects"] += page["rejects"]
            report["duplicates_detail"] += page["duplicates_detail"]
            cursor = page.get("cursor")
        return report

    def import_file(self, data: bytes, who: Caller = CAMDEN) -> dict[str, Any]:
        accepted = self.upload(data, who)
        assert accepted.status == 202, accepted.json()
        self.run()
        return self.report(accepted.json()["import_id"], who)
