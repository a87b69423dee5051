"""API tests: shared personas and helpers, and the PII ledger behind tests/api/test_pii_leak.py.

The ledger watches every test in tests/api, whoever wrote it:

- identities: every identity value a test sends through ``LocalStack.request`` (names,
  date of birth, NHS number, postcode, aliases), taken from the request bodies;
- outputs: everything the process wrote while the test ran - pytest's captured
  stdout/stderr/log sections for setup, call and teardown (handler logs, the gateway's
  request log, Powertools' EMF metrics, which are printed to stdout), every error body
  (status >= 400) any test received, and every message published to the local stack's
  SNS topic (read from moto after each test).

test_pii_leak.py's final test (moved to the very end of the session) checks that no
identity value appears in any output.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import random
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests
from moto.sns.models import sns_backends

from infrastructure.local.aws import ACCOUNT_ID, REGION
from tests.support.stack import LocalStack

IDENTITY_FIELDS = ("given_names", "family_name", "date_of_birth", "nhs_number", "postcode")
FINAL_CHECK = "test_no_identity_reaches_any_log_metric_sns_message_or_error_body"
MIN_PART = 4  # name parts shorter than this are too common to be evidence of a leak


@dataclass
class PiiLedger:
    identities: dict[str, str] = field(default_factory=dict)  # value -> test that used it
    outputs: list[tuple[str, str, str]] = field(default_factory=list)  # (test, kind, text)
    sns_seen: set[str] = field(default_factory=set)
    tests_seen: set[str] = field(default_factory=set)

    def add_identity_values(self, test: str, body: Any) -> None:
        for value in identity_values(body):
            self.identities.setdefault(value, test)

    def add_output(self, test: str, kind: str, text: str) -> None:
        if text:
            self.outputs.append((test, kind, text))

    def kinds(self) -> set[str]:
        return {kind for _, kind, _ in self.outputs}

    def unscannable(self) -> set[str]:
        """Values that are words of the public reference data (directory, API document): finding
        them in an output (e.g. 'Example' in a directory e-mail) would prove nothing."""
        return {value for value in self.identities if _pattern(value).search(_public_text())}

    def hits(self) -> list[tuple[str, str, str, str]]:
        """(value, test that used it, test whose output has it, kind of output)."""
        skip = self.unscannable()
        patterns = {value: _pattern(value) for value in self.identities if value not in skip}
        found = []
        for test, kind, text in self.outputs:
            for value, pattern in patterns.items():
                if pattern.search(text):
                    found.append((value, self.identities[value], test, kind))
        return found


def identity_values(body: Any) -> set[str]:
    """The identity values in a request body, in every form a leak could take."""
    values: set[str] = set()
    if isinstance(body, list):
        for item in body:
            values |= identity_values(item)
        return values
    if not isinstance(body, dict):
        return values
    for name in IDENTITY_FIELDS:
        value = body.get(name)
        if isinstance(value, str) and value.strip():
            values |= _forms(name, value.strip())
    for alias in body.get("other_names") or []:
        if isinstance(alias, dict):
            values |= identity_values(alias)
    return values


def csv_rows(data: Any) -> list[dict[str, str]]:
    """The rows of a CSV body (an import upload) as dicts; [] for anything else."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not isinstance(data, str) or "\n" not in data:
        return []
    rows: list[dict[str, str]] = []
    with suppress(csv.Error):  # a deliberately broken body: the rows before the break still count
        rows.extend(csv.DictReader(io.StringIO(data)))
    return rows


def _forms(name: str, value: str) -> set[str]:
    forms = {value}
    if name in ("given_names", "family_name"):
        forms |= {p for p in re.split(r"[\s\-']+", value) if len(p) >= MIN_PART}
    elif name == "nhs_number":
        digits = re.sub(r"\D", "", value)
        forms |= {digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}"}
    elif name == "postcode":
        compact = re.sub(r"\s+", "", value).upper()
        forms |= {compact, f"{compact[:-3]} {compact[-3:]}"}
    elif name == "date_of_birth":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return forms
        forms |= {day.strftime("%d/%m/%Y"), day.strftime("%Y%m%d")}
    return {f for f in forms if len(f) >= MIN_PART}


def _pattern(value: str) -> re.Pattern[str]:
    """Case-insensitive, whole-word, raw or JSON-escaped (é → \\u00e9)."""
    escaped = json.dumps(value).strip('"')
    alternatives = {re.escape(value), re.escape(escaped)}
    return re.compile(r"(?<![\w\\])(?:" + "|".join(sorted(alternatives)) + r")(?!\w)", re.IGNORECASE)


@cache
def _public_text() -> str:
    root = Path(__file__).resolve().parents[2]
    return "\n".join(
        path.read_text(encoding="utf-8")
        for path in (
            root / "infrastructure" / "seed" / "organisations.json",
            root / "layers" / "signpost" / "signpost" / "openapi.json",
        )
    )


LEDGER = PiiLedger()


# ---------------------------------------------------------------- the plugin hooks


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[Any]) -> None:
    """The final leak check runs after every other test of the session."""
    final = [i for i in items if i.name == FINAL_CHECK]
    if final:
        items[:] = [i for i in items if i.name != FINAL_CHECK] + final


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # The teardown report carries the captured sections of all three phases (and a
    # module-scoped fixture's output lands in the first or last test that used it).
    if report.when != "teardown":
        return
    LEDGER.tests_seen.add(report.nodeid)
    for title, content in report.sections:
        kind = title.split()[1]  # stdout | stderr | log
        lines = content.splitlines()
        metrics = [line for line in lines if '"_aws"' in line]  # Powertools EMF, printed to stdout
        LEDGER.add_output(report.nodeid, "metrics", "\n".join(metrics))
        LEDGER.add_output(report.nodeid, kind, "\n".join(line for line in lines if '"_aws"' not in line))


@pytest.fixture(autouse=True)
def _pii_ledger(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Record this test's identity values and error bodies, and afterwards the SNS messages."""
    test = request.node.nodeid
    original = LocalStack.request

    def recording(self: LocalStack, method: str, path: str, json: Any = None, *args: Any, **kwargs: Any):
        LEDGER.add_identity_values(test, json)
        LEDGER.add_identity_values(test, csv_rows(kwargs.get("data")))  # an import upload
        response: requests.Response = original(self, method, path, json, *args, **kwargs)
        if response.status_code >= 400:
            LEDGER.add_output(test, "error_body", response.text)
        return response

    monkeypatch.setattr(LocalStack, "request", recording)
    yield
    if "local_stack" in request.fixturenames:
        _record_sns(test, request.getfixturevalue("local_stack"))


def _record_sns(test: str, stack: LocalStack) -> None:
    topic = sns_backends[ACCOUNT_ID][REGION].topics.get(stack.aws.topic_arn)
    for sent in getattr(topic, "sent_notifications", []):
        message_id, message, subject = sent[0], sent[1], sent[2]
        if message_id not in LEDGER.sns_seen:
            LEDGER.sns_seen.add(message_id)
            LEDGER.add_output(test, "sns", f"{subject}\n{message}")


# ---------------------------------------------------------------- personas and helpers

Persona = tuple[str, str, str]  # (org, role, sub)

CAMDEN: Persona = ("E09000007", "la_practitioner", "camden-sw-1")
CAMDEN_MANAGER: Persona = ("E09000007", "la_manager", "camden-mgr-1")
HACKNEY: Persona = ("E09000012", "la_practitioner", "hackney-sw-1")
HACKNEY_MANAGER: Persona = ("E09000012", "la_manager", "hackney-mgr-1")
BIRMINGHAM: Persona = ("E08000025", "la_practitioner", "brum-sw-1")
BIRMINGHAM_MANAGER: Persona = ("E08000025", "la_manager", "brum-mgr-1")
ROYAL_FREE: Persona = ("RAL", "health", "rf-nurse-1")
CLINIC: Persona = ("RAL-SH1", "health", "clinic-nurse-1")
SCHOOL: Persona = ("URN-100050", "education", "dsl-1")
POLICE: Persona = ("E23000001", "police", "mps-officer-1")
AUDITOR: Persona = ("NATIONAL", "auditor", "auditor-1")
ADMIN: Persona = ("NATIONAL", "admin", "admin-1")
EVERYONE: dict[str, Persona] = {
    "camden_practitioner": CAMDEN,
    "camden_manager": CAMDEN_MANAGER,
    "hackney_practitioner": HACKNEY,
    "hackney_manager": HACKNEY_MANAGER,
    "health": ROYAL_FREE,
    "sensitive_health": CLINIC,
    "education": SCHOOL,
    "police": POLICE,
    "auditor": AUDITOR,
    "admin": ADMIN,
}
JUSTIFICATION = "Child brought to A&E at 02:00 with injuries; the duty manager needs the case worker."


_FRESH = itertools.count(1)
_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "vo", "ri", "ze", "po", "du", "fe", "gi", "ho", "ju", "wy")


def fictional_identity() -> dict[str, str]:
    """A made-up child unlike any other this session (names from a counter, never a real name)."""
    n = next(_FRESH)
    rng = random.Random(n)
    given = "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()
    family = "".join(rng.choice(_SYLLABLES) for _ in range(4)).capitalize() + _SYLLABLES[n % 16]
    born = dt.date(2009, 1, 1) + dt.timedelta(days=rng.randrange(0, 11 * 365))
    return {"given_names": given, "family_name": family, "date_of_birth": born.isoformat()}


def review_by(days: int = 120) -> str:
    return (dt.date.today() + dt.timedelta(days=days)).isoformat()


def search_reason(persona: Persona) -> dict[str, str]:
    if persona[1] == "police":
        return {"reason": "police_enquiry", "case_reference": "CAD-4411/26"}
    return {"reason": "safeguarding_concern"}


class Api:
    """A thin client over the local stack for the attack tests: personas instead of tokens."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack

    def call(
        self, persona: Persona | None, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> requests.Response:
        token = self.stack.token(*persona) if persona else None
        return self.stack.request(method, path, body, token, **kwargs)

    def register(self, identity: dict[str, Any], persona: Persona = CAMDEN, **extra: Any) -> str:
        body = {**identity, "categories": ["child_protection_plan"], "review_by": review_by(), **extra}
        response = self.call(persona, "POST", "/v1/children", body)
        assert response.status_code == 201, response.text
        return str(response.json()["child_id"])

    def search(self, identity: dict[str, Any], persona: Persona, **extra: Any) -> requests.Response:
        fields = {k: v for k, v in identity.items() if k != "other_names"}
        return self.call(persona, "POST", "/v1/searches", {**fields, **search_reason(persona), **extra})


@pytest.fixture(scope="module")
def api(local_stack: LocalStack) -> Api:
    return Api(local_stack)
