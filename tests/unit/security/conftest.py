"""Callers, children and helpers for the security unit tests (logic over the in-memory fakes)."""

from __future__ import annotations

from typing import Any

import pytest
from signpost.logic import records, search
from signpost.logic.services import Services
from signpost.models.children import RegisterRequest
from signpost.models.search import SearchRequest, SearchResult

from tests.unit.logic.conftest import AMELIA, CAMDEN, caller, register_body, search_body
from tests.unit.logic.fakes import FakeStore, make_services

HACKNEY_MANAGER = caller("E09000012", "la_manager", "hackney-mgr-1")
SCHOOL = caller("URN-100050", "education", "dsl-1")
POLICE_2 = caller("E23000001", "police", "mps-officer-2")
ADMIN = caller("NATIONAL", "admin", "admin-1")
JUSTIFICATION = "Child presented at A&E out of hours with injuries; duty manager must reach the LA now."


@pytest.fixture
def env() -> tuple[Services, FakeStore, Any, Any]:
    return make_services()


def register(services: Services, who: Any = CAMDEN, identity: dict[str, Any] = AMELIA, **extra: Any) -> str:
    result = records.register(
        services, who, RegisterRequest.model_validate(register_body(identity, **extra)), None
    )
    return str(result.body["child_id"])


def do_search(services: Services, who: Any, identity: dict[str, Any] = AMELIA, **extra: Any) -> SearchResult:
    if who.is_police and "reason" not in extra:
        extra = {"reason": "police_enquiry", "case_reference": "CAD-1234/26", **extra}
    body = search_body(identity, **extra)
    return search.search(services, who, SearchRequest.model_validate(body))
