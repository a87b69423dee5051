from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from signpost.authz import Caller
from signpost.models.common import OrgType, Role

from tests.unit.logic.fakes import FakeDirectory, make_services

_DIRECTORY = FakeDirectory()


def caller(org: str, role: str, sub: str = "practitioner-1") -> Caller:
    entry = _DIRECTORY.get(org)
    assert entry is not None
    return Caller(
        sub=sub,
        org=org,
        role=Role(role),
        org_type=OrgType(entry.type),
        org_name=entry.name,
        area=entry.area,
        sensitive_service=entry.sensitive_service,
    )


CAMDEN = caller("E09000007", "la_practitioner", "camden-sw-1")
CAMDEN_MANAGER = caller("E09000007", "la_manager", "camden-mgr-1")
HACKNEY = caller("E09000012", "la_practitioner", "hackney-sw-1")
ROYAL_FREE = caller("RAL", "health", "rf-nurse-1")
CLINIC = caller("RAL-SH1", "health", "clinic-nurse-1")
POLICE = caller("E23000001", "police", "mps-officer-1")
AUDITOR = caller("NATIONAL", "auditor", "auditor-1")

# Fictional children. Tests check that none of these values leaks.
AMELIA = {
    "given_names": "Amélia",
    "family_name": "O'Connor-Smith",
    "date_of_birth": "2015-03-14",
    "sex": "female",
    "nhs_number": "9434765919",
    "postcode": "nw1 2ab",
}
OLIVER = {"given_names": "Oliver", "family_name": "Brennan", "date_of_birth": "2012-07-01"}


def register_body(identity: dict[str, Any], **extra: Any) -> dict[str, Any]:
    review = (dt.date(2026, 11, 27) + dt.timedelta(days=180)).isoformat()
    return {**identity, "categories": ["child_protection_plan"], "review_by": review, **extra}


def search_body(
    identity: dict[str, Any], reason: str = "safeguarding_concern", **extra: Any
) -> dict[str, Any]:
    fields = {k: v for k, v in identity.items() if k != "other_names"}
    return {**fields, "reason": reason, **extra}


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    return make_services()
