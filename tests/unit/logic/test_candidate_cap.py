"""The candidate cap: blocks crowded past `max_candidates` never cost the search its child.

Each scenario fills the blocks a search reads with more children than the cap, the
child searched for registered last, and checks that the search still names it.
"""

from __future__ import annotations

import datetime as dt

from signpost.logic import records, search
from signpost.models.children import CloseRequest, RegisterRequest
from signpost.models.common import Outcome
from signpost.models.search import SearchRequest
from signpost.settings import Settings

from tests.unit.logic.conftest import CAMDEN, ROYAL_FREE, register_body, search_body

CAP = 5
FAMILY = {"family_name": "Hartley", "date_of_birth": "2014-05-09", "postcode": "NW1 2AB"}
# Brothers and sisters (and twins) sharing family name, date of birth and postcode: they share
# the postcode/date, family/date and postcode/family blocks, and differ in given name only.
SIBLINGS = ["Ava", "Bella", "Cora", "Daisy", "Edith", "Flora", "Gemma", "Hazel"]
TARGET = {"given_names": "Zebedee", **FAMILY, "sex": "male", "nhs_number": "9434765919"}


def _capped(env):  # type: ignore[no-untyped-def]
    services, store, _, _ = env
    services.settings = Settings(MAX_CANDIDATES=CAP)
    return services, store


def _register(services, identity):  # type: ignore[no-untyped-def]
    body = register_body(identity)
    return records.register(services, CAMDEN, RegisterRequest.model_validate(body), None).body["child_id"]


def _search(services, identity):  # type: ignore[no-untyped-def]
    return search.search(services, ROYAL_FREE, SearchRequest.model_validate(search_body(identity)))


def _crowd(services) -> None:  # type: ignore[no-untyped-def]
    for given in SIBLINGS:
        _register(services, {"given_names": given, **FAMILY})


def test_candidate_cap_still_finds_an_exact_nhs_number_in_a_crowded_block(env):
    services, _ = _capped(env)
    _crowd(services)
    target = _register(services, TARGET)
    # A misspelt given name: only the NHS number singles the child out.
    result = _search(services, {**TARGET, "given_names": "Zebadiah"})
    assert result.outcome == Outcome.MATCH
    assert [s.child_id for s in result.signposts] == [target]


def test_candidate_cap_still_finds_an_exact_identity_in_a_crowded_block(env):
    services, _ = _capped(env)
    _crowd(services)
    target = _register(services, TARGET)
    without_nhs = {k: v for k, v in TARGET.items() if k != "nhs_number"}
    result = _search(services, without_nhs)
    assert result.outcome == Outcome.MATCH
    assert [s.child_id for s in result.signposts] == [target]


def test_records_no_longer_findable_never_take_a_candidate_slot(env):
    services, _ = _capped(env)
    start = dt.datetime(2024, 1, 10, 9, 0, tzinfo=dt.UTC)
    services.now = lambda: start
    for given in SIBLINGS:
        child_id = _register(services, {"given_names": given, **FAMILY})
        records.close_child(services, CAMDEN, child_id, CloseRequest(reason="moved_abroad"))
    # Two years on: closed long past closed_findable_days, still in their blocks until delisted.
    services.now = lambda: start + dt.timedelta(days=730)
    target = _register(services, {"given_names": "Zebedee", **FAMILY})
    result = _search(services, {"given_names": "Zebedee", **FAMILY})
    assert result.outcome == Outcome.MATCH
    assert [s.child_id for s in result.signposts] == [target]


def test_closed_records_never_take_the_slot_an_active_child_needs(env):
    services, _ = _capped(env)
    same = {"given_names": "Zebedee", **FAMILY}
    for _ in range(CAP + 2):  # registered in error, again and again: findable, closed
        child_id = _register(services, same)
        records.close_child(services, CAMDEN, child_id, CloseRequest(reason="registered_in_error"))
    active = _register(services, same)
    result = _search(services, same)
    # Every candidate agrees as well as the next: the active one must be among them, and first.
    assert result.signposts
    assert result.signposts[0].child_id == active
    assert result.signposts[0].status == "active"
